"""Translation catalogues (fr, en) and Babel formatting of dates, times and money.

Message ids are symbolic keys (``patient.confirmed``): both languages must define each one,
which a test checks, so no language ever shows a raw key or falls back silently. Each part
of the bot may keep its own ``.po`` file per language; they are compiled in memory and
merged the first time the language is spoken (40 to 70 ms for both, no part of starting): no
build step to forget.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources

from babel.dates import format_date, format_time, format_timedelta, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


def pick_language(telegram_code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Telegram's ``language_code`` (``fr``, ``en-GB``, ``de``...) -> a language we speak."""
    primary = (telegram_code or "").split("-")[0].lower()
    return primary if primary in LANGUAGES else default


@cache
def _load(language: str) -> Translations:
    """Every ``*.po`` of the language, one per part of the bot, merged into one catalogue."""
    folder = resources.files("bot") / "locales" / language / "LC_MESSAGES"
    merged: Translations | None = None
    for source in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not source.name.endswith(".po"):
            continue
        with source.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations = Translations(compiled)
        if merged is None:
            merged = translations
        else:
            merged.merge(translations)
    if merged is None:
        raise FileNotFoundError(f"no catalogue in {folder}")
    return merged


class I18n:
    def keys(self, language: str) -> set[str]:
        return {key for key in _load(language)._catalog if key}

    def text(self, language: str, key: str, **values: object) -> str:
        template = _load(_known(language)).gettext(key)
        if template == key:
            raise KeyError(f"no {language} message {key!r}")
        return template.format(**values) if values else template

    def day(self, language: str, day: date | datetime) -> str:
        """``mardi 3 décembre`` / ``Tuesday, December 3``: how a person names a day."""
        pattern = "EEEE d MMMM" if language == "fr" else "EEEE, MMMM d"
        return _date_text(_day_of(day), pattern, _known(language))

    def short_day(self, language: str, day: date) -> str:
        """``mar. 3 déc.`` / ``Tue, Dec 3``: fits on a button."""
        pattern = "EEE d MMM" if language == "fr" else "EEE, MMM d"
        return _date_text(_day_of(day), pattern, _known(language))

    def weekday(self, language: str, index: int) -> str:
        """Monday is 0, as ``date.weekday()`` counts."""
        return get_day_names("wide", locale=_known(language))[index]

    def time(self, language: str, moment: time | datetime) -> str:
        # 24-hour clock in both languages: a time on a button must be unambiguous at a glance.
        return _time_text(moment.hour, moment.minute, _known(language))

    def duration(self, language: str, length: timedelta) -> str:
        """``5 ans`` / ``5 years``, ``3 mois`` / ``3 months``: a long length of time, rounded
        to its largest unit only once it reaches a whole one."""
        return format_timedelta(length, threshold=1, locale=_known(language))

    def money(self, language: str, cents: int) -> str:
        return format_currency(Decimal(cents) / 100, "EUR", locale=_known(language))


def _known(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


# Babel reads the locale and parses the pattern at every call, and every offer names the
# same few days and times again: each text is worked out once.
@lru_cache(maxsize=4096)
def _date_text(day: date, pattern: str, language: str) -> str:
    return format_date(day, pattern, locale=language)


@lru_cache(maxsize=4096)
def _time_text(hour: int, minute: int, language: str) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=language)


def _day_of(day: date | datetime) -> date:
    """The calendar day (what a date pattern shows): a datetime's in its own zone."""
    return day.date() if isinstance(day, datetime) else day
