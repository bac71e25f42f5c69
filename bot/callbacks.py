"""Callback data, read in one place: what each button the bot makes carries, and nothing else.

Anyone can send any callback data: Telegram delivers what a client says was tapped, and a
client can say anything (up to 64 bytes). So each button's data is read against the one
grammar the bot writes, into typed values already bounded to what the rest of the bot can
take: an id SQLite can store, a moment and a day inside the years the bot books, a key that
could name a service. What does not read is no button of this bot: ``parse`` says None and
``read`` raises ``BadCallback``, and the tap ends as a "this button has expired".

A template is ``:``-separated tokens; ``{name}`` is a typed field, ``{name?}`` the same or
``-`` for none, anything else a literal. A route is named by its literals (``rdv:{flow}:s``
is ``rdv:s``), so the handler of ``req:ok`` and that of ``req:no`` can be told apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

__all__ = [
    "MAX_ID",
    "ROUTES",
    "TEMPLATES",
    "BadCallback",
    "Callback",
    "encode",
    "parse",
    "read",
    "route_is",
]

# SQLite's INTEGER is signed 64-bit: a larger id overflows inside the driver.
MAX_ID = 2**63 - 1
# Telegram carries 1 to 64 bytes of callback data.
MAX_BYTES = 64
# The years the bot books in; a day far outside them would overflow date arithmetic.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
_FIRST_EPOCH = int(datetime.combine(FIRST_DAY, time.min, UTC).timestamp())
_LAST_EPOCH = int(datetime.combine(LAST_DAY, time.max, UTC).timestamp())
NONE = "-"

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_KEY = re.compile(r"[\w-]{1,40}", re.ASCII)


class BadCallback(ValueError):
    """Callback data this bot never made: an older version's button, or a forged one."""


def _number(token: str, low: int, high: int) -> int:
    # ASCII digits only: str.isdigit() takes "²" and int() then refuses it; no sign, no
    # leading zero, so that each number has one spelling.
    if not _DIGITS.fullmatch(token) or (len(token) > 1 and token[0] == "0"):
        raise BadCallback(f"{token!r} is no number")
    if len(token) > len(str(high)) or not low <= int(token) <= high:
        raise BadCallback(f"{token!r} is out of range")
    return int(token)


def _id(token: str) -> int:
    return _number(token, 1, MAX_ID)


def _index(token: str) -> int:
    """A position in a short list from config: a practitioner, a mission kind."""
    return _number(token, 0, 999)


def _flow(token: str) -> int:
    """The number of a secretary's /rdv or /appel draft (kept modulo 100 000)."""
    return _number(token, 0, 99_999)


def _page(token: str) -> int:
    """A page of a long picker (bot.paging): a thousand pages of a few choices each."""
    return _number(token, 0, 999)


def _minutes(token: str) -> int:
    return _number(token, 1, 100 * 60)


def _moment(token: str) -> datetime:
    return datetime.fromtimestamp(_number(token, _FIRST_EPOCH, _LAST_EPOCH), UTC)


def _day(token: str) -> date:
    if len(token) != 8 or not _DIGITS.fullmatch(token):
        raise BadCallback(f"{token!r} is no day")
    try:
        day = date(int(token[:4]), int(token[4:6]), int(token[6:]))
    except ValueError:
        raise BadCallback(f"{token!r} is no day") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadCallback(f"{token!r} is out of range")
    return day


def _month(token: str) -> date:
    """``YYYYMM``, as the month's first day."""
    if len(token) != 6:
        raise BadCallback(f"{token!r} is no month")
    return _day(f"{token}01")


def _time(token: str) -> time:
    if len(token) != 4 or not _DIGITS.fullmatch(token):
        raise BadCallback(f"{token!r} is no time")
    try:
        return time(int(token[:2]), int(token[2:]))
    except ValueError:
        raise BadCallback(f"{token!r} is no time") from None


def _key(token: str) -> str:
    """A service key, a business slug, a language: checked against config by the handler."""
    if not _KEY.fullmatch(token):
        raise BadCallback(f"{token!r} is no key")
    return token


def _choice(*words: str) -> Callable[[str], str]:
    def read(token: str) -> str:
        if token not in words:
            raise BadCallback(f"{token!r} is none of {words}")
        return token

    return read


def _flag(token: str) -> bool:
    if token not in ("0", "1"):
        raise BadCallback(f"{token!r} is no flag")
    return token == "1"


_FIELDS: dict[str, Callable[[str], Any]] = {
    "id": _id,
    "index": _index,
    "flow": _flow,
    "page": _page,
    "minutes": _minutes,
    "start": _moment,
    "day": _day,
    "month": _month,
    "time": _time,
    "key": _key,
    "slug": _key,
    "audience": _choice("all", "day", "since"),
    "urgent": _flag,
}


def _format(name: str, value: Any) -> str:
    if value is None:
        return NONE
    if name == "start":
        return str(int(value.timestamp()))
    if name == "day":
        return value.strftime("%Y%m%d")
    if name == "month":
        return value.strftime("%Y%m")
    if name == "time":
        return value.strftime("%H%M")
    if name == "urgent":
        return "1" if value else "0"
    return str(value)


# Every button the bot makes; bot/app.py routes each to its handler. A picker of businesses
# turns its pages (bot.paging) with a route of its own, its name ending in ``p``, that carries
# what the picker's buttons carry but the business, and the page to show.
TEMPLATES: tuple[str, ...] = (
    # patients: the menu, booking with buttons, their appointments (handlers.patient)
    "book",
    "mine",
    "biz:{slug}",
    "bizp:{page}",
    "svc:{key}",
    "day:{key}:{day}",
    "days:{key}:{day}",
    "slot:{key}:{start}:{index}",
    "want:{key}:{day?}:{day?}:{time?}:{time?}:{index?}",
    "lang:{key}",
    "cx:{id}",
    "cxy:{id}",
    "att:{id}",
    "mv:{id}",
    "mvd:{id}:{day}",
    "mvw:{id}:{day}",
    "mvs:{id}:{start}:{index}",
    "ask:{key}:{day}:{time?}",
    "prop:ok:{id}",
    "prop:no:{id}",
    # the waitlist (handlers.waitlist): join with what was asked (business id first), leave
    # an entry, take or refuse an offered slot
    "wl:in:{id}:{key}:{day}:{day}:{time?}:{time?}:{index?}",
    "wl:out:{id}",
    "wl:take:{id}",
    "wl:no:{id}",
    "cxr:{id}",  # cancel this occurrence of a series and the rest (handlers.series)
    "cxry:{id}",
    # a patient's data: erasure confirmed or not, by the one who asked (handlers.privacy)
    "priv:erase:{id}:{start}",
    "priv:keep:{id}",
    # the secretary's inbox, attendance, blocks, agenda (handlers.secretary, blocks, agenda)
    "req:ok:{id}",
    "req:no:{id}",
    "req:pr:{id}",
    "req:ps:{id}:{start}:{index}",
    "apt:done:{id}",
    "apt:ns:{id}",
    "blk:undo:{id}",
    # a patient's cancel or move inside the notice, answered by the office (handlers.late)
    "late:cx:{id}",
    "late:keep:{id}",
    "agw:{slug}:{day}",
    "agwp:{day}:{page}",
    # series of appointments: repeat a booking, book a conflict's nearest time (handlers.series)
    "ser:rep:{id}",
    "ser:go:{id}:{index}:{index}",  # the appointment, weeks between, occurrences
    "ser:add:{id}:{start}:{index}",  # the series
    # a patient's message passed on to the office (handlers.handoff)
    "thr:close:{id}",
    # the office acting on an appointment: move (om: is the entry point any secretary button
    # may use), ask the patient to choose, cancel with or without a reason (handlers.office)
    "om:{id}",
    "omw:{id}:{day}",
    "omd:{id}:{day}",
    "oms:{id}:{start}:{index}",
    "oma:{id}",
    "oc:{id}",
    "ocn:{id}",
    "oa:{id}",
    # what a new block hits: ask each patient to choose, or cancel them (handlers.blocks)
    "blk:ask:{id}",
    "blk:cx:{id}",
    # a patient's card (handlers.patients): a Telegram patient by id, a phone caller by one
    # of their appointments; the note, a message
    "pat:p:{id}",
    "pat:c:{id}",
    "pat:np:{id}",
    "pat:nc:{id}",
    "pat:w:{id}",
    "pat:b:{id}",
    # the office booking for a patient from their card (handlers.office_booking)
    "obs:{id}:{key}",
    "obw:{id}:{key}:{day}",
    "obd:{id}:{key}:{day}",
    "obt:{id}:{key}:{start}:{index}",
    # the phone desk: /rdv and /appel drafts (handlers.desk)
    "rdv:{flow}:b:{slug}",
    "rdv:{flow}:bp:{page}",
    "rdv:{flow}:v:{key}",
    "rdv:{flow}:o",
    "rdv:{flow}:d:{day}",
    "rdv:{flow}:s:{start}:{index}",
    "call:{flow}:b:{slug}",
    "call:{flow}:bp:{page}",
    "call:{flow}:send:{urgent}",
    # missions and statements (handlers.missions, statements): business and mission ids
    "m:nb:{id}",
    "m:nbp:{page}",
    "m:nk:{index}",
    "m:nf",
    "m:nd:{day?}",
    "m:x",
    "m:s:{id}",
    "m:d:{id}",
    "m:t:{id}:{minutes?}",
    "m:c:{id}",
    "m:cc:{id}",
    "m:k:{id}",
    "m:r:{id}:{month}",
    "m:rp:{month?}:{page}",
    "m:i:{id}:{month}:{start}",  # {start}: when the statement was shown
    # mail merges (handlers.mailmerge)
    "mm:b:{id}",
    "mm:bp:{page}",
    "mm:a:{audience}",
    "mm:d:{day}",
    "mm:s:{day}",
    "mm:e",
    "mm:x",
    "mm:go",
)


def _route_of(template: str) -> str:
    return ":".join(part for part in template.split(":") if not part.startswith("{"))


ROUTES: dict[str, str] = {_route_of(template): template for template in TEMPLATES}


@dataclass(frozen=True)
class _Token:
    literal: str | None  # None: a field
    field: str = ""
    optional: bool = False


def _tokens(template: str) -> tuple[_Token, ...]:
    found = []
    for part in template.split(":"):
        if part.startswith("{"):
            name = part.strip("{}")
            optional = name.endswith("?")
            found.append(_Token(None, name.rstrip("?"), optional))
        else:
            found.append(_Token(part))
    return tuple(found)


_GRAMMAR: dict[str, tuple[_Token, ...]] = {route: _tokens(t) for route, t in ROUTES.items()}


def _shapes() -> dict[tuple[str, int], list[str]]:
    """Routes by first literal and number of tokens: a parse tries at most a few templates."""
    shapes: dict[tuple[str, int], list[str]] = {}
    for route, grammar in _GRAMMAR.items():
        shapes.setdefault((grammar[0].literal or "", len(grammar)), []).append(route)
    return shapes


_BY_SHAPE = _shapes()


@dataclass(frozen=True)
class Callback:
    """A button of this bot, read: its route and its fields' values, in template order
    (None for an optional field sent as ``-``)."""

    route: str
    args: tuple[Any, ...]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.args)


def _read(route: str, parts: list[str]) -> Callback:
    values = []
    for token, part in zip(_GRAMMAR[route], parts, strict=True):
        if token.literal is not None:
            if part != token.literal:
                raise BadCallback(f"{part!r} is not {token.literal!r}")
        elif token.optional and part == NONE:
            values.append(None)
        else:
            values.append(_FIELDS[token.field](part))
    return Callback(route, tuple(values))


def parse(data: object) -> Callback | None:
    """The button ``data`` stands for, or None when it is none this bot makes."""
    if not isinstance(data, str) or not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split(":")
    for route in _BY_SHAPE.get((parts[0], len(parts)), ()):
        try:
            return _read(route, parts)
        except BadCallback:
            continue
    return None


def read(data: object, *routes: str) -> Callback:
    """``data`` read as one of ``routes`` (any route if none is named); else BadCallback."""
    found = parse(data)
    if found is None or (routes and found.route not in routes):
        shown = data[:80] if isinstance(data, str) else data
        raise BadCallback(f"{shown!r} is no button of {', '.join(routes) or 'this bot'}")
    return found


def route_is(*routes: str) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern: true for data that reads as one of ``routes``.

    A name without ``:`` stands for every route under that prefix (``"m"``: ``m:nb``...).
    """
    unknown = [r for r in routes if r not in ROUTES and not any(_under(k, r) for k in ROUTES)]
    if unknown:
        raise ValueError(f"no such route: {unknown}")
    wanted = frozenset(k for k in ROUTES if k in routes or any(_under(k, r) for r in routes))

    def matches(data: object) -> bool:
        found = parse(data)
        return found is not None and found.route in wanted

    matches.__name__ = f"route_is({', '.join(routes)})"
    return matches


def _under(route: str, prefix: str) -> bool:
    return ":" not in prefix and route.startswith(f"{prefix}:")


def encode(route: str, *values: Any) -> str:
    """The data of a button of ``route`` carrying ``values`` (``parse`` reads it back)."""
    grammar = _GRAMMAR[route]
    fields = [token for token in grammar if token.literal is None]
    if len(values) != len(fields):
        raise ValueError(f"{route} takes {len(fields)} values, not {len(values)}")
    given = iter(values)
    return ":".join(
        token.literal if token.literal is not None else _format(token.field, next(given))
        for token in grammar
    )
