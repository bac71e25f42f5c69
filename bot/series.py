"""Series of appointments (pure): reading a recurrence in what a secretary types, and the
times of a series in the business's zone.

"tous les mardis à 10h x10", "every Tuesday at 10am x10", "chaque semaine ×6", "toutes les
2 semaines 6 séances", "every other week for 8 weeks": how often (in weeks) and how many.
What is read is taken out of the text, a weekday named as a recurrence left as a plain
weekday ("tous les mardis" -> "mardi"), so that the booking parser reads the first time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.callers import CallerRequest, read_booking
from bot.nlu import ServiceLike

# A series without a count says it: this many, as physiotherapists prescribe them.
DEFAULT_COUNT = 10
MOST_COUNT = 52
MOST_WEEKS = 8

_WEEKDAYS_FR = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_WEEKDAYS_EN = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBERS = {"un": 1, "une": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3}
_NUMBER = r"(\d{1,2}|un|une|deux|trois|one|two|three)"

# Each pattern: the weeks between two occurrences, read from its groups.
_INTERVALS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), how)
    for pattern, how in (
        (rf"\b(?:une|1)\s+semaine\s+sur\s+{_NUMBER}\b", "n"),
        (rf"\b(?:tou(?:s|tes)\s+les|chaque)\s+{_NUMBER}\s+semaines?\b", "n"),
        (r"\btous\s+les\s+(1[45])\s+jours\b", "2"),
        (r"\b(?:toutes\s+les|chaque)\s+semaines?\b", "1"),
        (r"\bhebdo(?:madaire)?\b", "1"),
        (rf"\b(?:tous\s+les|chaque)\s+({_WEEKDAYS_FR})s?\b", "day"),
        (rf"\bevery\s+{_NUMBER}\s+weeks?\b", "n"),
        (r"\bevery\s+other\s+week\b", "2"),
        (rf"\bevery\s+other\s+({_WEEKDAYS_EN})\b", "day2"),
        (r"\b(?:fortnightly|bi-?weekly)\b", "2"),
        (r"\b(?:every\s+week|weekly)\b", "1"),
        (rf"\bevery\s+({_WEEKDAYS_EN})s?\b", "day"),
    )
)
_COUNTS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"(?<![\w])[x×]\s?(\d{1,2})\b",
        r"\b(\d{1,2})\s?[x×](?![\w])",
        r"\b(\d{1,2})\s+(?:fois|s[ée]ances?|rendez-vous|rdv|times|sessions?|appointments?)\b",
    )
)
_WEEKS_LONG = re.compile(r"\b(?:pendant|sur|for)\s+(\d{1,2})\s+(?:semaines|weeks)\b", re.I)


@dataclass(frozen=True)
class Recurrence:
    every: int  # weeks between two occurrences
    count: int  # occurrences in all, the first included


def _number(word: str) -> int:
    return _NUMBERS[word.lower()] if word.lower() in _NUMBERS else int(word)


def read_recurrence(text: str) -> tuple[Recurrence | None, str]:
    """The recurrence ``text`` asks for, if any, and the text without it."""
    every = None
    rest = text
    for pattern, how in _INTERVALS:
        match = pattern.search(rest)
        if match is None:
            continue
        kept = ""
        if how == "n":
            every = _number(match.group(1))
        elif how in ("day", "day2"):
            every = 2 if how == "day2" else 1
            kept = match.group(1)
        else:
            every = int(how)
        rest = f"{rest[: match.start()]}{kept}{rest[match.end() :]}"
        break
    count = None
    for pattern in _COUNTS:
        match = pattern.search(rest)
        if match is not None:
            count = int(match.group(1))
            rest = f"{rest[: match.start()]}{rest[match.end() :]}"
            break
    if count is None:
        match = _WEEKS_LONG.search(rest)
        if match is not None:
            count = -(-int(match.group(1)) // (every or 1))
            rest = f"{rest[: match.start()]}{rest[match.end() :]}"
    if every is None and count is None:
        return None, text
    every = every or 1
    count = count or DEFAULT_COUNT
    if not 1 <= every <= MOST_WEEKS or not 2 <= count <= MOST_COUNT:
        return None, text
    return Recurrence(every, count), " ".join(rest.split())


def read_series_booking(
    text: str,
    now: datetime,
    services: Sequence[ServiceLike],
    practitioners: Sequence[str] = (),
    *,
    with_name: bool = True,
) -> tuple[CallerRequest, Recurrence | None]:
    """A phone caller's booking (``bot.callers.read_booking``) and the series it asks for."""
    recurrence, rest = read_recurrence(text)
    return (
        read_booking(rest, now, services, practitioners, with_name=with_name),
        recurrence,
    )


def occurrences(first: datetime, recurrence: Recurrence, zone: ZoneInfo) -> list[datetime]:
    """The series' starts, aware in ``zone``: the same wall-clock time each time, across a
    change of the clocks (10:00 stays 10:00, an hour apart in UTC)."""
    local = first.astimezone(zone)
    return [
        at(local.date() + timedelta(weeks=index * recurrence.every), local.time(), zone)
        for index in range(recurrence.count)
    ]


def at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment.replace(tzinfo=None), tzinfo=zone)
