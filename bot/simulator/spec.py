"""Check Bot API requests against Telegram's machine-readable specification.

The specification (``bot-api-10.0.json``, from PaulSonOfLars/telegram-bot-api-spec, shipped in
``botapi/`` with its MIT licence) lists every method and type with its fields. Each field has
``types`` (``"Integer"``, ``"String"``, ``"Boolean"``, ``"Float"``, ``"Array of X"`` or an object
type's name), ``required`` and a ``description`` where Telegram writes length limits in prose
("1-64 bytes"). Union types such as ``BotCommandScope`` list their ``subtypes``, which say which
one they are with a constant field ("Scope type, must be chat").

:class:`BotApiSpec` turns that into the checks a careful Bot API server would make: the method
exists, required fields are present, no unknown field is sent, every value has one of the
field's types and respects the length limits. It knows nothing of HTTP: the caller hands it the
parameters as received (strings from a form, or JSON values) and the names of uploaded files.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = ["BotApiSpec", "find_spec", "load_spec"]

SPEC_FILENAME = "bot-api-10.0.json"

_ARRAY_PREFIX = "Array of "
_PRIMITIVES = frozenset({"Integer", "String", "Boolean", "Float"})
_LENGTH_LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)", re.IGNORECASE)
# "Scope type, must be chat" (request types) / 'always "emoji"' (response types).
_CONSTANT = re.compile(r"""(?:must be|always) ["“]?([a-z_]+)["”]?""")
_INTEGER_TEXT = re.compile(r"-?\d+")
_ATTACH_PREFIX = "attach://"


def find_spec() -> Traversable | None:
    """The spec shipped in the package (``bot/simulator/botapi/``); None if the install lost it."""
    spec = resources.files("bot.simulator") / "botapi" / SPEC_FILENAME
    return spec if spec.is_file() else None


@functools.cache
def load_spec(path: Traversable | str) -> BotApiSpec:
    """Load and cache the spec: the file is 850 KB and every test would otherwise re-read it."""
    source = Path(path) if isinstance(path, str) else path
    return BotApiSpec(json.loads(source.read_text(encoding="utf-8")))


class BotApiSpec:
    """The methods and types of one Bot API version, and checks of values against them."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data.get("version", "")
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): method for name, method in data["methods"].items()}
        self._types: Mapping[str, Any] = data["types"]
        self._constants = {name: _constant_fields(spec) for name, spec in self._types.items()}

    def method_name(self, method: str) -> str | None:
        """The canonical spelling of ``method`` (``"sendmessage"`` -> ``"sendMessage"``)."""
        found = self._methods.get(method.lower())
        return found["name"] if found else None

    def validate_request(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Collection[str] = (),
    ) -> list[str]:
        """Return what is wrong with a request, as readable problems (empty when valid).

        ``params`` holds the values as received: strings for a form or multipart body (where
        objects arrive JSON-encoded and numbers as text), JSON values for a JSON body.
        ``files`` names the uploaded multipart parts.
        """
        spec = self._methods.get(method.lower())
        if spec is None:
            return [f"unknown method {method!r}"]
        fields = {field["name"]: field for field in spec.get("fields", [])}
        attached = _attach_names(params.values())
        problems = [
            f"{name}: unknown field"
            for name in [*params, *files]
            if name not in fields and name not in attached
        ]
        for name, field in fields.items():
            if name in files:
                if "InputFile" not in field["types"]:
                    problems.append(f"{name}: a file upload is not accepted here")
            elif name in params:
                problems += self._check_form_value(name, field, params[name], files)
            elif field["required"]:
                problems.append(f"{name}: required field is missing")
        problems += [
            f"attach://{name}: no file was uploaded under that name"
            for name in attached
            if name not in files
        ]
        return problems

    def validate_object(self, type_name: str, value: Any) -> list[str]:
        """Return what is wrong with ``value`` as an instance of the spec type ``type_name``."""
        return self._check_value(type_name, [type_name], value, files=())

    # Form values ---------------------------------------------------------------------------

    def _check_form_value(
        self,
        path: str,
        field: Mapping[str, Any],
        raw: Any,
        files: Collection[str],
    ) -> list[str]:
        """Check a top-level value, which a form carries as text whatever its type."""
        types: Sequence[str] = field["types"]
        if not isinstance(raw, str):  # a JSON body: the value is already typed
            return self._check_value(path, types, raw, files, field)
        for type_name in types:
            if type_name == "String":
                return _check_length(path, field, raw)
            if _form_text_is(type_name, raw, files):
                return []
        structured = [t for t in types if t not in _PRIMITIVES and t != "InputFile"]
        if structured:
            try:
                decoded = json.loads(raw)
            except ValueError:
                return [f"{path}: expected JSON-serialized {' or '.join(structured)}, got {raw!r}"]
            return self._check_value(path, structured, decoded, files, field)
        return [f"{path}: expected {' or '.join(types)}, got {raw!r}"]

    # Typed values --------------------------------------------------------------------------

    def _check_value(
        self,
        path: str,
        types: Sequence[str],
        value: Any,
        files: Collection[str],
        field: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Check ``value`` against the first of ``types`` whose kind it has."""
        for type_name in types:
            if type_name.startswith(_ARRAY_PREFIX) and isinstance(value, list):
                item_type = type_name.removeprefix(_ARRAY_PREFIX)
                return [
                    problem
                    for index, item in enumerate(value)
                    for problem in self._check_value(f"{path}[{index}]", [item_type], item, files)
                ]
            if type_name == "String" and isinstance(value, str):
                return _check_length(path, field, value) if field else []
            if type_name == "InputFile" and isinstance(value, str) and value.startswith("attach"):
                return _check_attach(path, value, files)
            if isinstance(value, str) and self._accepts_plain_text(type_name):
                return []
            if _primitive_is(type_name, value):
                return []
        objects = [t for t in types if t in self._types and t != "InputFile"]
        if objects and isinstance(value, dict):
            return self._check_union(path, objects, value, files)
        return [f"{path}: expected {' or '.join(types)}, got {json.dumps(value)[:80]}"]

    def _check_union(
        self, path: str, type_names: Sequence[str], value: dict[str, Any], files: Collection[str]
    ) -> list[str]:
        """Check an object against the candidate type it most resembles.

        Several types can be allowed (``reply_markup`` is one of four keyboards) and a type can
        be a union of subtypes. The constant fields ("must be chat") pick a subtype; otherwise
        the candidate whose fields best match the object's keys is the one the sender meant,
        so its problems are the useful ones to report.
        """
        candidates = [c for name in type_names for c in self._concrete_types(name)]
        constant_ok = [c for c in candidates if self._constants_match(c, value)]
        if not constant_ok:
            expected = sorted({v for c in candidates for v in self._constants[c].values()})
            return [f"{path}: not a {' or '.join(type_names)}, whose kinds are {expected}"]
        best = min(constant_ok, key=lambda name: self._shape_distance(name, value))
        return self._check_object(path, best, value, files)

    def _check_object(
        self, path: str, type_name: str, value: dict[str, Any], files: Collection[str]
    ) -> list[str]:
        spec = self._types[type_name]
        if "fields" not in spec:  # an empty placeholder type such as CallbackGame
            return []
        fields = {field["name"]: field for field in spec["fields"]}
        problems = [
            f"{path}.{key}: unknown field of {type_name}" for key in value if key not in fields
        ]
        for name, field in fields.items():
            if name in value:
                problems += self._check_value(
                    f"{path}.{name}", field["types"], value[name], files, field
                )
            elif field["required"]:
                problems.append(f"{path}.{name}: required field of {type_name} is missing")
        return problems

    # Type helpers --------------------------------------------------------------------------

    def _concrete_types(self, type_name: str) -> list[str]:
        subtypes = self._types.get(type_name, {}).get("subtypes")
        if not subtypes:
            return [type_name]
        return [c for subtype in subtypes for c in self._concrete_types(subtype)]

    def _accepts_plain_text(self, type_name: str) -> bool:
        """KeyboardButton: "For simple text buttons, String can be used instead of this object"."""
        description = " ".join(self._types.get(type_name, {}).get("description", []))
        return "String can be used instead of this object" in description

    def _constants_match(self, type_name: str, value: dict[str, Any]) -> bool:
        return all(
            value.get(name) == constant for name, constant in self._constants[type_name].items()
        )

    def _shape_distance(self, type_name: str, value: dict[str, Any]) -> int:
        """How many keys are foreign to the type plus how many required fields are missing."""
        fields = self._types[type_name].get("fields", [])
        names = {field["name"] for field in fields}
        missing = sum(1 for f in fields if f["required"] and f["name"] not in value)
        return missing + sum(1 for key in value if key not in names)


def _constant_fields(type_spec: Mapping[str, Any]) -> dict[str, str]:
    """The fields whose value is fixed for a type, e.g. ``{"type": "chat"}``."""
    constants = {}
    for field in type_spec.get("fields", []):
        match = _CONSTANT.search(field["description"])
        if field["types"] == ["String"] and match:
            constants[field["name"]] = match.group(1)
    return constants


def _primitive_is(type_name: str, value: Any) -> bool:
    # bool is an int in Python, never in JSON.
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    return False


def _form_text_is(type_name: str, raw: str, files: Collection[str]) -> bool:
    """Whether form text is a valid encoding of a scalar of ``type_name``."""
    if type_name == "Integer":
        return _INTEGER_TEXT.fullmatch(raw) is not None
    if type_name == "Float":
        try:
            float(raw)
        except ValueError:
            return False
        return True
    if type_name == "Boolean":
        return raw in ("true", "false")
    if type_name == "InputFile":
        return raw.startswith(_ATTACH_PREFIX) and raw.removeprefix(_ATTACH_PREFIX) in files
    return False


def _check_attach(path: str, value: str, files: Collection[str]) -> list[str]:
    if value.startswith(_ATTACH_PREFIX) and value.removeprefix(_ATTACH_PREFIX) in files:
        return []
    return [f"{path}: expected attach://<name> of an uploaded file, got {value!r}"]


def _attach_names(values: Collection[Any]) -> set[str]:
    """Names of the multipart parts referred to as ``attach://<name>``, even inside JSON."""
    text = " ".join(v if isinstance(v, str) else json.dumps(v) for v in values)
    return set(re.findall(r"attach://([\w.-]+)", text))


def _check_length(path: str, field: Mapping[str, Any], value: str) -> list[str]:
    """Apply an "N-M characters" / "N-M bytes" limit written in the field's description."""
    description = field["description"]
    match = _LENGTH_LIMIT.search(description)
    # "1-4096 characters after entities parsing" limits the text once its HTML or Markdown is
    # parsed: the server that parses it checks that (and answers "message text is empty").
    if match is None or "after entities parsing" in description[match.end() :]:
        return []
    low, high, unit = int(match.group(1)), int(match.group(2)), match.group(3).lower()
    size = len(value.encode("utf-8")) if unit == "bytes" else len(value)
    if low <= size <= high:
        return []
    return [f"{path}: {size} {unit}, must be {low}-{high} {unit}"]
