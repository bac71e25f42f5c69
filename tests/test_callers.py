"""Reading what the secretary types about a phone caller: name, phone, service, day, time."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.agenda import Wanted
from bot.callers import read_booking, read_caller
from tests.conftest import MONDAY_9AM


@pytest.fixture(scope="module")
def services(example_data):
    from bot.config import parse_settings

    return parse_settings(example_data).businesses[0].services


TUESDAY_10 = Wanted(date(2027, 1, 12), date(2027, 1, 12), time(10), time(10))


@pytest.mark.parametrize(
    ("text", "name", "phone", "service", "wanted"),
    [
        (
            "Mme Durand 06 12 34 56 78 détartrage mardi 10h",
            "Mme Durand",
            "+33 6 12 34 56 78",
            "detartrage",
            TUESDAY_10,
        ),
        (
            "Jean-Pierre Lefèvre, 0612345678, soin mardi 10h",
            "Jean-Pierre Lefèvre",
            "+33 6 12 34 56 78",
            "soin",
            TUESDAY_10,
        ),
        (
            "06.12.34.56.78 M. Paul Martin consultation mardi à 10h",
            "M. Paul Martin",
            "+33 6 12 34 56 78",
            "consultation",
            TUESDAY_10,
        ),
        (
            "Anne de La Tour +44 20 7946 0958 blanchiment 12/01 à 10h",
            "Anne de La Tour",
            "+44 20 7946 0958",
            "blanchiment",
            TUESDAY_10,
        ),
        # A capitalised day is not a name; after a civility anything is ("Noël" is a day too).
        ("Durand Mardi 10h détartrage", "Durand", None, "detartrage", TUESDAY_10),
        ("Mme Noël 0612345678 mardi 10h", "Mme Noël", "+33 6 12 34 56 78", None, TUESDAY_10),
        # Typed without capitals, or only a civility: no name rather than a wrong one.
        ("durand 0612345678 détartrage", None, "+33 6 12 34 56 78", "detartrage", Wanted()),
        ("Mme 06 12 34 56 78", None, "+33 6 12 34 56 78", None, Wanted()),
        ("Détartrage mardi 10h", None, None, "detartrage", TUESDAY_10),
        # Too few digits for a French number: not a phone.
        ("Mme Durand 06 12 34 détartrage", "Mme Durand", None, "detartrage", Wanted()),
    ],
)
def test_read_booking(services, text, name, phone, service, wanted):
    read = read_booking(text, MONDAY_9AM, services)
    assert (read.name, read.phone, read.service, read.wanted) == (name, phone, service, wanted)


def test_the_rest_is_the_message_once_name_and_phone_are_taken_out():
    caller = read_caller("M. Leroy 06 11 22 33 44 rappeler pour ses résultats", MONDAY_9AM)
    assert (caller.name, caller.phone, caller.rest) == (
        "M. Leroy",
        "+33 6 11 22 33 44",
        "rappeler pour ses résultats",
    )


def test_without_a_name_to_look_for_a_capitalised_word_stays_in_the_message():
    assert read_caller("Rappeler demain", MONDAY_9AM).name == "Rappeler"
    caller = read_caller("Rappeler demain", MONDAY_9AM, with_name=False)
    assert (caller.name, caller.rest) == (None, "Rappeler demain")


def test_nothing_to_read():
    read = read_booking("", MONDAY_9AM, ())
    assert (read.name, read.phone, read.service, read.wanted) == (None, None, None, Wanted())


def test_a_number_inside_the_message_stays_in_it():
    now = MONDAY_9AM
    caller = read_caller("Mme Durand, merci de la rappeler au 06 12 34 56 78", now)
    assert (caller.name, caller.phone) == ("Mme Durand", "+33 6 12 34 56 78")
    assert caller.rest == "merci de la rappeler au 06 12 34 56 78"
    caller = read_caller("M. Leroy 0611223344 rappeler demain", now)
    assert caller.rest == "rappeler demain"
