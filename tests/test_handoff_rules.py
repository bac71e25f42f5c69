"""Which messages go to a person (pure rules, both languages)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.handoff import Reason, is_pleasantry, needs_person
from bot.nlu import parse_request
from tests.conftest import PARIS

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=PARIS)


def reason(text: str) -> Reason | None:
    return needs_person(text, parse_request(text, NOW, [], []))


@pytest.mark.parametrize(
    "text",
    [
        "je voudrais parler à quelqu'un",
        "Je veux parler a une personne svp",
        "est-ce que je peux parler avec la secrétaire ?",
        "pouvez-vous me rappeler",
        "rappelez-moi s'il vous plaît",
        "I'd like to speak to someone",
        "can I talk to a real person",
        "please call me back",
    ],
)
def test_asking_for_a_person(text):
    assert reason(text) == Reason.PERSON


@pytest.mark.parametrize(
    "text",
    [
        "je serai en retard de 10 min",
        "Désolé, j'ai un peu de retard",
        "I'm running late",
        "I will be a bit late for my appointment",
    ],
)
def test_running_late(text):
    assert reason(text) == Reason.LATE


@pytest.mark.parametrize(
    "text",
    ["Merci !", "merci beaucoup", "ok merci", "Thanks!", "thank you", "👍 parfait", "Bonjour"],
)
def test_pleasantries_are_answered_by_the_bot(text):
    assert is_pleasantry(text)
    assert reason(text) is None


@pytest.mark.parametrize("text", ["do you speak English?", "vous parlez anglais ?"])
def test_what_the_bot_did_not_read_goes_to_a_person(text):
    assert reason(text) == Reason.UNREAD


def test_a_booking_stays_with_the_bot():
    assert reason("demain 10h pour un détartrage") is None
