"""bot.nlu intents by rule: a condition states no wish, and a question about one's own appointment
asks for the list."""

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.nlu import request_fields
from bot.nlu import Intent, parse_request
from tests.test_nlu import MONDAY, NOWS, read


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("je voudrais un rdv jeudi si vous avez une annulation", Intent.BOOK),
        ("si jamais vous avez une annulation demain, je suis dispo", Intent.BOOK),
        ("s'il y a un désistement jeudi je prends", Intent.BOOK),
        ("prévenez-moi si quelqu'un se désiste", Intent.BOOK),
        ("mettez-moi sur liste d'attente en cas d'annulation", Intent.BOOK),
        ("if you have a cancellation, tomorrow at 10", Intent.BOOK),
        ("I'd like Friday morning if someone cancels", Intent.BOOK),
        ("in case of a cancellation on Friday, call me", Intent.BOOK),
        ("if there's a cancellation let me know", Intent.BOOK),
        ("si je ne peux pas venir je vous préviens", Intent.OTHER),
        # a cancellation the practice has is a freed slot
        ("vous avez eu une annulation pour demain ?", Intent.BOOK),
        ("any cancellations tomorrow?", Intent.BOOK),
    ],
)
def test_a_condition_is_no_intent(text: str, intent: Intent) -> None:
    assert parse_request(text, MONDAY).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("si vous pouviez annuler mon rdv de demain, merci", Intent.CANCEL),
        ("if you could cancel my appointment tomorrow", Intent.CANCEL),
        ("s'il vous plaît annulez mon rdv", Intent.CANCEL),
        ("je voudrais annuler mon rdv si possible", Intent.CANCEL),
        ("je dois annuler, si c'est possible", Intent.CANCEL),
        ("I need to cancel if that's ok", Intent.CANCEL),
        ("s'il est possible de décaler mon rdv à jeudi", Intent.RESCHEDULE),
        ("je voulais savoir si vous pouviez décaler mon rdv", Intent.RESCHEDULE),
        ("si je pouvais décaler mon rdv ce serait top", Intent.RESCHEDULE),
        ("annulation svp", Intent.CANCEL),
    ],
)
def test_polite_requests_and_indirect_questions_keep_their_intent(
    text: str, intent: Intent
) -> None:
    assert parse_request(text, MONDAY).intent is intent


def test_a_condition_keeps_the_day_asked_for() -> None:
    assert read("je voudrais un rdv jeudi à 10h si vous avez une annulation") == (
        "book",
        "2027-01-14",
        "10:00",
    )


BOOKINGS = [
    "je voudrais un rdv jeudi",
    "un rendez-vous mardi à 10h",
    "rdv demain matin",
    "could I book Friday at 3pm",
    "le 5 mars vers 14h",
]
CONDITIONS = [
    " si vous avez une annulation",
    ", si quelqu'un annule",
    " en cas de désistement",
    ", if someone cancels",
    " if you have a cancellation",
]


@given(st.sampled_from(BOOKINGS), st.sampled_from(CONDITIONS), NOWS)
@settings(max_examples=150, deadline=None)
def test_a_condition_changes_nothing_of_a_booking(
    booking: str, condition: str, now: datetime
) -> None:
    plain = parse_request(booking, now)
    conditional = parse_request(booking + condition, now)
    assert conditional.intent is plain.intent is Intent.BOOK
    assert request_fields(conditional) == request_fields(plain)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("j'ai rendez-vous à quelle heure lundi ?", Intent.LIST),
        ("j'ai rdv à quelle heure demain ?", Intent.LIST),
        ("c'est à quelle heure mon rdv ?", Intent.LIST),
        ("mon rdv c'est quel jour ?", Intent.LIST),
        ("nous avons rendez-vous quand ?", Intent.LIST),
        ("what time is my appointment on Monday?", Intent.LIST),
        ("I have an appointment on Monday, what time?", Intent.LIST),
        ("when am I booked?", Intent.LIST),
        # a "when" about the practice's slots is a booking
        ("à quelle heure pouvez-vous me recevoir lundi ?", Intent.BOOK),
        ("quand avez-vous un rdv de libre ?", Intent.BOOK),
        ("what time can you see me on Monday?", Intent.BOOK),
    ],
)
def test_a_question_about_ones_own_appointment_is_a_list(text: str, intent: Intent) -> None:
    assert parse_request(text, MONDAY).intent is intent
