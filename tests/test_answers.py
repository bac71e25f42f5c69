"""Which answer a question gets: the FAQ first, then what config says (pure)."""

from __future__ import annotations

import pytest

from bot.answers import Topic, find_answer
from bot.config import FaqEntry


@pytest.fixture
def dupont(settings):
    business = settings.business("cabinet-dupont")
    faq = [
        FaqEntry(keywords=["parking", "garer", "stationnement"], answer="Parking Indigo en face."),
        FaqEntry(
            keywords=["carte vitale", "mutuelle", "tiers payant"],
            answer={"fr": "Oui, tiers payant.", "en": "Yes, we take it."},
        ),
    ]
    return business.model_copy(update={"faq": faq})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Avez-vous un parking ?", "Parking Indigo en face."),
        ("où se garer ?", "Parking Indigo en face."),
        ("il y a un parkng ?", "Parking Indigo en face."),  # a typo
        ("Acceptez-vous la carte Vitale ?", "Oui, tiers payant."),
        ("ma mutuel est prise en charge ?", "Oui, tiers payant."),
    ],
)
def test_the_faq_answers_first(dupont, text, expected):
    assert find_answer(text, dupont).faq.answer_in("fr") == expected


def test_an_answer_in_the_reader_s_language(dupont):
    assert find_answer("carte vitale ?", dupont).faq.answer_in("en") == "Yes, we take it."


@pytest.mark.parametrize(
    ("text", "topic", "service"),
    [
        ("Combien coûte un détartrage ?", Topic.PRICE, "detartrage"),
        ("quel est le prix d'un blanchiment", Topic.PRICE, "blanchiment"),
        ("how much is a consultation?", Topic.PRICE, "consultation"),
        ("vos tarifs ?", Topic.PRICE, None),
        ("Quelle est votre adresse ?", Topic.ADDRESS, None),
        ("where are you located?", Topic.ADDRESS, None),
        ("votre numéro de téléphone ?", Topic.PHONE, None),
        ("quels sont vos horaires", Topic.HOURS, None),
        ("are you open on saturday?", Topic.HOURS, None),
        ("êtes-vous fermés pendant les vacances ?", Topic.CLOSURES, None),
    ],
)
def test_what_config_knows(dupont, text, topic, service):
    answer = find_answer(text, dupont)
    assert answer.topic == topic
    assert (answer.service.key if answer.service else None) == service


@pytest.mark.parametrize("text", ["do you speak English?", "je peux venir avec mon chien ?"])
def test_nobody_here_knows(dupont, text):
    assert find_answer(text, dupont) is None
