"""Requests as the bot sends them: form, multipart or JSON bodies, decoded and recorded."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Form fields that carry free text: never decode them as JSON ("42" stays a string).
FREE_TEXT_FIELDS = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "secret_token",
        "short_description",
        "text",
        "url",
    }
)


@dataclass
class RecordedRequest:
    """One call the bot made: ``params`` decoded from the form, ``files`` as (filename, bytes)."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 0  # the HTTP status the simulator answered; 0 while none (or none ever)
    fault: str | None = None  # the random fault injected into this call (a Fault)
    # time.monotonic() when it arrived: the system-wide clock, so another process (the bot's
    # parent in bench.startup) can set it against its own readings.
    at: float = field(default_factory=time.monotonic)


@dataclass
class Upload:
    filename: str
    data: bytes
    content_type: str


async def read_body(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The parameters as sent (text for a form, JSON values for a JSON body) and the uploads."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="a JSON body must be an object")
        raw.update(body)
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[name] = Upload(value.filename, value.file.read(), value.content_type)
            else:
                raw[name] = value
    return raw, uploads


def decode_form_value(name: str, value: Any) -> Any:
    """A form carries every value as text: numbers, booleans and objects are JSON in it."""
    if not isinstance(value, str) or name in FREE_TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def as_int(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return default
