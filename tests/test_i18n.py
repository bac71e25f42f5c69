"""The catalogues: both languages say everything the code asks for, with the same blanks."""

import re
import string
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import LANGUAGES, I18n, pick_language
from storage.appointments import Status
from tests.conftest import ROOT

# i18n.text(language, "some.key", ...) as the code writes it, over one or more lines.
KEY_IN_CODE = re.compile(r"\.text\(\s*[\w.]+,\s*\"([a-z_]+\.[a-z_.]+)\"")


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_french_and_english_define_the_same_keys_with_the_same_placeholders(i18n):
    assert i18n.keys("fr") == i18n.keys("en")
    for key in i18n.keys("fr"):
        assert placeholders(i18n.text("fr", key)) == placeholders(i18n.text("en", key)), key


def test_every_key_the_code_uses_exists(i18n):
    used = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    used |= {f"status.{status}" for status in Status}
    assert used, "the pattern no longer finds the keys in the code"
    assert used - i18n.keys("fr") == set()


def test_an_unknown_key_is_an_error_not_a_raw_key_shown(i18n):
    with pytest.raises(KeyError):
        i18n.text("fr", "no.such.key")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("fr", "fr"), ("fr-CA", "fr"), ("en-GB", "en"), ("de", "fr"), (None, "fr")],
)
def test_the_phone_language_picks_ours(code, expected):
    assert pick_language(code) == expected


def test_dates_times_and_money_are_formatted_by_babel(i18n):
    paris = datetime(2027, 3, 2, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert i18n.day("fr", paris) == "mardi 2 mars"
    assert i18n.day("en", date(2027, 3, 2)) == "Tuesday, March 2"
    assert i18n.time("fr", paris) == i18n.time("en", time(14, 5)) == "14:05"
    assert i18n.money("fr", 123450) == "1\u202f234,50\xa0€"
    assert i18n.money("en", 4500) == "€45.00"
    assert set(LANGUAGES) == {"fr", "en"}
