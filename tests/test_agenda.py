"""The agenda's arithmetic, pure: no database, no Telegram."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.agenda import Busy, OpeningRules, Wanted, free_slots, open_days, search
from bot.config import parse_settings

PARIS = ZoneInfo("Europe/Paris")
HALF_HOUR = timedelta(minutes=30)
# Monday 11 January 2027, 07:00 in Paris: an ordinary working Monday.
MONDAY_MORNING = datetime(2027, 1, 11, 7, 0, tzinfo=PARIS)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def dupont(settings) -> OpeningRules:
    business = settings.businesses[0]
    return OpeningRules(business, PARIS)


def starts(slots) -> list[str]:
    return [f"{s.start:%H:%M} {s.practitioner}" for s in slots]


def test_a_day_offers_every_step_of_each_opening_range_for_each_practitioner(dupont):
    day = date(2027, 1, 11)
    sunday_evening = at(date(2027, 1, 10), 20)
    slots = list(free_slots(dupont, HALF_HOUR, [], now=sunday_evening, first_day=day, last_day=day))
    times = sorted({s.start.strftime("%H:%M") for s in slots})
    assert times[:3] == ["08:30", "08:45", "09:00"]
    assert "12:00" in times and "12:15" not in times  # 12:15 + 30 min passes 12:30
    assert "14:00" in times and times[-1] == "18:30"
    assert len(slots) == 2 * len(times)


def test_minimum_notice_hides_the_next_two_hours(dupont):
    now = at(date(2027, 1, 11), 9, 5)
    day = now.date()
    first = next(free_slots(dupont, HALF_HOUR, [], now=now, first_day=day, last_day=day))
    assert first.start == at(day, 11, 15)


def test_closed_days_closures_and_public_holidays_have_no_slot(dupont):
    assert dupont.periods(date(2027, 1, 9)) == []  # a Saturday
    assert dupont.periods(date(2026, 12, 28)) == []  # inside the configured closure
    assert dupont.holiday(date(2027, 5, 6)) is not None  # Ascension, a Thursday
    assert dupont.periods(date(2027, 5, 6)) == []
    assert dupont.periods(date(2027, 5, 13)) != []


def test_open_days_skip_week_ends(dupont):
    friday = datetime(2027, 1, 15, 7, 0, tzinfo=PARIS)
    assert open_days(dupont, friday, 3) == [date(2027, 1, 15), date(2027, 1, 18), date(2027, 1, 19)]


def test_a_busy_practitioner_leaves_the_other_free(dupont):
    day = date(2027, 1, 11)
    busy = [Busy(at(day, 10), at(day, 10, 30), "Dr Dupont")]
    slots = free_slots(
        dupont,
        HALF_HOUR,
        busy,
        now=MONDAY_MORNING,
        first_day=day,
        last_day=day,
        time_from=time(9, 45),
        time_to=time(10, 30),
    )
    assert starts(slots) == [
        "09:45 Dr Martin",
        "10:00 Dr Martin",
        "10:15 Dr Martin",
        "10:30 Dr Dupont",
        "10:30 Dr Martin",
    ]


def test_a_block_of_the_whole_business_stops_everyone(dupont):
    day = date(2027, 1, 11)
    busy = [Busy(at(day, 14), at(day, 16))]
    slots = list(
        free_slots(
            dupont,
            HALF_HOUR,
            busy,
            now=MONDAY_MORNING,
            first_day=day,
            last_day=day,
            time_from=time(13, 0),
            time_to=time(17, 0),
        )
    )
    assert min(s.start for s in slots) == at(day, 16)


def test_a_long_busy_span_still_blocks_slots_that_start_inside_it(dupont):
    day = date(2027, 1, 11)
    busy = [
        Busy(at(day, 8, 30), at(day, 12, 30), "Dr Dupont"),
        Busy(at(day, 9), at(day, 9, 15), "Dr Dupont"),
    ]
    slots = free_slots(
        dupont,
        HALF_HOUR,
        busy,
        now=MONDAY_MORNING,
        first_day=day,
        last_day=day,
        time_to=time(12, 0),
    )
    assert {s.practitioner for s in slots} == {"Dr Martin"}


def test_the_slot_asked_for_comes_first_when_free(dupont):
    day = date(2027, 1, 12)
    slots = search(dupont, HALF_HOUR, [], Wanted(day, day, time(10), time(10)), now=MONDAY_MORNING)
    assert [f"{s.start:%H:%M}" for s in slots] == [
        "10:00",
        "09:15",
        "09:30",
        "09:45",
        "10:15",
        "10:30",
    ]


def test_else_the_nearest_free_slots_around_it(dupont):
    day = date(2027, 1, 12)
    busy = [Busy(at(day, 10), at(day, 10, 30))]
    slots = search(
        dupont, HALF_HOUR, busy, Wanted(day, day, time(10), time(10)), now=MONDAY_MORNING
    )
    assert [f"{s.start:%H:%M}" for s in slots] == [
        "09:00",
        "09:15",
        "09:30",
        "10:30",
        "10:45",
        "11:00",
    ]


def test_a_window_gives_its_earliest_free_slots(dupont):
    day = date(2027, 1, 12)
    slots = search(
        dupont, HALF_HOUR, [], Wanted(day, day, time(14), time(18)), now=MONDAY_MORNING, limit=3
    )
    assert [s.start for s in slots] == [at(day, 14), at(day, 14, 15), at(day, 14, 30)]


def test_a_full_day_range_moves_on_to_the_next_days(dupont):
    wednesday = date(2027, 1, 13)
    busy = [Busy(at(wednesday, 8), at(wednesday, 13))]
    slots = search(dupont, HALF_HOUR, busy, Wanted(wednesday, wednesday), now=MONDAY_MORNING)
    assert slots[0].start == at(date(2027, 1, 14), 8, 30)


def test_nothing_asked_gives_the_earliest(dupont):
    slots = search(dupont, HALF_HOUR, [], Wanted(), now=MONDAY_MORNING, limit=2)
    assert [s.start for s in slots] == [at(date(2027, 1, 11), 9), at(date(2027, 1, 11), 9, 15)]


def test_a_day_in_the_past_is_never_offered(dupont):
    last_week = date(2027, 1, 4)
    slots = search(dupont, HALF_HOUR, [], Wanted(last_week, last_week), now=MONDAY_MORNING)
    assert all(s.start > MONDAY_MORNING for s in slots)


def test_beyond_the_booking_horizon_there_is_nothing(dupont):
    far = date(2028, 6, 1)
    assert search(dupont, HALF_HOUR, [], Wanted(far, far), now=MONDAY_MORNING) == []


@pytest.fixture
def night_shift(config_data):
    """A business open across the night, to meet the hours DST skips and repeats."""
    business = config_data["businesses"][0]
    business["hours"] = {"sunday": ["01:00-04:00"]}
    business["closed"] = []
    business["public_holidays"] = None
    business["min_notice"] = "0m"
    return OpeningRules(parse_settings(config_data).businesses[0], PARIS)


def test_spring_forward_skips_the_missing_hour_and_keeps_durations(night_shift):
    day = date(2027, 3, 28)
    slots = list(
        free_slots(night_shift, HALF_HOUR, [], now=at(day, 0), first_day=day, last_day=day)
    )
    local_starts = {s.start.strftime("%H:%M") for s in slots}
    assert not any(t.startswith("02:") for t in local_starts)
    assert all(s.end.astimezone(UTC) - s.start.astimezone(UTC) == HALF_HOUR for s in slots)
    # 01:45 ends at 03:15 local time: half an hour later, across the jump.
    assert any(
        s.start.strftime("%H:%M") == "01:45" and s.end.strftime("%H:%M") == "03:15" for s in slots
    )


def test_fall_back_keeps_real_half_hours(night_shift):
    day = date(2027, 10, 31)
    slots = list(
        free_slots(night_shift, HALF_HOUR, [], now=at(day, 0), first_day=day, last_day=day)
    )
    assert all(s.end.astimezone(UTC) - s.start.astimezone(UTC) == HALF_HOUR for s in slots)
    # Opening hours are wall-clock: 01:00-04:00 lasts four real hours that night.
    starts_utc = sorted({s.start.astimezone(UTC) for s in slots})
    assert starts_utc[-1] - starts_utc[0] < timedelta(hours=4)
