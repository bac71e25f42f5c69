"""What the bot's log may say: never the token, and nobody's words unless asked for.

The token is in every Bot API URL, so python-telegram-bot puts it in its DEBUG lines and
quotes it in the error a rejected token raises. Patients' names, numbers and messages reach
the log inside the Telegram objects and Bot API payloads those libraries log whole at
DEBUG. Both are dealt with here, at the formatter, so that no library's log call needs to
be known or changed: the token is cut out of the final text, tracebacks included, and the
structured arguments of a record lose their text before it is formatted.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from telegram import TelegramObject

TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
TOKEN_MARK = "<token>"
# French numbers as people type them (06 12 34 56 78, 06.12.34.56.78) and international
# ones (+33 6 12 34 56 78): a log line written by the bot's own code may still quote one.
PHONE_SHAPE = re.compile(
    r"(?<![\w.+])(?:0[1-9](?:[ .-]?\d{2}){4}|\+\d{1,3}(?:[ .-]?\d){6,14})(?!\w)"
)
PHONE_MARK = "<phone>"

# Strings that say how a Telegram object is built, never what somebody wrote: kept so that
# a DEBUG log still shows what happened. Callback data is the bot's own (ids and codes).
STRUCTURAL_KEYS = frozenset(
    {
        "type",
        "language_code",
        "parse_mode",
        "data",
        "callback_data",
        "callback_query_id",
        "command",
        "allowed_updates",
        "status",
        "mime_type",
        "id",
        "chat_instance",
        "file_id",
        "file_unique_id",
    }
)
_PLAIN = (bool, int, float, type(None), dt.date, dt.time, dt.timedelta, enum.Enum)


class SafeFormatter(logging.Formatter):
    """A formatter whose output holds none of ``secrets`` nor anything shaped like a bot
    token; with ``content`` False, no text from Telegram objects and payloads either."""

    def __init__(self, fmt: str | None = None, *, secrets: Iterable[str] = (), content: bool):
        super().__init__(fmt)
        # A token may also travel percent-encoded, in a query string or a form.
        forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""))}
        self._secrets = sorted(forms, key=len, reverse=True)
        self._content = content

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the traceback text the base class caches on the record stays on ours, and
        # other handlers of the same record see it as it was.
        record = logging.makeLogRecord(record.__dict__)
        if not self._content:
            record.msg = record.msg if isinstance(record.msg, str) else _scrub_argument(record.msg)
            record.args = _scrub_arguments(record.args)
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, TOKEN_MARK)
        text = TOKEN_SHAPE.sub(TOKEN_MARK, text)
        if not self._content:
            text = PHONE_SHAPE.sub(PHONE_MARK, text)
        return text


@dataclass(frozen=True)
class _Scrubbed:
    """A Telegram object without its text, shown as the object shows itself."""

    kind: str
    fields: object

    def __repr__(self) -> str:
        return f"{self.kind}({self.fields!r})"

    __str__ = __repr__


def _scrub_arguments(args: object) -> object:
    if isinstance(args, Mapping):
        return {key: _scrub_argument(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(_scrub_argument(value) for value in args)
    return args


def _scrub_argument(value: object) -> object:
    """A log call's own argument: a string or an exception is the caller's to word (they are
    the bot's messages, ids, Telegram's error texts); Telegram's data is taken apart."""
    if isinstance(value, TelegramObject | Mapping | list | tuple | set | frozenset | bytes):
        return _scrub(value, None)
    if isinstance(value, functools.partial):
        # aiosqlite logs every statement as the call it queues: the SQL is the bot's own and
        # says what happened; the bound parameters are what people wrote.
        args = list(value.args)
        shown = [repr(args.pop(0))] if args and isinstance(args[0], str) else []
        shown += [str(_scrub(arg, None)) for arg in args]
        return f"{getattr(value.func, '__name__', 'call')}({', '.join(shown)})"
    if isinstance(value, str) and value[:1] in ("{", "["):
        # A raw payload, as a webhook receives it.
        try:
            return _scrub(json.loads(value), None)
        except ValueError:
            return value
    return value


def _scrub(value: object, key: str | None) -> object:
    if isinstance(value, TelegramObject):
        return _Scrubbed(type(value).__name__, _scrub(value.to_dict(recursive=True), key))
    if isinstance(value, Mapping):
        return {name: _scrub(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item, key) for item in value]
    if isinstance(value, str):
        return value if key in STRUCTURAL_KEYS else f"<{len(value)} chars>"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, _PLAIN):
        return value
    # An upload, a dataclass...: its repr may hold anything.
    return f"<{type(value).__name__}>"
