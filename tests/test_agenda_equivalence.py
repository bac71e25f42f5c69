"""The fast free-slot search offers exactly what a plain reading of the rules offers.

``free_slots`` counts in UTC epoch seconds and builds no time zone round trip per candidate
when the clocks do not change in an opening period. The reference below is the plain
reading it replaced: every candidate built on the wall clock, checked against the zone,
compared with every busy span. Generated agendas (days around both DST changes, night
openings, blocks of the whole business, steps and durations that do not divide the hours)
must give the same slots, in the same order.
"""

import copy
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.agenda import (
    Busy,
    Occupancy,
    OpeningRules,
    Slot,
    Wanted,
    free_slots,
    one_per_start,
    search,
)
from bot.config import parse_settings
from bot.offers import reading, settle, windows

PARIS = ZoneInfo("Europe/Paris")
EXAMPLE = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "config.example.yaml").read_text(encoding="utf-8")
)
PRACTITIONERS = ["Dr Dupont", "Dr Martin"]
# Both of 2027's clock changes in Paris, and ordinary days beside them.
DAYS = [date(2027, 3, 27), date(2027, 3, 28), date(2027, 10, 30), date(2027, 10, 31)]
DAYS += [date(2027, 1, 11), date(2027, 1, 12)]


def _rules(hours: list[str], step: int, notice: int, weekends: bool = True) -> OpeningRules:
    data = copy.deepcopy(EXAMPLE)
    business = data["businesses"][0]
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    business["hours"] = {day: hours for day in weekdays[: 7 if weekends else 5]}
    business["closed"] = []
    business["public_holidays"] = None
    business["slot_step"] = step
    business["min_notice"] = f"{notice}m"
    business["practitioners"] = PRACTITIONERS
    return OpeningRules(parse_settings(data).businesses[0], PARIS)


def _exists(moment: datetime) -> bool:
    round_trip = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return round_trip.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _overlaps(busy: list[Busy], practitioner: str, start: datetime, end: datetime) -> bool:
    return any(
        b.start < end and start < b.end for b in busy if b.practitioner in (None, practitioner)
    )


def reference(
    rules,
    duration,
    busy,
    *,
    now,
    first_day,
    last_day,
    time_from=None,
    time_to=None,
    practitioners=None,
):
    business = rules.business
    step = timedelta(minutes=business.slot_step)
    earliest = now.astimezone(UTC) + business.min_notice
    day = first_day
    while day <= last_day:
        for opens, closes in rules.periods(day):
            start = opens
            while True:
                start_utc = start.astimezone(UTC)
                end_utc = start_utc + duration
                if end_utc > closes.astimezone(UTC):
                    break
                if (
                    start_utc >= earliest
                    and _exists(start)
                    and (time_from is None or start.time() >= time_from)
                    and (time_to is None or start.time() <= time_to)
                ):
                    for practitioner in practitioners or business.practitioners:
                        if not _overlaps(busy, practitioner, start_utc, end_utc):
                            yield Slot(start, end_utc.astimezone(rules.zone), practitioner)
                start += step
        day += timedelta(days=1)


def reference_search(rules, duration, busy, wanted, *, now, limit=6):
    """``search`` as it read before: every free slot of the 29 days around an exact time."""
    today = rules.today(now)
    horizon = rules.last_day(now)
    first = max(wanted.day_from or today, today)
    last = min(wanted.day_to or wanted.day_from or horizon, horizon)
    if first > horizon:
        return []
    chosen = [wanted.practitioner] if wanted.practitioner else None

    def scan(first_day, last_day, **window):
        return one_per_start(
            reference(
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
        around = list(
            scan(max(today, first - timedelta(days=14)), min(horizon, last + timedelta(days=14)))
        )
        nearest = sorted(around, key=lambda slot: (abs(slot.start - target), slot.start))[:limit]
        return sorted(nearest, key=lambda slot: (slot.start != target, slot.start))
    window = {"time_from": wanted.time_from, "time_to": wanted.time_to}
    found = list(islice(scan(first, last, **window), limit))
    if not found:
        found = list(islice(scan(last + timedelta(days=1), horizon, **window), limit))
    if not found:
        found = list(islice(scan(first, horizon), limit))
    return found


HOURS = st.sampled_from(
    [
        ["08:30-12:30", "14:00-19:00"],
        ["01:00-04:00"],  # across the night DST skips or repeats an hour
        ["00:00-02:30", "02:30-23:45"],
        ["09:10-11:50"],
    ]
)


@st.composite
def busy_spans(draw, day: date) -> list[Busy]:
    spans = []
    for _ in range(draw(st.integers(0, 12))):
        start = datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC) + timedelta(
            minutes=draw(st.integers(0, 26 * 60))
        )
        length = timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 180])))
        who = draw(st.sampled_from([None, *PRACTITIONERS]))
        spans.append(Busy(start, start + length, who))
    return spans


@settings(max_examples=300, deadline=None)
@given(
    hours=HOURS,
    step=st.sampled_from([10, 15, 20, 30, 45]),
    minutes=st.sampled_from([15, 30, 45, 60, 90]),
    notice=st.sampled_from([0, 120]),
    day=st.sampled_from(DAYS),
    hour_now=st.integers(0, 23),
    window=st.sampled_from([(None, None), (time(1, 30), time(3, 0)), (time(10), time(10))]),
    data=st.data(),
)
def test_free_slots_are_the_plain_reading_of_the_rules(
    hours, step, minutes, notice, day, hour_now, window, data
):
    rules = _rules(hours, step, notice)
    busy = data.draw(busy_spans(day - timedelta(days=1))) + data.draw(busy_spans(day))
    now = datetime.combine(day - timedelta(days=1), time(hour_now), tzinfo=PARIS)
    duration = timedelta(minutes=minutes)
    asked = {"now": now, "first_day": day - timedelta(days=1), "last_day": day + timedelta(1)}
    asked |= {"time_from": window[0], "time_to": window[1]}
    fast = list(free_slots(rules, duration, busy, **asked))
    plain = list(reference(rules, duration, busy, **asked))
    assert fast == plain
    stored = [(b.start.timestamp(), b.end.timestamp(), b.practitioner) for b in busy]
    occupancy = Occupancy.from_epochs(stored, PRACTITIONERS)
    assert list(free_slots(rules, duration, occupancy, **asked)) == plain
    # Read in two parts, as an offer widening its window does, a span on both sides.
    cut = data.draw(st.integers(0, len(stored)))
    both = stored[cut - 1 : cut] if cut else []
    pieces = Occupancy.from_epochs(stored[:cut], PRACTITIONERS).adding(stored[cut:] + both)
    assert list(free_slots(rules, duration, pieces, **asked)) == plain
    assert [(s.start.utcoffset(), s.end.utcoffset()) for s in fast] == [
        (s.start.utcoffset(), s.end.utcoffset()) for s in plain
    ]


def test_the_search_offers_the_same_on_a_busy_week():
    """The example business's own hours, two practitioners, a full morning and a block."""
    data = copy.deepcopy(EXAMPLE)
    rules = OpeningRules(parse_settings(data).businesses[0], PARIS)
    monday = date(2027, 1, 11)
    busy = [
        Busy(
            datetime.combine(monday + timedelta(days=n % 5), time(8 + n % 10, 30), PARIS),
            datetime.combine(monday + timedelta(days=n % 5), time(9 + n % 10), PARIS),
            PRACTITIONERS[n % 2],
        )
        for n in range(40)
    ]
    busy.append(
        Busy(datetime.combine(monday, time(14), PARIS), datetime.combine(monday, time(19), PARIS))
    )
    now = datetime.combine(monday, time(7), PARIS)
    half = timedelta(minutes=30)
    for day in (monday, monday + timedelta(days=1), monday + timedelta(days=9)):
        asked = {"now": now, "first_day": day, "last_day": day}
        assert list(free_slots(rules, half, busy, **asked)) == list(
            reference(rules, half, busy, **asked)
        )
    wanted = Wanted(monday + timedelta(days=1), None, time(10), time(10))
    offered = search(rules, half, busy, wanted, now=now)
    assert [s.start.strftime("%a %H:%M") for s in offered][:1] == ["Tue 10:00"]


@st.composite
def busy_weeks(draw, monday: date) -> list[Busy]:
    """A crowded few weeks: runs of appointments, some days full, blocks of the business."""
    spans = []
    for _ in range(draw(st.integers(0, 120))):
        day = monday + timedelta(days=draw(st.integers(-3, 40)))
        start = datetime.combine(
            day, time(draw(st.integers(7, 19)), draw(st.sampled_from([0, 15, 30, 45]))), PARIS
        )
        length = timedelta(minutes=draw(st.sampled_from([15, 30, 60, 240, 600])))
        who = draw(st.sampled_from([None, *PRACTITIONERS, *PRACTITIONERS]))
        spans.append(Busy(start, start + length, who))
    return spans


@settings(max_examples=400, deadline=None)
@given(
    hours=st.sampled_from(
        [["08:30-12:30", "14:00-19:00"], ["00:00-02:30", "21:00-23:45"], ["01:00-04:00"]]
    ),
    step=st.sampled_from([15, 20, 30]),
    minutes=st.sampled_from([30, 45, 60]),
    start_day=st.integers(0, 30),
    span=st.sampled_from([0, 0, 1, 4]),
    moment=st.sampled_from(
        [
            None,
            (time(9), time(9)),
            (time(18, 45), time(18, 45)),
            (time(0, 15), time(0, 15)),
            (time(23, 30), time(23, 30)),
            (time(14), time(17)),
        ]
    ),
    practitioner=st.sampled_from([None, *PRACTITIONERS]),
    limit=st.sampled_from([1, 3, 6]),
    data=st.data(),
)
def test_the_search_offers_what_the_plain_reading_offers(
    hours, step, minutes, start_day, span, moment, practitioner, limit, data
):
    rules = _rules(hours, step, 120)
    monday = date(2027, 3, 8)  # the clocks change on the 28th: some searches cross it
    busy = data.draw(busy_weeks(monday))
    now = datetime.combine(monday, time(10), PARIS)
    first = monday + timedelta(days=start_day)
    time_from, time_to = moment or (None, None)
    wanted = Wanted(
        first, first + timedelta(days=span) if span else None, time_from, time_to, practitioner
    )
    duration = timedelta(minutes=minutes)
    assert search(rules, duration, busy, wanted, now=now, limit=limit) == reference_search(
        rules, duration, busy, wanted, now=now, limit=limit
    )


# -- an offer from the agenda of the days asked for only -------------------------------------


def _offer_from_what_is_read(rules, duration, wanted, busy, now, limit):
    """``Booking.offer``'s reading: the spans overlapping each window's reading, window after
    window, then the whole horizon's; and how many readings it took."""
    occupancy = Occupancy(busy, PRACTITIONERS)
    for count, within in enumerate(windows(rules, wanted, now), start=1):
        start, end = reading(rules, *within)
        read = [b for b in busy if b.start < end and start < b.end]
        offer = settle(
            rules, duration, wanted, Occupancy(read, PRACTITIONERS), now, limit, within=within
        )
        if offer is not None:
            return offer, count
    return settle(rules, duration, wanted, occupancy, now, limit, within=None), None


@settings(max_examples=400, deadline=None)
@given(
    hours=st.sampled_from([["08:30-12:30", "14:00-19:00"], ["00:00-02:30", "21:00-23:45"]]),
    weekends=st.booleans(),
    minutes=st.sampled_from([30, 60]),
    start_day=st.integers(-2, 95),
    kind=st.sampled_from(["day", "week", "exact", "exact, no day", "window"]),
    moment=st.sampled_from([time(9), time(18, 45), time(0, 15), time(23, 30), time(15)]),
    practitioner=st.sampled_from([None, *PRACTITIONERS, "Dr Nobody"]),
    limit=st.sampled_from([1, 6]),
    data=st.data(),
)
def test_an_offer_from_the_days_asked_for_is_the_whole_horizons(
    hours, weekends, minutes, start_day, kind, moment, practitioner, limit, data
):
    rules = _rules(hours, 30, 120, weekends)
    monday = date(2027, 3, 8)
    busy = data.draw(busy_weeks(monday))
    now = datetime.combine(monday, time(10), PARIS)
    day = monday + timedelta(days=start_day)
    wanted = {
        "day": Wanted(day, day, practitioner=practitioner),
        "week": Wanted(day, day + timedelta(days=6), practitioner=practitioner),
        "exact": Wanted(day, day, moment, moment, practitioner),
        "exact, no day": Wanted(None, None, moment, moment, practitioner),
        "window": Wanted(day, day, time(14), time(17), practitioner),
    }[kind]
    duration = timedelta(minutes=minutes)
    whole = settle(rules, duration, wanted, Occupancy(busy, PRACTITIONERS), now, limit, within=None)
    narrowed, _ = _offer_from_what_is_read(rules, duration, wanted, busy, now, limit)
    assert narrowed == whole


def test_an_exact_time_on_a_free_afternoon_reads_its_own_day_only():
    rules = _rules(["08:30-12:30", "14:00-19:00"], 30, 120)
    monday = date(2027, 3, 8)
    now = datetime.combine(monday, time(10), PARIS)
    tuesday = monday + timedelta(days=1)
    busy = [
        Busy(
            datetime.combine(tuesday + timedelta(days=n // 8), time(8 + n % 8, 30), PARIS),
            datetime.combine(tuesday + timedelta(days=n // 8), time(9 + n % 8), PARIS),
            PRACTITIONERS[n % 2],
        )
        for n in range(80)
    ]
    wanted = Wanted(tuesday, tuesday, time(15), time(15))
    offer, readings = _offer_from_what_is_read(rules, timedelta(minutes=30), wanted, busy, now, 6)
    assert readings == 1
    assert offer.exact and offer.slots[0].start == datetime.combine(tuesday, time(15), PARIS)
    assert windows(rules, wanted, now)[0] == (tuesday, tuesday)
