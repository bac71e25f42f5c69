"""parse_request: the scan of a message, in order, and the request it comes to."""

from collections.abc import Sequence
from datetime import date, datetime, time

from bot.nlu.combine import (
    _combine_days,
    _day_for_time,
    _link_lists,
    _pick_time,
    _resolve_all,
    _split_reschedule,
)
from bot.nlu.days import (
    _DAY_OF_MONTH,
    _HOLIDAY,
    _IN_DAYS,
    _MONTH_DATE,
    _MONTH_RANGE,
    _NUMERIC_DATE,
    _RELATIVE_DAY,
    _RELATIVE_MONTH,
    _WEEK,
    _WEEK_OF,
    _WEEKDAY_AND_DAY,
    _WEEKEND,
    _read_date,
    _read_day_of_month,
    _read_holiday,
    _read_in_days,
    _read_month_range,
    _read_relative_day,
    _read_relative_month,
    _read_week,
    _read_week_of,
    _read_weekend,
)
from bot.nlu.intents import _ASAP, _intent, _wanted_from
from bot.nlu.mentions import _Context, _Days, _DaySpec, _Scanner, _Spec
from bot.nlu.noise import _GREETING, _SINCE
from bot.nlu.offsets import _COUNTED_OFFSET, _NAMED_OFFSET, _read_from_another_day
from bot.nlu.request import BookingRequest, DayPart, Intent, ServiceLike
from bot.nlu.services import _find_practitioner, _find_service
from bot.nlu.times import (
    _CLOCK_TIME,
    _FAREWELL,
    _IN_HOURS,
    _LUNCH,
    _OPEN_WINDOW,
    _PART_OF_DAY,
    _PREPOSITION_HOUR,
    _WINDOW,
    _read_exact,
    _read_in_hours,
    _read_lunch,
    _read_open_window,
    _read_part_of_day,
    _read_window,
)
from bot.nlu.typos import _normalise
from bot.nlu.weekdays import _WEEKDAY, _read_weekday
from bot.nlu.words import _fold


def _scan(text: str, context: _Context) -> tuple[_Scanner, list[tuple[int, int]]]:
    scanner = _Scanner(text, context)
    scanner.blank(_GREETING)
    scanner.blank(_SINCE)
    farewells = [match.span() for match in _FAREWELL.finditer(scanner.text)]
    # clock times: the most specific forms first
    scanner.take(_IN_HOURS, _read_in_hours)
    scanner.take(_LUNCH, _read_lunch)
    scanner.take(_WINDOW, _read_window)
    scanner.take(_OPEN_WINDOW, _read_open_window)
    scanner.take(_CLOCK_TIME, _read_exact)
    scanner.take(_PREPOSITION_HOUR, _read_exact)
    scanner.take(_PART_OF_DAY, _read_part_of_day)
    # what stands between two days ("au", "ou", "mon rdv du") is judged on this text
    scanner.between_days = scanner.text
    # days
    scanner.take(_NAMED_OFFSET, _read_from_another_day)
    scanner.take(_COUNTED_OFFSET, _read_from_another_day)
    scanner.take(_HOLIDAY, _read_holiday)
    scanner.take(_WEEK_OF, _read_week_of)
    scanner.take(_MONTH_DATE, _read_date)
    scanner.take(_NUMERIC_DATE, _read_date)
    scanner.take(_RELATIVE_DAY, _read_relative_day)
    scanner.take(_IN_DAYS, _read_in_days)
    scanner.take(_WEEKEND, _read_weekend)
    scanner.take(_WEEK, _read_week)
    scanner.take(_MONTH_RANGE, _read_month_range)
    scanner.take(_RELATIVE_MONTH, _read_relative_month)
    scanner.take(_WEEKDAY_AND_DAY, _read_date)
    scanner.take(_WEEKDAY, _read_weekday)
    scanner.take(_DAY_OF_MONTH, _read_day_of_month)
    scanner.days.sort(key=lambda spec: spec.start)
    scanner.clocks.sort(key=lambda spec: spec.start)
    return scanner, farewells


def parse_request(
    text: str,
    now: datetime,
    services: Sequence[ServiceLike] = (),
    practitioners: Sequence[str] = (),
) -> BookingRequest:
    """What the message asks for. `now` is aware; days and times are local to its zone."""
    practitioner = _find_practitioner(_fold(text), practitioners)
    folded = _normalise(text)
    context = _Context(now.date(), now.time().replace(tzinfo=None), now, folded)
    scanner, farewells = _scan(folded, context)

    def outside_farewells(spec: _Spec) -> bool:
        return not any(start <= spec.start and spec.end <= end for start, end in farewells)

    mentions = [*scanner.days, *scanner.clocks]
    service = _find_service(folded, services)
    asap = _ASAP.search(folded) is not None
    intent = _intent(
        folded,
        speaks_of_time=any(outside_farewells(spec) for spec in mentions),
        wants_something=asap or service is not None,
    )
    if intent is Intent.OTHER:  # an acknowledgement asks for no day
        return BookingRequest(intent, None, None, None, None, service, asap)
    days, times, part, old_day = _when(intent, scanner, folded)
    return BookingRequest(
        intent,
        *days,
        *times,
        service,
        asap,
        part,
        old_day if intent is Intent.RESCHEDULE else None,
        practitioner,
    )


def _when(
    intent: Intent, scanner: _Scanner, folded: str
) -> tuple[
    tuple[date, date] | tuple[None, None],
    tuple[time | None, time | None],
    DayPart | None,
    date | None,
]:
    """(days, times, part of the day, old day) the request is about."""
    context = scanner.context
    days = _link_lists(scanner.days, scanner.between_days, intent is Intent.RESCHEDULE)
    old: list[_DaySpec] = []
    clocks = scanner.clocks
    wanted_from = _wanted_from(folded) if intent is Intent.BOOK else 0
    if any(spec.start >= wanted_from for spec in [*days, *clocks]):
        days = [spec for spec in days if spec.start >= wanted_from]
        clocks = [spec for spec in clocks if spec.start >= wanted_from]
    if intent is Intent.RESCHEDULE and days:
        old, days, clocks = _split_reschedule(days, clocks, scanner.between_days)
    time_from, time_to, part = _pick_time(clocks)
    new_spans = {(spec.start, spec.end) for spec in days}

    def is_new(found: _DaySpec | _Days) -> bool:
        return (found.start, found.end) in new_spans

    # the time asked for decides whether "le 28" is still ahead this month
    resolved = _resolve_all([*old, *days], context, lambda s: time_to if is_new(s) else None)
    new_days = _combine_days([found for found in resolved if is_new(found)])
    old_days = _combine_days([found for found in resolved if not is_new(found)])
    old_day = None if old_days is None else old_days[0]
    if new_days is None and time_to is not None:
        # a reschedule to another time keeps the day; a bare clock time is today or tomorrow;
        # a bare part of the day ("plutôt le matin") names no day
        day = (
            old_day
            if old_day is not None
            else (None if part is not None else _day_for_time(context, time_to))
        )
        new_days = None if day is None else (day, day)
    return new_days or (None, None), (time_from, time_to), part, old_day
