"""Weekdays: "mardi", "ce jeudi", "Tuesday", "lundi en huit", "Monday week", and the
abbreviations ("lun.", "Wed", "jeu") that are days only where a day is written.
"""

import re
from datetime import date, timedelta

from bot.nlu.mentions import _Context, _DaySpec, _Spec
from bot.nlu.noise import _NEGATION
from bot.nlu.patterns import Pattern
from bot.nlu.times import _BARE_HOUR, _CLOCK
from bot.nlu.words import (
    _ALL_WEEKDAY_NUMBERS,
    _ANY_WEEKDAY,
    _DAY_NUMBER,
    _NOT_A_DAY,
    _WEEKDAYS,
    _WORDLIKE_WEEKDAYS,
)

# "mardi en huit", "demain en quinze": that day a week or two later ("huit jours", "quinze jours")
_WEEKS_LATER = {"huit": 1, "8": 1, "quinze": 2, "15": 2}
_LATER = rf"\s+en\s+(?P<later>huit|quinze|8|15)\b{_NOT_A_DAY}"

_WEEKDAY_WORD = rf"(?:(?P<weekday>{_WEEKDAYS})s?\b|(?P<short>{_WORDLIKE_WEEKDAYS})\b)\.?"
_WEEKDAY = Pattern(
    rf"{_NEGATION}\b(?:(?P<following>the\s+following|following)\s+|(?:ce|cette|this|next|"
    r"prochain|le|on|coming)\s+|(?P<weeks_on>a\s+week|(?P<fortnight_on>two\s+weeks|"
    rf"a\s+fortnight))\s+(?:on|from)\s+)?{_WEEKDAY_WORD}"
    rf"(?:\s+(?P<after>suivant|d'?\s?apres)|{_LATER}"
    r"|\s+(?P<week>week)|\s+(?P<fortnight>fortnight)|\s+(?:prochain|qui\s+vient|next))?\b"
)

# What shows that a word-like abbreviation ("mar", "jeu", "Tue") is a day: what follows it (a day
# of the month, a clock time, a part of the day, "prochain"), a day cue before it in English ("on
# Tue"), another weekday it is listed with ("lun ou mar"), or nothing else in the message. The
# words that follow count in the abbreviation's own language: "mon prochain rdv", "mon
# après-midi" are no Monday.
_ENGLISH_ABBREVIATIONS = frozenset({"mon", "tue", "sat", "sun"})
_DAY_OR_CLOCK_AFTER = Pattern(
    rf"\.?\s*,?\s*(?:(?:a|at|vers|around|about|des|from|de|entre|between|le|the)\s+)?"
    rf"(?:{_CLOCK}|{_BARE_HOUR}|{_DAY_NUMBER}\b{_NOT_A_DAY})"
)
_FRENCH_AFTER = Pattern(
    r"\.?\s*,?\s*(?:(?:en|dans\s+la|le|la|l')\s*)?(?:matin(?:ee)?|apres\s*midi|aprem|soir(?:ee)?|"
    r"midi|prochaine?|qui\s+vient|suivant|d'?\s?apres|en\s+(?:huit|quinze|8|15))\b"
)
_ENGLISH_AFTER = Pattern(
    r"\.?\s*,?\s*(?:(?:in\s+the|at)\s+)?(?:morning|afternoon|evening|night|noon|lunch\w*|"
    r"week|fortnight)\b"
)
_ENGLISH_CUE_BEFORE = Pattern(
    r"\b(?:on|next|this|every|until|till|by|before|coming|following|from)\s+$"
)
_LIST_JOIN = r"\s*(?:,|/|&|-|\bou\b|\bor\b|\bet\b|\band\b|\bau\b|\bto\b)\s*"
_LISTED_BEFORE = Pattern(rf"\b{_ANY_WEEKDAY}{_LIST_JOIN}$")
_LISTED_AFTER = Pattern(rf"\.?{_LIST_JOIN}{_ANY_WEEKDAY}")
# words after which an abbreviation is the word it looks like: "la mer", "un jeu", "qui me tue",
# "avec Sam", "the sun"
_WORD_BEFORE = Pattern(
    r"\b(?:la|une|un|me|te|se|qui|ma|ta|sa|mon|en|avec|chez|dr|docteur|the|my|your|with|doctor|"
    r"i|he|she)\s+$"
)
# what a message that is nothing but a day may hold besides it: "Tue ?", "dispo jeu. svp"
_NOTHING_ELSE = Pattern(
    r"(?:[^a-z0-9]|\b(?:rdv|svp|stp|please|pls|plz|dispo\w*|possible|ok|bonjour|bjr|hello|hi|"
    r"salut|slt|merci|thanks|pour|for|on|this|next|prochain)\b)*"
)


def _written_as_day(match: re.Match[str], text: str) -> bool:
    word = match["short"]
    start, end = match.span("short")
    if _WORD_BEFORE.search(text, max(0, start - 12), start):
        return False
    if _DAY_OR_CLOCK_AFTER.match(text, end):
        return True
    if word in _ENGLISH_ABBREVIATIONS:
        if _ENGLISH_AFTER.match(text, end) or _ENGLISH_CUE_BEFORE.search(text, 0, start):
            return True
    elif _FRENCH_AFTER.match(text, end):
        return True
    if _LISTED_BEFORE.search(text, max(0, start - 20), start) or _LISTED_AFTER.match(text, end):
        return True
    return bool(_NOTHING_ELSE.fullmatch(text[:start] + " " + text[end:]))


def _read_weekday(match: re.Match[str], context: _Context) -> list[_Spec] | None:
    if match["short"] and not _written_as_day(match, context.text):
        return None
    if match["neg"]:
        return []
    if match["week"] or match["weeks_on"]:
        weeks_later = 1
    elif match["fortnight"] or match["fortnight_on"]:
        weeks_later = 2
    else:
        weeks_later = _WEEKS_LATER.get(match["later"] or "", 0)
    return [
        _DaySpec(
            match.start(),
            match.end(),
            weekday=_ALL_WEEKDAY_NUMBERS[match["weekday"] or match["short"]],
            after_previous=bool(match["following"] or match["after"]),
            weeks_later=weeks_later,
        )
    ]


def _next_weekday(weekday: int, after: date) -> date:
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)
