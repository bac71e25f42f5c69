"""bot.nlu days by rule: abbreviations of days and months, "X en huit", days counted from another
day, numeric dates whatever their separator, "suivant" / "next"."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.nlu import request_fields
from bot.nlu import Intent, parse_request
from tests.test_nlu import MONDAY, NOWS, PARIS, at, read

# MONDAY is Monday 11 January 2027, 08:47

# --------------------------------------------------------------------------- abbreviations


@pytest.mark.parametrize(
    ("text", "day", "clock"),
    [
        ("lun. 10h", "2027-01-18", "10:00"),
        ("mar. 10h", "2027-01-12", "10:00"),
        ("mer 14h", "2027-01-13", "14:00"),
        ("jeu 14h", "2027-01-14", "14:00"),
        ("ven.", "2027-01-15", None),
        ("sam matin", "2027-01-16", "morning"),
        ("dim. à 10h", "2027-01-17", "10:00"),
        ("jeu prochain", "2027-01-14", None),
        ("dispo jeu. ?", "2027-01-14", None),
        ("Mon 10am", "2027-01-18", "10:00"),
        ("Tue", "2027-01-12", None),
        ("rdv Tue 10am", "2027-01-12", "10:00"),
        ("Wed at 3", "2027-01-13", "15:00"),
        ("Thu 14th", "2027-01-14", None),
        ("Fri afternoon", "2027-01-15", "afternoon"),
        ("Sat the 16th", "2027-01-16", None),
        ("on Sun", "2027-01-17", None),
        ("next Mon", "2027-01-18", None),
        ("Tues morning", "2027-01-12", "morning"),
        ("Thurs at 9", "2027-01-14", "09:00"),
    ],
)
def test_weekday_abbreviations(text: str, day: str, clock: str | None) -> None:
    assert read(text) == ("book", day, clock)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("lun ou mar", "2027-01-18..2027-01-19"),
        ("mar ou mer", "2027-01-12..2027-01-13"),
        ("mer et jeu", "2027-01-13..2027-01-14"),
        ("Mon or Tue", "2027-01-18..2027-01-19"),
        ("Mon to Wed", "2027-01-18..2027-01-20"),
    ],
)
def test_abbreviations_listed_together_are_days(text: str, days: str) -> None:
    assert read(text)[1] == days


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("une rage de dents qui me tue", None),  # "tue" kills
        ("je voudrais annuler mon prochain rdv", None),  # "mon" is "my"
        ("mon après-midi est libre", None),
        ("on va à la mer demain", "2027-01-12"),  # the sea
        ("un jeu pour mon fils", None),  # a game
        ("la mer 12 fois par an", None),
        ("rdv avec Sam samedi", "2027-01-16"),  # a name
        ("the sun is out, any slot tomorrow?", "2027-01-12"),
        ("I sat in your waiting room for an hour", None),
    ],
)
def test_words_that_look_like_abbreviations_are_no_days(text: str, day: str | None) -> None:
    assert read(text)[1] == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("le 5 mar", "2027-03-05"),  # a number before: the month
        ("5 mar.", "2027-03-05"),
        ("mar 12", "2027-01-12"),  # the coming 12th is a Tuesday: mardi 12
        ("mar 19 à 10h", "2027-01-19"),
        ("mar 15", "2027-03-15"),  # the coming 15th is a Friday: March
        ("Mar 12 2027", "2027-03-12"),  # a year: the month
        ("mar. 12 avril", "2027-04-12"),  # a month after it: the weekday of that date
    ],
)
def test_mar_is_mardi_or_march_by_what_surrounds_it(text: str, day: str) -> None:
    assert read(text)[1] == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("le 5 janv.", "2028-01-05"),  # past this year
        ("le 20 janv", "2027-01-20"),
        ("5 févr.", "2027-02-05"),
        ("le 3 fév", "2027-02-03"),
        ("12 avr.", "2027-04-12"),
        ("14 juil.", "2027-07-14"),
        ("12 sept.", "2027-09-12"),
        ("3 oct.", "2027-10-03"),
        ("5 nov.", "2027-11-05"),
        ("24 déc.", "2027-12-24"),
        ("Jan 20", "2027-01-20"),
        ("Feb 3", "2027-02-03"),
        ("Apr 5th", "2027-04-05"),
        ("Jun 5", "2027-06-05"),
        ("Jul 14", "2027-07-14"),
        ("Aug 16", "2027-08-16"),
        ("Sep 9", "2027-09-09"),
        ("Sept 12", "2027-09-12"),
        ("Oct 1st", "2027-10-01"),
        ("Nov 5", "2027-11-05"),
        ("Dec. 24", "2027-12-24"),
        ("the 3rd of Feb", "2027-02-03"),
    ],
)
def test_month_abbreviations(text: str, day: str) -> None:
    assert read(text)[1] == day


# --------------------------------------------------------------------------- X en huit


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("lundi en huit", "2027-01-25"),  # the coming Monday is the 18th; a week after it
        ("mardi en huit", "2027-01-19"),
        ("mardi en quinze", "2027-01-26"),
        ("jeudi en 8", "2027-01-21"),
        ("samedi en quinze", "2027-01-30"),
        ("mar. en huit", "2027-01-19"),
        ("demain en huit", "2027-01-19"),
        ("aujourd'hui en huit", "2027-01-18"),
        ("aujourd'hui en quinze", "2027-01-25"),
        ("Monday week", "2027-01-25"),
        ("a week on Monday", "2027-01-25"),
        ("a week from Tuesday", "2027-01-19"),
        ("Tuesday fortnight", "2027-01-26"),
    ],
)
def test_a_day_en_huit_or_en_quinze(text: str, day: str) -> None:
    assert read(text)[1] == day


def test_en_huit_keeps_its_time() -> None:
    assert read("lundi en huit à 10h") == ("book", "2027-01-25", "10:00")
    assert read("lundi en 15 min") != read("lundi en quinze")  # minutes, not two weeks


WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


@given(st.sampled_from(WEEKDAYS), st.sampled_from([("huit", 7), ("quinze", 14)]), NOWS)
@settings(max_examples=200, deadline=None)
def test_en_huit_is_a_week_after_the_day_alone(name: str, later: tuple, now: datetime) -> None:
    if now.date() >= date(9999, 12, 1):  # no weeks left in the calendar
        return
    word, days = later
    alone = parse_request(f"rdv {name}", now).day_from
    assert alone is not None
    assert parse_request(f"rdv {name} en {word}", now).day_from == alone + timedelta(days=days)


# --------------------------------------------------------------------------- counted days


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("le lendemain", "2027-01-12"),  # no day named before: from today
        ("le surlendemain", "2027-01-13"),
        ("deux jours plus tard", "2027-01-13"),
        ("une semaine plus tard", "2027-01-18"),
        ("huit jours plus tard", "2027-01-18"),  # a week, as in "dans huit jours"
        ("the next day", "2027-01-12"),
        ("two days later", "2027-01-13"),
        ("a week later", "2027-01-18"),
        ("après-demain", "2027-01-13"),
        ("dans deux jours", "2027-01-13"),
        ("dans une semaine", "2027-01-18"),
        ("in two days", "2027-01-13"),
        ("the day after tomorrow", "2027-01-13"),
    ],
)
def test_relative_days(text: str, day: str) -> None:
    assert read(text)[1] == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("jeudi ou le lendemain", "2027-01-14..2027-01-15"),  # from the day named before
        ("mardi, sinon deux jours plus tard", "2027-01-12..2027-01-14"),
        ("le lendemain de Noël", "2027-12-26"),  # from the day written after
        ("la veille du 5 mai", "2027-05-04"),
        ("the day before Christmas", "2027-12-24"),
        ("2 days before Friday", "2027-01-13"),
        ("trois jours après le 10 février", "2027-02-13"),
        ("the day after next Monday", "2027-01-19"),
        ("la veille", None),  # the day before today is past
    ],
)
def test_days_counted_from_another_day(text: str, day: str | None) -> None:
    assert read(text)[1] == day


def test_a_reschedule_to_the_next_day_counts_from_the_old_one() -> None:
    request = parse_request("déplacer mon rdv de jeudi au lendemain", MONDAY)
    assert request.intent is Intent.RESCHEDULE
    assert (request.old_day, request.day_from) == (date(2027, 1, 14), date(2027, 1, 15))


# --------------------------------------------------------------------------- numeric dates


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("17 02", "2027-02-17"),
        ("le 17 02", "2027-02-17"),
        ("17.02", "2027-02-17"),
        ("17-02", "2027-02-17"),
        ("17/02", "2027-02-17"),
        ("le 05.03", "2027-03-05"),
        ("25-12", "2027-12-25"),
        ("17.02.2027", "2027-02-17"),
        ("17-02-2027", "2027-02-17"),
        ("17 02 2027", "2027-02-17"),
        ("le 20.02.27", "2027-02-20"),
        ("le 12 01 2028", "2028-01-12"),
    ],
)
def test_numeric_dates_whatever_the_separator(text: str, day: str) -> None:
    assert read(text)[1] == day


def test_a_numeric_date_keeps_the_time_after_it() -> None:
    assert read("le 17 02 à 10h") == ("book", "2027-02-17", "10:00")
    assert read("le 10.12 à 10.30") == ("book", "2027-12-10", "10:30")


@pytest.mark.parametrize(
    "text",
    [
        "le 20 02 2014",  # a past year: no day, as an impossible date gives none
        "le 12/03/2014",
        "20.02.2014",
        "le 5 avril 2020",
        "le 10/01/27",  # yesterday's year, and the 10th is past
        "mon numéro est le 06 12 34 56 78",
        "Mme Durand 06 12 34",  # a phone number cut short
        "ça coûte 17.02 €",
        "le 30 02",
    ],
)
def test_past_impossible_or_no_dates(text: str) -> None:
    assert read(text)[1] is None


# --------------------------------------------------------------------------- suivant / next


@pytest.mark.parametrize(
    ("text", "now", "day"),
    [
        ("mercredi suivant", MONDAY, "2027-01-13"),  # no day before it: the next one
        ("le mercredi suivant", MONDAY, "2027-01-13"),
        ("next Wednesday", MONDAY, "2027-01-13"),
        ("the following Wednesday", MONDAY, "2027-01-13"),
        ("next Wednesday", at("2027-01-12T10:00"), "2027-01-13"),  # strictly after today
        ("next Wednesday", at("2027-01-13T10:00"), "2027-01-20"),
        ("mercredi suivant", at("2027-01-13T10:00"), "2027-01-20"),
        ("lundi 18 ou le mercredi suivant", MONDAY, "2027-01-18..2027-01-20"),
    ],
)
def test_suivant_and_next_are_the_next_such_day(text: str, now: datetime, day: str) -> None:
    assert read(text, now)[1] == day


def test_the_following_weekday_of_a_named_day() -> None:
    request = parse_request("déplacer mon rdv du vendredi 2 avril au mercredi suivant", MONDAY)
    assert (request.old_day, request.day_from) == (date(2027, 4, 2), date(2027, 4, 7))


# --------------------------------------------------------------------------- English requests


@pytest.mark.parametrize(
    "text",
    [
        "a check-up next Tuesday around 3pm",
        "teeth cleaning next tuesday 3pm",
        "Could I get a check-up next Tue at 3 pm?",
        "cleaning Tue. 15:00",
    ],
)
def test_english_requests_read_day_and_time(text: str) -> None:
    request = parse_request(text, datetime(2027, 1, 11, 8, 47, tzinfo=PARIS))
    assert request_fields(request) == ("2027-01-12", "15:00")
