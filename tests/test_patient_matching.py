"""Finding a patient as a secretary types one (pure): accents left out, a typo, a number."""

from __future__ import annotations

import pytest

from bot.office import split_reason
from bot.patients import Candidate, find, fold, phone_key

PEOPLE = [
    Candidate("alice", ["Alice Lefèvre", "alice_l"], ["+33 6 12 34 56 78"]),
    Candidate("bruno", ["Bruno Martin"], [None]),
    Candidate("lea", ["Léa Lefort"], ["04 78 00 11 22"]),
    Candidate("durand", ["Mme Durand"], ["06 99 88 77 66"]),
]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Lefèvre", ["alice"]),
        ("Lefevre", ["alice"]),
        ("lefebre", ["alice"]),
        ("LEFEVRE Alice", ["alice"]),
        ("alise lefevre", ["alice"]),
        ("Lef", ["alice", "lea"]),
        ("Lea", ["lea"]),
        ("Martn", ["bruno"]),
        ("durant", ["durand"]),
        ("Le", []),
        ("Zoé", []),
    ],
)
def test_names_are_found_without_accents_and_with_a_typo(typed, found):
    assert find(typed, PEOPLE) == found


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("06 12 34 56 78", ["alice"]),
        ("0612345678", ["alice"]),
        ("+33612345678", ["alice"]),
        ("06.99.88.77.66", ["durand"]),
        ("56 78", []),  # too few digits to mean anyone
        ("0700000000", []),
    ],
)
def test_a_number_is_found_however_it_is_written(typed, found):
    assert find(typed, PEOPLE) == found


def test_folding_and_phone_keys():
    assert fold("Lefèvre-Dupré") == "lefevre dupre"
    assert phone_key("+33 6 12 34 56 78") == phone_key("06 12 34 56 78") == "612345678"
    assert phone_key("Martin") is None


@pytest.mark.parametrize(
    ("text", "days", "reason"),
    [
        ("du 1er au 5 février congés", "du 1er au 5 février", "congés"),
        (
            "du lundi au vendredi formation de la rentrée",
            "du lundi au vendredi",
            "formation de la rentrée",
        ),
        ("from 1st to 5th February annual leave", "from 1st to 5th February", "annual leave"),
        ("du lundi au vendredi", "du lundi au vendredi", ""),
    ],
)
def test_a_block_s_reason_is_what_follows_its_days(text, days, reason):
    assert split_reason(text) == (days, reason)
