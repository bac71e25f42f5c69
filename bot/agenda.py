"""Opening hours, closures, durations and free slots. Pure: no I/O, no Telegram, no SQL.

Every datetime here is aware. Opening hours are wall-clock times of the business's zone, so
a slot's start is built in that zone and its end is computed in UTC: on a DST day a 30-minute
appointment still lasts 30 minutes.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, cached_property
from itertools import islice
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays

from bot.config import WEEKDAYS, Business, Closure

# How far from the asked day the search looks for the nearest free slots.
NEAREST_DAYS = 14
# Without a horizon given, as far ahead as a business books by default.
DEFAULT_HORIZON = timedelta(days=90)
# Days whose opening periods a business's rules keep at most: a year and more of searches.
_PERIODS_KEPT = 1000


@dataclass(frozen=True)
class Busy:
    """Time nobody can be booked in: an appointment, or a block of a whole business."""

    start: datetime
    end: datetime
    practitioner: str | None = None  # None: every practitioner


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: str


@dataclass(frozen=True)
class Wanted:
    """What a patient asked for, already resolved to days and local times."""

    day_from: date | None = None
    day_to: date | None = None
    time_from: time | None = None
    time_to: time | None = None
    practitioner: str | None = None  # the patient's own choice, when they named one

    @property
    def exact(self) -> bool:
        return self.time_from is not None and self.time_from == self.time_to


@cache
def _country_holidays(country: str, language: str | None) -> holidays.HolidayBase:
    """One calendar a country (and language) for every business in it: building one costs
    more than a whole search, and what a day is never changes."""
    return holidays.country_holidays(country, language=language)


class Period(NamedTuple):
    """A span of a day the business is open."""

    opens: datetime
    closes: datetime
    # No clock change inside (``_steady``): each start is a number of seconds from opening.
    steady: bool
    opens_s: float  # in UTC epoch seconds
    closes_s: float


class OpeningRules:
    """When a business is open: weekly hours minus closures and public holidays."""

    def __init__(self, business: Business, zone: ZoneInfo, horizon: timedelta | None = None):
        self.business = business
        self.zone = zone
        if horizon is None and business.booking_horizon_days is not None:
            horizon = timedelta(days=business.booking_horizon_days)
        self.horizon = business.booking_horizon or horizon or DEFAULT_HORIZON
        self._by_language: dict[str, holidays.HolidayBase] = {}
        # A search asks for the same days again and again; what a day is never changes.
        self._periods: dict[date, tuple[Period, ...]] = {}

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        country = self.business.public_holidays
        return _country_holidays(country, None) if country else None

    def holiday(self, day: date, language: str | None = None) -> str | None:
        """The public holiday's name, in ``language`` (``fr``, ``en``) when known."""
        if self._holidays is None:
            return None
        name = self._holidays.get(day)
        if name is None or language is None:
            return name
        return self._named(language).get(day, name)

    def _named(self, language: str) -> holidays.HolidayBase:
        # The package's own default follows the process's locale: a language is asked for.
        if language not in self._by_language:
            supported = self._holidays.supported_languages
            code = next((c for c in supported if c.split("_")[0] == language), None)
            self._by_language[language] = (
                _country_holidays(self.business.public_holidays, code) if code else self._holidays
            )
        return self._by_language[language]

    def closure(self, day: date) -> Closure | None:
        return next((closure for closure in self.business.closed if day in closure), None)

    def is_closed(self, day: date) -> bool:
        return self.closure(day) is not None or bool(self.holiday(day))

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        return [(period.opens, period.closes) for period in self.opening(day)]

    def opening(self, day: date) -> tuple[Period, ...]:
        """The day's opening periods in time order, and what the search needs of each."""
        if day not in self._periods:
            if len(self._periods) > _PERIODS_KEPT:
                self._periods.clear()
            self._periods[day] = tuple(self._opening(day))
        return self._periods[day]

    def _opening(self, day: date) -> Iterator[Period]:
        if self.is_closed(day):
            return
        for r in sorted(
            self.business.hours.get(WEEKDAYS[day.weekday()], []), key=lambda r: r.start
        ):
            opens = datetime.combine(day, r.start, tzinfo=self.zone)
            closes = datetime.combine(day, r.end, tzinfo=self.zone)
            yield Period(
                opens, closes, _steady(opens, closes), opens.timestamp(), closes.timestamp()
            )

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def last_day(self, now: datetime) -> date:
        """The last day patients may book online: the horizon, counted in whole days."""
        return self.today(now) + timedelta(days=max(1, self.horizon // timedelta(days=1)))


class Occupancy:
    """Busy time per practitioner as disjoint intervals in UTC epoch seconds, sorted: a slot
    is checked with one bisection, numbers compared without a time zone in sight. Built
    once for the searches of one offer, which all look at the same agenda."""

    def __init__(self, busy: Iterable[Busy], practitioners: Sequence[str]):
        self._build(
            ((item.start.timestamp(), item.end.timestamp(), item.practitioner) for item in busy),
            practitioners,
        )

    @classmethod
    def from_epochs(
        cls, spans: Iterable[tuple[float, float, str | None]], practitioners: Sequence[str]
    ) -> Occupancy:
        """From (start, end, practitioner or None for everyone) in epoch seconds, as stored."""
        occupancy = cls.__new__(cls)
        occupancy._build(spans, practitioners)
        return occupancy

    def adding(self, spans: Iterable[tuple[float, float, str | None]]) -> Occupancy:
        """This busy time and ``spans`` besides, as ``from_epochs`` takes them: what was
        merged already is not sorted again from its pieces."""
        occupancy = Occupancy.__new__(Occupancy)
        occupancy._build(spans, self._practitioners, self._intervals())
        return occupancy

    def _intervals(self) -> dict[str, list[tuple[float, float]]]:
        return {
            name: list(zip(self._starts[name], self._ends[name], strict=True))
            for name in self._starts
        }

    def _build(
        self,
        spans: Iterable[tuple[float, float, str | None]],
        practitioners: Sequence[str],
        kept: dict[str, list[tuple[float, float]]] | None = None,
    ) -> None:
        self._practitioners = practitioners
        by_practitioner = kept or {name: [] for name in practitioners}
        everyone: list[tuple[float, float]] = []  # blocks of the whole business
        for start, end, practitioner in spans:
            if practitioner is None:
                everyone.append((start, end))
            elif practitioner in by_practitioner:
                by_practitioner[practitioner].append((start, end))
            else:
                by_practitioner[practitioner] = [(start, end)]
        self._starts: dict[str, list[float]] = {}
        self._ends: dict[str, list[float]] = {}
        for name, found in by_practitioner.items():
            starts, ends = self._starts[name], self._ends[name] = [], []
            for start, end in sorted(found + everyone):
                # Spans that overlap or touch are one: a slot of some length that meets
                # their union meets one of them.
                if ends and start <= ends[-1]:
                    if end > ends[-1]:
                        ends[-1] = end
                else:
                    starts.append(start)
                    ends.append(end)

    def agenda(self, practitioner: str) -> tuple[list[float], list[float]]:
        """The practitioner's busy intervals: their starts, and their ends, in order."""
        return self._starts[practitioner], self._ends[practitioner]

    def is_free(self, practitioner: str, start: float, end: float) -> bool:
        return self.busy_until(practitioner, start, end) is None

    def busy_until(self, practitioner: str, start: float, end: float) -> float | None:
        """None when [start, end) is free, else when the busy time it meets ends."""
        # Only the last interval starting before the slot ends may reach into it: every
        # earlier one ends before that one starts.
        index = bisect.bisect_left(self._starts[practitioner], end) - 1
        if index < 0 or self._ends[practitioner][index] <= start:
            return None
        return self._ends[practitioner][index]


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day: 23 or 25 hours long on the days the clocks change."""
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def _exists(moment: datetime) -> bool:
    """False for a wall-clock time skipped by a DST change."""
    round_trip = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return round_trip.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _steady(opens: datetime, closes: datetime) -> bool:
    """No clock change inside the period: every wall-clock time in it exists, once, at the
    same UTC offset (an opening period lies within a day, which no zone changes twice)."""
    return opens.utcoffset() == closes.utcoffset() and _exists(opens) and _exists(closes)


def occupied(rules: OpeningRules, busy: Iterable[Busy] | Occupancy) -> Occupancy:
    if isinstance(busy, Occupancy):
        return busy
    return Occupancy(busy, rules.business.practitioners)


def free_slots(
    rules: OpeningRules,
    duration: timedelta,
    busy: Iterable[Busy] | Occupancy,
    *,
    now: datetime,
    first_day: date,
    last_day: date,
    time_from: time | None = None,
    time_to: time | None = None,
    practitioners: Sequence[str] | None = None,
) -> Iterator[Slot]:
    """Free slots in time order, each practitioner as a parallel agenda.

    A window [time_from, time_to] keeps the slots that start inside it; ``practitioners``
    keeps those of the ones named (all of the business's by default).
    """
    business = rules.business
    step = timedelta(minutes=business.slot_step)
    seconds, length = step.total_seconds(), duration.total_seconds()
    earliest = now.timestamp() + business.min_notice.total_seconds()
    occupancy = occupied(rules, busy)
    names = practitioners or business.practitioners
    agendas = [(name, *occupancy.agenda(name)) for name in names]
    windowed = time_from is not None or time_to is not None
    day = first_day
    while day <= last_day:
        for opens, closes, steady, opens_s, closes_s in rules.opening(day):
            if not steady:
                yield from _changing(
                    rules,
                    opens,
                    closes,
                    step,
                    duration,
                    earliest,
                    occupancy,
                    names,
                    time_from,
                    time_to,
                )
                continue
            # Wall clock and UTC move together here: each start is a number of seconds,
            # made a datetime only when it is offered or its wall-clock time is asked.
            start_s = opens_s
            while start_s + length <= closes_s:
                steps = 1
                start = None
                if start_s >= earliest and windowed:
                    start = opens + timedelta(seconds=start_s - opens_s)
                    wall = start.time()
                    within = (time_from is None or wall >= time_from) and (
                        time_to is None or wall <= time_to
                    )
                else:
                    within = start_s >= earliest
                if within:
                    end_s, free_again = start_s + length, closes_s
                    for practitioner, starts, ends in agendas:
                        # As Occupancy.busy_until, inlined: this is the search's inner loop.
                        index = bisect.bisect_left(starts, end_s) - 1
                        if index < 0 or ends[index] <= start_s:
                            if start is None:
                                start = opens + timedelta(seconds=start_s - opens_s)
                            yield Slot(start, start + duration, practitioner)
                            free_again = start_s
                        elif ends[index] < free_again:
                            free_again = ends[index]
                    # Everyone busy: no start before the first of them is free again can be
                    # free, and a full day is crossed in a few steps rather than each one.
                    if free_again > start_s:
                        steps = math.ceil((free_again - start_s) / seconds)
                start_s += steps * seconds
        day += timedelta(days=1)


def _changing(
    rules: OpeningRules,
    opens: datetime,
    closes: datetime,
    step: timedelta,
    duration: timedelta,
    earliest: float,
    occupancy: Occupancy,
    names: Sequence[str],
    time_from: time | None,
    time_to: time | None,
) -> Iterator[Slot]:
    """A period the clocks change in: each start built on the wall clock, skipped when the
    change skips it, its end counted in UTC (a 30-minute appointment still lasts 30)."""
    start = opens
    closes_utc = closes.astimezone(UTC)
    while True:
        start_utc = start.astimezone(UTC)
        end_utc = start_utc + duration
        if end_utc > closes_utc:
            return
        if (
            start_utc.timestamp() >= earliest
            and _exists(start)
            and (time_from is None or start.time() >= time_from)
            and (time_to is None or start.time() <= time_to)
        ):
            for practitioner in names:
                if occupancy.is_free(practitioner, start_utc.timestamp(), end_utc.timestamp()):
                    yield Slot(start, end_utc.astimezone(rules.zone), practitioner)
        start += step


def search(
    rules: OpeningRules,
    duration: timedelta,
    busy: Sequence[Busy] | Occupancy,
    wanted: Wanted,
    *,
    now: datetime,
    limit: int = 6,
) -> list[Slot]:
    """The slot asked for first when it is free, else the nearest free ones, one per start.

    - an exact time: that start if free, then the starts nearest to it, days around included;
    - a window or a day range: the earliest free slots in it, else the earliest after it;
    - nothing: the earliest free slots.
    A practitioner named keeps that practitioner's slots only.
    """
    today = rules.today(now)
    horizon = rules.last_day(now)
    first = max(wanted.day_from or today, today)
    last = min(wanted.day_to or wanted.day_from or horizon, horizon)
    if first > horizon:
        return []

    chosen = [wanted.practitioner] if wanted.practitioner else None
    busy = occupied(rules, busy)

    def scan(first_day: date, last_day: date, **window: time | None) -> Iterator[Slot]:
        return one_per_start(
            free_slots(
                rules,
                duration,
                busy,
                now=now,
                first_day=first_day,
                last_day=last_day,
                practitioners=chosen,
                **window,
            )
        )

    if wanted.exact and wanted.day_from is not None:
        target = datetime.combine(first, wanted.time_from, tzinfo=rules.zone)
        around = _nearest(
            scan,
            target,
            max(today, first - timedelta(days=NEAREST_DAYS)),
            min(horizon, last + timedelta(days=NEAREST_DAYS)),
            limit,
        )
        nearest = sorted(around, key=lambda slot: (abs(slot.start - target), slot.start))[:limit]
        # Shown in time order, which is how a person scans them, the one asked for first.
        return sorted(nearest, key=lambda slot: (slot.start != target, slot.start))

    window = {"time_from": wanted.time_from, "time_to": wanted.time_to}
    found = list(islice(scan(first, last, **window), limit))
    if not found:
        found = list(islice(scan(last + timedelta(days=1), horizon, **window), limit))
    if not found:
        found = list(islice(scan(first, horizon), limit))
    return found


def _nearest(
    scan: Callable[[date, date], Iterator[Slot]],
    target: datetime,
    first: date,
    last: date,
    limit: int,
) -> list[Slot]:
    """Every free slot of [first, last] that may be among the ``limit`` nearest ``target``:
    the days in order of their distance from the target's, until the next ones can only be
    farther than the ``limit``-th nearest found (distances on the wall clock, as the sort).
    """
    found: list[Slot] = []
    day = target.date()
    moment = target.replace(tzinfo=None)
    for offset in range(max((day - first).days, (last - day).days) + 1):
        for candidate in {day - timedelta(days=offset), day + timedelta(days=offset)}:
            if first <= candidate <= last:
                found.extend(scan(candidate, candidate))
        if len(found) >= limit:
            kept = sorted(abs(slot.start - target) for slot in found)[limit - 1]
            after = datetime.combine(day + timedelta(days=offset + 1), time.min) - moment
            before = moment - datetime.combine(day - timedelta(days=offset), time.min)
            if after > kept and before > kept:
                break
    return found


def one_per_start(slots: Iterable[Slot]) -> Iterator[Slot]:
    """A patient picks a time, not a practitioner: keep the first free one at each start."""
    seen: set[datetime] = set()
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            yield slot


def open_days(rules: OpeningRules, now: datetime, count: int) -> list[date]:
    """The next ``count`` days the business opens, from today, within its horizon."""
    today = rules.today(now)
    days = []
    for offset in range((rules.last_day(now) - today).days + 1):
        day = today + timedelta(days=offset)
        if rules.periods(day):
            days.append(day)
            if len(days) == count:
                break
    return days


class Why(StrEnum):
    """Why a day or a time asked for cannot be booked."""

    PAST = "past"
    BEYOND = "beyond"  # after the booking horizon
    CLOSURE = "closure"  # inside one of the business's closed ranges
    HOLIDAY = "holiday"
    WEEKLY = "weekly"  # a weekday the business never opens
    HOURS = "hours"  # that day, but outside its opening hours
    NOTICE = "notice"  # sooner than the minimum notice
    TAKEN = "taken"  # that time is booked, the day still has room
    FULL = "full"  # that day has no room left


@dataclass(frozen=True)
class Unavailable:
    why: Why
    day: date
    start: datetime | None = None  # the time asked for, when one was
    holiday: str | None = None
    closure: Closure | None = None


def unavailable(
    rules: OpeningRules,
    duration: timedelta,
    busy: Sequence[Busy] | Occupancy,
    wanted: Wanted,
    *,
    now: datetime,
) -> Unavailable | None:
    """Why the one day (and time) asked for has no room; None when it has, when several days
    were asked for, or when the reason is none a patient would be told (a time off the step).
    """
    if wanted.day_from is None or wanted.day_to not in (None, wanted.day_from):
        return None
    day = wanted.day_from
    start = (
        datetime.combine(day, wanted.time_from, tzinfo=rules.zone)
        if wanted.exact and wanted.time_from is not None
        else None
    )
    closed = _closed(rules, day, start, now)
    if closed is not None:
        return closed
    chosen = [wanted.practitioner] if wanted.practitioner else None
    busy = occupied(rules, busy)
    if start is not None:
        return _at(rules, duration, busy, start, now, chosen)
    if _any_free(rules, duration, busy, day, now, chosen):
        return None
    if not _any_free(rules, duration, (), day, now, chosen):
        # Open that day, yet nothing to offer even in an empty agenda: too late for today.
        return Unavailable(Why.NOTICE, day)
    return Unavailable(Why.FULL, day)


def _closed(
    rules: OpeningRules, day: date, start: datetime | None, now: datetime
) -> Unavailable | None:
    """Past, beyond the horizon or a closed day: whatever the agenda holds."""
    if day < rules.today(now) or (start is not None and start <= now):
        return Unavailable(Why.PAST, day, start)
    if day > rules.last_day(now):
        return Unavailable(Why.BEYOND, day, start)
    closure = rules.closure(day)
    if closure is not None:
        return Unavailable(Why.CLOSURE, day, start, closure=closure)
    holiday = rules.holiday(day)
    if holiday:
        return Unavailable(Why.HOLIDAY, day, start, holiday=holiday)
    if not rules.periods(day):
        return Unavailable(Why.WEEKLY, day, start)
    return None


def _at(
    rules: OpeningRules,
    duration: timedelta,
    busy: Sequence[Busy] | Occupancy,
    start: datetime,
    now: datetime,
    chosen: Sequence[str] | None,
) -> Unavailable | None:
    """Why an exact start on an open day cannot be booked."""
    day = start.date()
    end = start.astimezone(UTC) + duration
    if not any(opens <= start and end <= closes for opens, closes in rules.periods(day)):
        return Unavailable(Why.HOURS, day, start)
    if start.astimezone(UTC) < now.astimezone(UTC) + rules.business.min_notice:
        return Unavailable(Why.NOTICE, day, start)
    window = {"time_from": start.time(), "time_to": start.time()}
    if not _any_free(rules, duration, (), day, now, chosen, **window):
        return None  # not a start the business offers (off its step): nothing worth saying
    if _any_free(rules, duration, busy, day, now, chosen, **window):
        return None
    if _any_free(rules, duration, busy, day, now, chosen):
        return Unavailable(Why.TAKEN, day, start)
    return Unavailable(Why.FULL, day, start)


def _any_free(
    rules: OpeningRules,
    duration: timedelta,
    busy: Iterable[Busy] | Occupancy,
    day: date,
    now: datetime,
    chosen: Sequence[str] | None,
    **window: time,
) -> bool:
    slots = free_slots(
        rules,
        duration,
        busy,
        now=now,
        first_day=day,
        last_day=day,
        practitioners=chosen,
        **window,
    )
    return next(slots, None) is not None
