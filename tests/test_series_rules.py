"""Reading a recurrence in what a secretary types, and a series' times across DST (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.config import parse_settings
from bot.series import DEFAULT_COUNT, Recurrence, occurrences, read_recurrence, read_series_booking
from tests.conftest import PARIS


@pytest.mark.parametrize(
    ("text", "recurrence", "rest"),
    [
        (
            "Mme Lefèvre kiné tous les mardis à 10h x10",
            Recurrence(1, 10),
            "Mme Lefèvre kiné mardi à 10h",
        ),
        (
            "Mr Smith physio every Tuesday at 10am x10",
            Recurrence(1, 10),
            "Mr Smith physio Tuesday at 10am",
        ),
        ("chaque semaine ×6", Recurrence(1, 6), ""),
        ("chaque jeudi 14h 8 séances", Recurrence(1, 8), "jeudi 14h"),
        ("toutes les 2 semaines 6 séances", Recurrence(2, 6), ""),
        ("une semaine sur deux mardi 10h 5 fois", Recurrence(2, 5), "mardi 10h"),
        ("tous les 15 jours x4", Recurrence(2, 4), ""),
        ("every other week for 8 weeks", Recurrence(2, 4), ""),
        ("every 3 weeks on Monday 6 times", Recurrence(3, 6), "on Monday"),
        ("weekly x12", Recurrence(1, 12), ""),
        ("tous les vendredis", Recurrence(1, DEFAULT_COUNT), "vendredi"),
        ("x6 lundi 9h", Recurrence(1, 6), "lundi 9h"),
    ],
)
def test_a_recurrence_is_read_and_taken_out_of_the_text(text, recurrence, rest):
    assert read_recurrence(text) == (recurrence, rest)


@pytest.mark.parametrize(
    "text",
    [
        "Mme Durand 06 12 34 56 78 détartrage mardi 10h",
        "Mr Smith 0611223344 cleaning on Tuesday at 10am",
        "mardi 10h x1",  # one is no series
        "tous les mardis x99",  # more than a year of weeks: a typo, not a series
    ],
)
def test_no_series_where_none_is_asked(text):
    assert read_recurrence(text) == (None, text)


def test_a_series_booking_reads_the_caller_the_first_time_and_the_recurrence(example_data):
    business = parse_settings(example_data).businesses[0]
    now = datetime(2027, 1, 11, 9, tzinfo=PARIS)
    read, recurrence = read_series_booking(
        "Mme Lefèvre 0611223344 détartrage tous les mardis à 10h x10",
        now,
        business.services,
        business.practitioners,
    )
    assert recurrence == Recurrence(1, 10)
    assert (read.name, read.phone, read.service) == (
        "Mme Lefèvre",
        "+33 6 11 22 33 44",
        "detartrage",
    )
    assert (read.wanted.day_from, read.wanted.time_from) == (date(2027, 1, 12), time(10))


def test_a_series_across_the_last_sunday_of_march_keeps_ten_o_clock_local():
    first = datetime(2027, 3, 16, 10, tzinfo=PARIS)  # the clocks go forward on 28 March
    starts = occurrences(first, Recurrence(1, 4), PARIS)
    assert [s.date() for s in starts] == [
        date(2027, 3, 16),
        date(2027, 3, 23),
        date(2027, 3, 30),
        date(2027, 4, 6),
    ]
    assert {s.time() for s in starts} == {time(10)}
    assert [s.astimezone(UTC).hour for s in starts] == [9, 9, 8, 8]
    # A week apart in wall-clock time, an hour less in elapsed time across the change.
    elapsed = starts[2].astimezone(UTC) - starts[1].astimezone(UTC)
    assert elapsed == timedelta(days=7) - timedelta(hours=1)


def test_every_two_weeks_across_the_last_sunday_of_october():
    first = datetime(2027, 10, 19, 10, tzinfo=PARIS)  # back to winter time on 31 October
    starts = occurrences(first.astimezone(UTC), Recurrence(2, 3), PARIS)
    assert [(s.date(), s.time()) for s in starts] == [
        (date(2027, 10, 19), time(10)),
        (date(2027, 11, 2), time(10)),
        (date(2027, 11, 16), time(10)),
    ]
    assert [s.astimezone(UTC).hour for s in starts] == [8, 9, 9]
