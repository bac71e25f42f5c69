"""The vocabulary dates are written with: text folding, month and weekday names, number words."""

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from babel.dates import get_day_names, get_month_names

from bot.nlu.patterns import Pattern

_FOLD_CHARS = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ß": "ss",
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
        "ʼ": "'",
        "–": "-",
        "—": "-",
        "\u00a0": " ",
        "\u202f": " ",
    }
)
_HYPHEN_IN_WORD = Pattern(r"(?<=[a-z])-(?=[a-z])")


def _fold(text: str) -> str:
    """Lower case without accents; hyphens inside words become spaces ("Après-midi")."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD_CHARS))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _HYPHEN_IN_WORD.sub(" ", text)


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation trying the longest words first ("dix sept" before "dix")."""
    return "|".join(re.escape(word) for word in sorted(set(words), key=lambda w: (-len(w), w)))


def _babel_names(getter: Callable[..., dict[int, str]], widths: Sequence[str]) -> dict[str, int]:
    names: dict[str, int] = {}
    for locale in ("fr", "en"):
        for width in widths:
            for number, name in getter(width, locale=locale).items():
                names[_fold(name).rstrip(".")] = number
    return names


# month number by name: "janvier", "janv", "january", "jan", ...; "fev" is the usual SMS form
_MONTH_NUMBERS = _babel_names(get_month_names, ("wide", "abbreviated")) | {"fev": 2}
# weekday (Monday = 0) by name and abbreviation ("lun", "Wed"), with the other English short forms
_ALL_WEEKDAY_NUMBERS = _babel_names(get_day_names, ("wide", "abbreviated")) | {
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
# Abbreviations that are everyday words too ("mon" rdv, ça me "tue", la "mer", un "jeu", "Sam",
# the "sun"): days only where a day is written, as weekdays.py judges; "mar" is also March.
_WORDLIKE_WEEKDAY_NUMBERS = {
    word: number
    for word, number in _ALL_WEEKDAY_NUMBERS.items()
    if word in {"mon", "tue", "mar", "mer", "jeu", "sam", "dim", "sat", "sun"}
}
_WEEKDAY_NUMBERS = {
    word: number
    for word, number in _ALL_WEEKDAY_NUMBERS.items()
    if word not in _WORDLIKE_WEEKDAY_NUMBERS
}

_FR_SMALL = [
    "zero",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
]
_EN_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_ORDINAL_SMALL = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante"}
_EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}


def _french_number(n: int) -> str:
    if n <= 16:
        return _FR_SMALL[n]
    if n < 20:
        return "dix " + _FR_SMALL[n - 10]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _FR_TENS[tens]
    return _FR_TENS[tens] + (" et un" if unit == 1 else " " + _FR_SMALL[unit])


def _english_number(n: int) -> str:
    if n < 20:
        return _EN_SMALL[n]
    tens, unit = divmod(n, 10)
    return _EN_TENS[tens] + ("" if unit == 0 else " " + _EN_SMALL[unit])


def _english_ordinal(n: int) -> str:
    if n < 20:
        return _EN_ORDINAL_SMALL[n]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _EN_TENS[tens][:-1] + "ieth"
    return _EN_TENS[tens] + " " + _EN_ORDINAL_SMALL[unit]


_CARDINALS = (
    {_french_number(n): n for n in range(1, 60)}
    | {_english_number(n): n for n in range(1, 60)}
    | {"une": 1}
    | {f"{tens} et une": 10 * n + 1 for n, tens in _FR_TENS.items()}
)
# a day of the month in words: "le deux", "le premier", "the third" (never "un": "un mardi")
_DAY_WORDS = (
    {_french_number(n): n for n in range(2, 32)}
    | {_english_ordinal(n): n for n in range(1, 32)}
    | {"premier": 1, "premiere": 1}
)
_FR_HOUR_WORDS = {_french_number(n): n for n in range(1, 24)} | {"une": 1}
_EN_HOUR_WORDS = {_english_number(n): n for n in range(1, 13)}
_NUMBER_WORDS = _CARDINALS | _DAY_WORDS


_DIGITS = Pattern(r"\d+")
_SPACES = Pattern(r"\s+")


def _number(text: str) -> int:
    """Digits (with an ordinal suffix or not) or number words, as an int."""
    digits = _DIGITS.match(text)
    return int(digits.group()) if digits else _NUMBER_WORDS[_SPACES.sub(" ", text)]


_MONTHS = _alternation(_MONTH_NUMBERS)
_WEEKDAYS = _alternation(_WEEKDAY_NUMBERS)
_WORDLIKE_WEEKDAYS = _alternation(_WORDLIKE_WEEKDAY_NUMBERS)
# any weekday, where what follows shows it is one ("mar. 12 avril", "jeu 14")
_ANY_WEEKDAY = rf"(?:{_WEEKDAYS}|{_WORDLIKE_WEEKDAYS})\b\.?"


def _spelled_numbers(with_one: bool) -> str:
    """The words of _CARDINALS (1..59, French and English) as a pattern built like the numbers
    are, far smaller than the alternation of them all; without "un", "une", "one" if asked."""
    fr_units, en_units = _alternation(_FR_SMALL[2:10]), _alternation(_EN_SMALL[2:10])
    teens = _alternation([*_FR_SMALL[11:17], *_EN_SMALL[10:20]])
    one = "|un|une|one" if with_one else ""
    return (
        rf"(?:(?:{_alternation(_FR_TENS.values())})(?:\s+et\s+une?|\s+(?:{fr_units}))?"
        rf"|(?:{_alternation(_EN_TENS.values())})(?:\s+(?:one|{en_units}))?"
        rf"|dix(?:\s+(?:sept|huit|neuf))?|{teens}|{fr_units}|{en_units}{one})"
    )


_CARDINAL_WORDS = _spelled_numbers(with_one=True)
_CARDINAL_WORDS_FROM_TWO = _spelled_numbers(with_one=False)
_DAY_NUMBER = rf"(?:\d{{1,2}}(?:er|ere|re|eme|e|st|nd|rd|th)?|{_alternation(_DAY_WORDS)})"
# what a day of the month or an hour must not be followed by: a unit, an address, a phone number
_NOT_A_DAY = (
    r"(?!\s*(?:\d|[/:,.]\d|€|%)"
    r"|\s*(?:h|heures?|jours?|semaines?|mois|ans?|annees?|minutes?|mins?|personnes?|enfants?|"
    r"dents?|euros?|eur|fois|km|days?|weeks?|months?|years?|people|persons?|kids?|teeth|tooth|"
    r"rue|avenue|bd|boulevard|chemin|allee|rdv|rendez|creneaux?|dispo\w*|horaires?|"
    rf"appointments?|slots?|available|one|times?|options?|{_MONTHS})\b)"
)
