"""bot.nlu clock times by rule: an hour, an optional "heure(s)", then minutes in any of the ways
French and English count them."""

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu import parse_request
from tests.test_nlu import MONDAY, read


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        # a quarter, a half, three quarters after the hour
        ("demain dix heures et quart", "10:15"),
        ("demain 10h et quart", "10:15"),
        ("demain dix heures et demie", "10:30"),
        ("demain onze heures trois quarts", "11:45"),
        ("demain 11h trois quarts", "11:45"),
        ("demain onze heures et trois quarts", "11:45"),
        ("demain midi et quart", "12:15"),
        ("tomorrow at a quarter past nine", "09:15"),
        ("tomorrow at half past ten", "10:30"),
        # minutes before the hour
        ("demain dix heures moins le quart", "09:45"),
        ("demain 10h moins quart", "09:45"),
        ("demain midi moins cinq", "11:55"),
        ("demain midi moins le quart", "11:45"),
        ("demain onze heures moins vingt", "10:40"),
        ("demain 14h moins 10", "13:50"),
        ("demain minuit moins le quart", "23:45"),
        ("tomorrow at twenty to four", "15:40"),
        ("tomorrow at ten minutes to noon", "11:50"),
        ("tomorrow at quarter to four", "15:45"),
        # minutes counted after the hour, with a unit or not
        ("demain quinze heures et quinze minutes", "15:15"),
        ("demain 15 heures 15 minutes", "15:15"),
        ("demain 9h 5 min", "09:05"),
        ("demain 10h15mn", "10:15"),
        ("demain dix heures vingt", "10:20"),
        ("demain midi cinq", "12:05"),
        ("tomorrow at five past ten", "10:05"),
        ("tomorrow at 25 minutes past 3", "15:25"),
        # a part of the day after the time moves it
        ("demain deux heures et demie de l'après-midi", "14:30"),
        ("demain huit heures moins le quart du soir", "19:45"),
        ("demain à 10.15", "10:15"),
    ],
)
def test_minutes_after_or_before_the_hour(text: str, clock: str) -> None:
    assert read(text) == ("book", "2027-01-12", clock)


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("onze heures trois quarts", "11:45"),
        ("midi moins cinq", "11:55"),
        ("quinze heures et quinze minutes", "15:15"),
        ("dix heures et quart", "10:15"),
        ("dix heures moins le quart", "09:45"),
        ("deux heures et demie de l'après-midi", "14:30"),
    ],
)
def test_the_issue_phrasings_alone(text: str, clock: str) -> None:
    assert read(text)[2] == clock


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("demain 10h deux personnes", "10:00"),  # a count of people, not minutes
        ("demain à dix heures une consultation", "10:00"),
        ("demain 14h 2 enfants", "14:00"),
        ("demain dix heures et onze heures", "10:00-11:00"),  # two hours, not 10:11
    ],
)
def test_a_count_of_something_is_no_minutes(text: str, clock: str) -> None:
    assert read(text)[2] == clock


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("demain entre dix heures et quart et onze heures", "10:15-11:00"),
        ("demain de 9h moins le quart à 10h", "08:45-10:00"),
        ("tomorrow from ten to four", "10:00-16:00"),  # a window, not 15:50
    ],
)
def test_windows_take_the_same_times(text: str, window: str) -> None:
    assert read(text) == ("book", "2027-01-12", window)


# The corpus README reads "fin de matinée" and its kin as the morning, a part of the day.
@pytest.mark.parametrize(
    ("text", "part", "window"),
    [
        ("vendredi en fin de matinée", "morning", (time(10), time(12))),
        ("vendredi fin de matinée", "morning", (time(10), time(12))),
        ("vendredi en fin de mat", "morning", (time(10), time(12))),
        ("vendredi en milieu de matinée", "morning", (time(8), time(12))),
        ("Friday late morning", "morning", (time(10), time(12))),
        ("late morning on Friday", "morning", (time(10), time(12))),
        ("vendredi en début d'après-midi", "afternoon", (time(14), time(16))),
        ("vendredi en fin d'aprem", "afternoon", (time(16), time(18))),
        ("Friday early afternoon", "afternoon", (time(14), time(16))),
    ],
)
def test_edges_of_a_part_of_the_day_are_that_part(text: str, part: str, window) -> None:
    """Still that part of the day (the corpus's reading), narrowed to the half said, so the
    offer starts where the patient meant: "fin de matinée" is not 08:30."""
    assert read(text) == ("book", "2027-01-15", part)
    request = parse_request(text, MONDAY)
    assert (request.time_from, request.time_to) == window


# minutes and how French writes them after an hour written in digits
FRENCH_MINUTES = {
    "et quart": 15,
    "et demie": 30,
    "trois quarts": 45,
    "moins le quart": -15,
    "moins cinq": -5,
    "moins dix": -10,
    "moins vingt": -20,
    "moins vingt cinq": -25,
    "cinq": 5,
    "dix": 10,
    "vingt": 20,
    "trente cinq": 35,
    "et 5 minutes": 5,
    "et quinze minutes": 15,
    "quarante minutes": 40,
}


@given(st.integers(13, 19), st.sampled_from(sorted(FRENCH_MINUTES)))
@settings(max_examples=150, deadline=None)
def test_any_afternoon_hour_with_any_french_minutes(hour: int, minutes: str) -> None:
    request = parse_request(f"demain {hour} heures {minutes}", MONDAY)
    moment = hour * 60 + FRENCH_MINUTES[minutes]
    expected = time(moment // 60, moment % 60)
    assert (request.time_from, request.time_to) == (expected, expected)
