"""The secretary's business, pure: months, statements, earnings, typed input, mail-merge texts.

Nothing here touches Telegram or the database. Bad input raises :class:`InputError`, which
names the catalogue message that explains it to the secretary.
"""

from __future__ import annotations

import re
import shlex
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.config import parse_money
from bot.i18n import I18n

MAX_DESCRIPTION = 200
# A mission is worth tens of euros: anything past this is a typo, not a fee.
MAX_FEE_CENTS = 10_000 * 100
MAX_MINUTES = 100 * 60
# A mail-merge text, once filled in: under Telegram's 4096 characters with room for the
# preview's heading, so what is previewed is what is sent.
MAX_MERGE_TEXT = 3800
# The kind a mail merge is recorded as.
MAIL_MERGE_KIND = "mail_merge"


class InputError(ValueError):
    """The secretary typed something unusable; ``key`` and ``values`` say why, in words."""

    def __init__(self, key: str, **values: object):
        super().__init__(f"{key} {values}" if values else key)
        self.key = key
        self.values = values


def kind_label(i18n: I18n, language: str, kind: str) -> str:
    """A kind's name in the reader's language; a kind added in config shows as written."""
    try:
        return i18n.text(language, f"mission_kind.{kind}")
    except KeyError:
        return kind.replace("_", " ")


def invoice_number(year: int, sequence: int) -> str:
    """``2027-0001``: the year, then the invoice's rank in it, without a gap."""
    return f"{year}-{sequence:04d}"


# -- months ----------------------------------------------------------------------------------


_MONTH = re.compile(r"^\s*(?:(\d{4})-(\d{1,2})|(\d{1,2})[/.-](\d{4}))\s*$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2999:
            raise InputError("missions.bad_month", text=f"{self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2027-01`` (or ``01/2027``, as French people write it)."""
        match = _MONTH.match(text)
        if not match:
            raise InputError("missions.bad_month", text=text)
        year, month = (match[1], match[2]) if match[1] else (match[4], match[3])
        return cls(int(year), int(month))

    @classmethod
    def from_code(cls, code: str) -> Month:
        """``202701``, as carried by a button."""
        if not re.fullmatch(r"\d{6}", code):
            raise InputError("missions.bad_month", text=code)
        return cls(int(code[:4]), int(code[4:]))

    @classmethod
    def of(cls, day: date | datetime) -> Month:
        return cls(day.year, day.month)

    @property
    def code(self) -> str:
        return f"{self.year:04d}{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in ``zone``: from its first midnight to the next month's."""
        start = datetime.combine(self.first_day, time.min, tzinfo=zone)
        end = datetime.combine(self.shift(1).first_day, time.min, tzinfo=zone)
        return start, end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_label(language: str, month: Month) -> str:
    """``janvier 2027`` / ``January 2027``."""
    return format_date(month.first_day, "LLLL yyyy", locale=language)


def short_month_label(language: str, month: Month) -> str:
    """``janv. 27`` / ``Jan 27``: fits under a bar of a chart."""
    return format_date(month.first_day, "LLL yy", locale=language)


# -- typed input ------------------------------------------------------------------------------


def parse_fee(text: str) -> int:
    """``45``, ``37,50``, ``45 €``, ``45 EUR``, ``12€50`` -> integer cents."""
    # "12€50", as French people write it: the euro sign stands for the decimal comma.
    text_with_comma = re.sub(r"(\d)\s*€\s*(\d{1,2})\s*$", r"\1,\2", text)
    cleaned = re.sub(r"(?i)\s|\u00a0|\u202f|€|eur(os?)?", "", text_with_comma)
    try:
        cents = parse_money(cleaned) if cleaned else -1
    except ValueError:
        cents = -1
    if not 0 <= cents <= MAX_FEE_CENTS:
        raise InputError("missions.bad_fee", text=text.strip())
    return cents


_DAY_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?\s*$")
_DAY_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_day(text: str, today: date, *, future: bool) -> date:
    """``25/01``, ``25/01/2027``, ``25.01.27`` or ``2027-01-25``.

    Without a year, the day is the next one to come when ``future`` (a due date), else the
    last one gone by (the start of a period).
    """
    try:
        iso = _DAY_ISO.match(text)
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        dmy = _DAY_DMY.match(text)
        if not dmy:
            raise ValueError(text)
        day, month = int(dmy[1]), int(dmy[2])
        if dmy[3]:
            year = int(dmy[3])
            return date(year + 2000 if year < 100 else year, month, day)
        found = date(today.year, month, day)
        if future and found < today:
            found = date(today.year + 1, month, day)
        elif not future and found > today:
            found = date(today.year - 1, month, day)
        return found
    except ValueError:
        raise InputError("missions.bad_day", text=text.strip()) from None


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*(?:m|mn|min|minutes?)?)?\s*$", re.I)


def parse_minutes(text: str) -> int:
    """``45``, ``45 min``, ``1h``, ``1h30``, ``2 h 15`` -> minutes."""
    match = _DURATION.match(text)
    if not match or not (match[1] or match[2]):
        raise InputError("missions.bad_minutes", text=text.strip())
    minutes = int(match[1] or 0) * 60 + int(match[2] or 0)
    if not 0 < minutes <= MAX_MINUTES:
        raise InputError("missions.bad_minutes", text=text.strip())
    return minutes


def parse_description(text: str) -> str:
    description = " ".join(text.split())
    if not description:
        raise InputError("missions.empty_description")
    if len(description) > MAX_DESCRIPTION:
        raise InputError("missions.long_description", limit=MAX_DESCRIPTION)
    return description


def normalise(word: str) -> str:
    """``Mail-merge``, ``Prénom `` -> ``mail_merge``, ``prenom``: how a typed name is matched."""
    bare = unicodedata.normalize("NFKD", word.strip().lower())
    bare = "".join(c for c in bare if not unicodedata.combining(c))
    return re.sub(r"[\s-]+", "_", bare)


@dataclass(frozen=True)
class MissionForm:
    """``/mission <business> <kind> "<description>" [fee] [due day]``, read."""

    slug: str
    kind: str
    description: str
    fee: int | None
    due_on: date | None


_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "’": "'"})


def parse_mission_line(
    text: str, slugs: Sequence[str], kind_names: Mapping[str, str], today: date
) -> MissionForm:
    """Read the one-line form; ``kind_names`` maps normalised names (any language) to kinds."""
    try:
        words = shlex.split(text.translate(_QUOTES))
    except ValueError:
        raise InputError("missions.usage") from None
    if not 3 <= len(words) <= 5:
        raise InputError("missions.usage")
    slug, kind_name, description, *rest = words
    if slug.lower() not in slugs:
        # The handler lists them: the first few when there are many.
        raise InputError("missions.unknown_business", slug=slug, known=tuple(slugs))
    kind = kind_names.get(normalise(kind_name))
    if kind is None:
        known = ", ".join(sorted(set(kind_names.values())))
        raise InputError("missions.unknown_kind", kind=kind_name, known=known)
    fee = parse_fee(rest[0]) if rest else None
    due_on = parse_day(rest[1], today, future=True) if len(rest) > 1 else None
    return MissionForm(slug.lower(), kind, parse_description(description), fee, due_on)


# -- statements and earnings ------------------------------------------------------------------


@dataclass(frozen=True)
class KindTotal:
    kind: str
    count: int
    cents: int


def totals_by_kind(items: Iterable[tuple[str, int]], order: Sequence[str]) -> list[KindTotal]:
    """(kind, cents) pairs -> one total per kind, in config's order, unknown kinds last."""
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    for kind, cents in items:
        counts[kind] = counts.get(kind, 0) + 1
        sums[kind] = sums.get(kind, 0) + cents
    rank = {kind: index for index, kind in enumerate(order)}
    kinds = sorted(counts, key=lambda kind: (rank.get(kind, len(rank)), kind))
    return [KindTotal(kind, counts[kind], sums[kind]) for kind in kinds]


def earnings_by_month(
    entries: Iterable[tuple[int, datetime, int]], zone_of: Callable[[int], ZoneInfo]
) -> dict[Month, dict[int, int]]:
    """(business id, done at, cents) -> month -> business id -> cents.

    Each mission counts in its month as its business's clock reads it.
    """
    table: dict[Month, dict[int, int]] = {}
    for business_id, done_at, cents in entries:
        row = table.setdefault(Month.of(done_at.astimezone(zone_of(business_id))), {})
        row[business_id] = row.get(business_id, 0) + cents
    return table


# -- mail merge -------------------------------------------------------------------------------


class Audience(StrEnum):
    ALL = "all"  # every patient of the business
    DAY = "day"  # those with an appointment on a day
    SINCE = "since"  # those seen since a day


@dataclass(frozen=True)
class AudienceChoice:
    audience: Audience
    day: date | None = None

    @property
    def code(self) -> str:
        return self.audience if self.day is None else f"{self.audience}:{self.day.isoformat()}"

    @classmethod
    def parse(cls, code: str) -> AudienceChoice:
        name, _, day = code.partition(":")
        return cls(Audience(name), date.fromisoformat(day) if day else None)


# {date} and {heure} are the appointment's: the day's, or the last visit since the date.
PLACEHOLDERS = {
    Audience.ALL: ("prenom", "cabinet"),
    Audience.DAY: ("prenom", "cabinet", "date", "heure"),
    Audience.SINCE: ("prenom", "cabinet", "date", "heure"),
}
ALL_PLACEHOLDERS = ("prenom", "cabinet", "date", "heure")


def _braced(names: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in names)


def parse_template(template: str, allowed: Sequence[str]) -> list[tuple[str, str | None]]:
    """The template as (literal text, placeholder or None) pieces; ``{{`` is a brace.

    Placeholders are matched without case or accents (``{Prénom}`` is ``{prenom}``); any
    other name, and a brace left open, is an :class:`InputError` naming what is allowed.
    """
    if not template.strip():
        raise InputError("missions.template_empty")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise InputError("missions.template_braces", allowed=_braced(allowed)) from None
    pieces: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            pieces.append((literal, None))
            continue
        name = normalise(field)
        if spec or conversion or name not in ALL_PLACEHOLDERS:
            raise InputError("missions.template_unknown", name=field, allowed=_braced(allowed))
        if name not in allowed:
            raise InputError("missions.template_not_here", name=field, allowed=_braced(allowed))
        pieces.append((literal, name))
    return pieces


def render(pieces: Sequence[tuple[str, str | None]], values: Mapping[str, str]) -> str:
    return "".join(literal + (values[name] if name else "") for literal, name in pieces)
