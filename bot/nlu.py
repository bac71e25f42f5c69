"""Understand a patient's chat message: what they want, and for which day and time.

`parse_request` reads French and English messages the way a French secretary would (the
conventions are those of shared/corpus/README.md). It is pure and synchronous: no I/O, no clock
of its own (`now` is given), nothing of Telegram or SQL.

How it reads, in order:
1. Fold the text (lower case, no accents, "après-midi" -> "apres midi"), expand SMS
   abbreviations and fix small typos in the date words ("mrdi", "procain") with rapidfuzz.
2. Blank out what only looks like a date: greetings ("bonne soirée", "good morning") and
   symptom durations ("depuis hier").
3. Take the clock times (windows first, then exact times, then parts of the day), then the days
   (holidays, weeks, dates, relative days, weekdays, days of the month). Each found mention is
   blanked so that a later, looser pattern cannot read it again ("vendredi 14:00" is a time,
   not "Friday the 14th").
4. Decide the intent from keyword families, checked from the most specific one.
5. Combine the mentions: for a reschedule the old appointment's day is told apart from the new
   one; a weekday inside a named range ("entre Noël et le jour de l'an, lundi ou mardi") is
   taken inside it; a time without a day is today if still ahead, else tomorrow.

Month and weekday names come from Babel, month and Easter arithmetic from dateutil, typo
distances from rapidfuzz. dateparser is deliberately not used: `python -m bench.nlu` runs its
`search_dates` on the corpus, where it gets about a third of the dates and times right (it reads
"14h" as "in 14 hours", "je" as jeudi, and has no ranges nor parts of the day) at ~1 ms a message
against ~0.15 ms here, and importing it with its French and English data costs ~200 ms. Where
it is good, absolute dates with month names, the grammar below needs only Babel's names.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

from babel.dates import get_day_names, get_month_names
from dateutil.easter import easter
from dateutil.relativedelta import relativedelta
from rapidfuzz import process
from rapidfuzz.distance import OSA

# --------------------------------------------------------------------------- public types


class Intent(StrEnum):
    BOOK = "book"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    CONFIRM = "confirm"
    LIST = "list"
    QUESTION = "question"
    OTHER = "other"


class DayPart(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


DAY_PART_WINDOWS: dict[DayPart, tuple[time, time]] = {
    DayPart.MORNING: (time(8), time(12)),
    DayPart.AFTERNOON: (time(14), time(18)),
    DayPart.EVENING: (time(17), time(20)),
}
LUNCH_WINDOW = (time(12), time(14))  # "entre midi et deux"
# the working day those parts make up: "après 16h" is 16:00-20:00, "avant 10h" 08:00-10:00
WORKING_DAY = (DAY_PART_WINDOWS[DayPart.MORNING][0], DAY_PART_WINDOWS[DayPart.EVENING][1])


class ServiceLike(Protocol):
    """What the parser needs of a configured service (bot.config.Service fits)."""

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def keywords(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class BookingRequest:
    intent: Intent
    day_from: date | None  # first acceptable day
    day_to: date | None  # last acceptable day (== day_from for one day)
    time_from: time | None  # an exact time has time_from == time_to
    time_to: time | None  # a window has time_from < time_to
    service: str | None = None  # key of a configured service the text names
    asap: bool = False  # "le plus tôt possible", "en urgence"
    part_of_day: DayPart | None = None  # set when the window came from matin/après-midi/soir
    old_day: date | None = None  # reschedule: the day of the appointment to move, if stated
    practitioner: str | None = None  # the one practitioner named: "avec le Dr Martin"

    def __post_init__(self) -> None:
        for low, high in ((self.day_from, self.day_to), (self.time_from, self.time_to)):
            if (low is None) != (high is None) or (low is not None and low > high):
                raise ValueError(f"invalid range {low!r}..{high!r}")

    def to_json(self) -> dict[str, object]:
        def iso(value: date | time | None) -> str | None:
            if isinstance(value, time):
                return value.isoformat(timespec="minutes")
            return None if value is None else value.isoformat()

        return {
            "intent": self.intent.value,
            "day_from": iso(self.day_from),
            "day_to": iso(self.day_to),
            "time_from": iso(self.time_from),
            "time_to": iso(self.time_to),
            "service": self.service,
            "asap": self.asap,
            "part_of_day": None if self.part_of_day is None else self.part_of_day.value,
            "old_day": iso(self.old_day),
            "practitioner": self.practitioner,
        }


# --------------------------------------------------------------------------- folding


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
_HYPHEN_IN_WORD = re.compile(r"(?<=[a-z])-(?=[a-z])")


def _fold(text: str) -> str:
    """Lower case without accents; hyphens inside words become spaces ("Après-midi")."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD_CHARS))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _HYPHEN_IN_WORD.sub(" ", text)


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation trying the longest words first ("dix sept" before "dix")."""
    return "|".join(re.escape(word) for word in sorted(set(words), key=lambda w: (-len(w), w)))


# --------------------------------------------------------------------------- vocabulary


def _babel_names(getter: Callable[..., dict[int, str]], widths: Sequence[str]) -> dict[str, int]:
    names: dict[str, int] = {}
    for locale in ("fr", "en"):
        for width in widths:
            for number, name in getter(width, locale=locale).items():
                names[_fold(name).rstrip(".")] = number
    return names


# month number by name: "janvier", "janv", "january", "jan", ...; "fev" is the usual SMS form
_MONTH_NUMBERS = _babel_names(get_month_names, ("wide", "abbreviated")) | {"fev": 2}
# weekday (Monday = 0) by name, with the English short forms but "mon" (French "my") and "tue"
# (French "kills": "une douleur qui me tue")
_WEEKDAY_NUMBERS = _babel_names(get_day_names, ("wide",)) | {
    "tues": 1,
    "wed": 2,
    "weds": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
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


_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def _number(text: str) -> int:
    """Digits (with an ordinal suffix or not) or number words, as an int."""
    digits = _DIGITS.match(text)
    return int(digits.group()) if digits else _NUMBER_WORDS[_SPACES.sub(" ", text)]


_MONTHS = _alternation(_MONTH_NUMBERS)
_WEEKDAYS = _alternation(_WEEKDAY_NUMBERS)
_CARDINAL_WORDS = _alternation(_CARDINALS)
_DAY_NUMBER = rf"(?:\d{{1,2}}(?:er|ere|re|eme|e|st|nd|rd|th)?|{_alternation(_DAY_WORDS)})"
# what a day of the month or an hour must not be followed by: a unit, an address, a phone number
_NOT_A_DAY = (
    r"(?!\s*(?:\d|[/:,.]\d|€|%)"
    r"|\s*(?:h|heures?|jours?|semaines?|mois|ans?|annees?|minutes?|mins?|personnes?|enfants?|"
    r"dents?|euros?|eur|fois|km|days?|weeks?|months?|years?|people|persons?|kids?|teeth|tooth|"
    r"rue|avenue|bd|boulevard|chemin|allee|rdv|rendez|creneaux?|dispo\w*|horaires?|"
    rf"appointments?|slots?|available|one|times?|options?|{_MONTHS})\b)"
)

# --------------------------------------------------------------------------- typos


# common SMS and English short forms of date words
_ABBREVIATIONS = {
    "2main": "demain",
    "dem1": "demain",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "2morrow": "tomorrow",
    "2moro": "tomorrow",
    "auj": "aujourdhui",
    "ajd": "aujourdhui",
    "wknd": "weekend",
    "aprm": "aprem",
    "pro": "prochain",
    "proch": "prochain",
}


def _by_first_letter(words: Iterable[str]) -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    for word in words:
        targets.setdefault(word[0], []).append(word)
    return targets


# the date words a typo is looked for in, by first letter (typos rarely hit the first one);
# short words ("soir", "midi", "mars") are left alone
_TYPO_TARGETS = _by_first_letter(
    word
    for word in (
        *_WEEKDAY_NUMBERS,
        *_MONTH_NUMBERS,
        "demain",
        "tomorrow",
        "aujourdhui",
        "today",
        "tonight",
        "prochain",
        "prochaine",
        "suivant",
        "semaine",
        "matin",
        "matinee",
        "morning",
        "apres",
        "aprem",
        "soiree",
        "evening",
        "afternoon",
        "weekend",
        "heures",
        "heure",
        "quinze",
    )
    if len(word) >= 5
)
# real words one letter away from a date word: never "corrected"
_NOT_TYPOS = frozenset(["domain", "main", "marc", "marche", "mari", "marin", "martin", "match"])


def _allowed_typos(word: str, target: str) -> int:
    if len(target) >= 8 and len(word) >= 7:
        return 2
    return 1


@lru_cache(maxsize=8192)
def _correct(word: str) -> str:
    """The date word `word` was probably meant for ("mrdi" -> "mardi"), else `word`."""
    if word in _ABBREVIATIONS:
        return _ABBREVIATIONS[word]
    if len(word) < 4 or word in _NOT_TYPOS or not word.isalpha():
        return word
    targets = _TYPO_TARGETS.get(word[0])
    if not targets or word in targets:
        return word
    hit = process.extractOne(word, targets, scorer=OSA.distance, score_cutoff=2)
    if hit is None:
        return word
    target, distance, _ = hit
    # a 4-letter word may only lack one letter of a 5-letter date word ("mrdi")
    if len(word) == 4 and len(target) != 5:
        return word
    return target if distance <= _allowed_typos(word, target) else word


_TOKEN = re.compile(r"[a-z0-9]+")


def _normalise(text: str) -> str:
    return _TOKEN.sub(lambda m: _correct(m.group()), _fold(text))


# --------------------------------------------------------------------------- mentions


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    movable: bool  # an hour below 12 with no am/pm: "à 3h" may well mean 15:00

    def shifted(self, to_afternoon: bool) -> time:
        hour = self.hour + 12 if to_afternoon and self.movable and self.hour < 12 else self.hour
        return time(hour, self.minute)


@dataclass(frozen=True)
class _ClockSpec:
    """A time found in the text: an exact time, a window or a part of the day."""

    start: int
    end: int
    first: _Clock
    last: _Clock
    part: DayPart | None = None
    is_window: bool = False
    open_side: str | None = None  # "after" ("après 16h") or "before": one end is the working day's


@dataclass(frozen=True)
class _DaySpec:
    """A day or days found in the text, resolved once the time asked for is known."""

    start: int
    end: int
    first: date | None = None  # days known as soon as read
    last: date | None = None
    day: int | None = None  # a day of the month to roll forward to ("le 5", "le 3 décembre")
    month: int | None = None
    year: int | None = None
    weekday: int | None = None  # a weekday name, alone or naming the day of the month
    after_previous: bool = False  # "mardi suivant": the first such day after the one named before
    weeks_later: int = 0  # "mardi en huit"
    edge_of_week: tuple[int, ...] = ()  # "début de semaine": these weekdays, of whichever week
    bound: str | None = None  # "before" ("avant vendredi") or "until" ("d'ici jeudi"): from today

    @property
    def bare_weekday(self) -> bool:
        return self.weekday is not None and self.day is None

    @property
    def movable_weekdays(self) -> tuple[int, ...]:
        """Weekdays a range named with them may move ("la semaine prochaine, mardi")."""
        if self.bound is not None:
            return ()
        if self.bare_weekday:
            assert self.weekday is not None
            return (self.weekday,)
        return self.edge_of_week


@dataclass(frozen=True)
class _Days:
    start: int
    end: int
    first: date
    last: date
    weekdays: tuple[int, ...]  # what a named range may move them to (_DaySpec.movable_weekdays)


@dataclass(frozen=True)
class _Context:
    today: date
    clock: time  # local time of `now`, naive
    now: datetime


_Spec = _ClockSpec | _DaySpec
_Reader = Callable[[re.Match[str], _Context], list[_Spec] | None]


class _Scanner:
    """Runs patterns over the text; what a pattern reads is blanked for the next ones."""

    def __init__(self, text: str, context: _Context) -> None:
        self.text = text
        self.context = context
        self.days: list[_DaySpec] = []
        self.clocks: list[_ClockSpec] = []
        self.between_days = text  # the text with its clock times blanked, days not yet

    def take(self, pattern: re.Pattern[str], read: _Reader) -> None:
        spans = []
        for match in pattern.finditer(self.text):
            if spans and match.start() < spans[-1][1]:  # inside what the last reader read on
                continue
            try:
                found = read(match, self.context)
            except (OverflowError, ValueError):  # a day past year 9999: read, but no day
                found = []
            if found is None:  # the reader refused: leave the text for other patterns
                continue
            for spec in found:
                (self.clocks if isinstance(spec, _ClockSpec) else self.days).append(spec)
            # a reader may read on past its match ("semaine du" + the date after it)
            spans.append((match.start(), max([match.end(), *(spec.end for spec in found)])))
        self.text = _blank(self.text, spans)

    def blank(self, pattern: re.Pattern[str]) -> None:
        self.text = _blank(self.text, [match.span() for match in pattern.finditer(self.text)])


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        pieces += [text[position:start], " " * (end - start)]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# --------------------------------------------------------------------------- noise

# greetings and wishes that name a part of the day or a holiday without asking for it
_GREETING = re.compile(
    r"\b(?:bonne|bon|good|have\s+a\s+(?:nice|good|great|lovely))\s+(?:fin\s+de\s+)?"
    r"(?:journee|soiree|nuit|apres\s*midi|aprem|matinee|week\s*end|semaine|annee|fetes?|"
    r"morning|afternoon|evening|night|day|weekend|week|holidays?)\b"
    r"|\b(?:joyeux|joyeuses|merry|happy)\s+(?:noel|paques|fetes|christmas|easter|new\s+year|"
    r"holidays?)\b|\bmerci\s+d'?\s?avance\b"
)
# how long a symptom has lasted is no request: "mal depuis hier", "since Monday"
_SINCE = re.compile(
    r"\b(?:depuis|since|il\s+y\s+a|ca\s+fait)\s+(?:"
    r"(?:ce|cette|this|last|hier|yesterday|avant\s+hier)\b(?:\s+(?:matin|soir|nuit|night|"
    r"morning|evening|week|semaine))?"
    rf"|(?:le\s+|la\s+)?(?:{_WEEKDAYS})\b"
    rf"|(?:\d+|{_CARDINAL_WORDS}|quelques|plusieurs|a\s+few|several)\s+(?:jours?|semaines?|"
    r"mois|days?|weeks?|months?|heures?|hours?)\b)"
)
# "sauf lundi", "pas le matin": what follows is ruled out, not asked for
_NEGATION = (
    r"(?P<neg>\b(?:sauf|except(?:e|ed)?|hormis|a\s+part|other\s+than|but\s+not|pas\s+le|"
    r"pas\s+la|pas\s+en|not\s+on|not\s+in\s+the)\s+(?:le\s+|la\s+|en\s+|the\s+|on\s+)?)?"
)

# --------------------------------------------------------------------------- clock times

_HOUR = r"(?:[01]?\d|2[0-3])"
_MINUTE = r"[0-5]\d"
_AMPM = r"[ap]\.?\s?m\b\.?"
_FRACTION = r"(?:\s+et\s+(?:demie?|quart)|\s+moins\s+(?:le\s+)?quart)"
_FR_HOURS = _alternation(_FR_HOUR_WORDS)
_EN_HOURS = _alternation(_EN_HOUR_WORDS)
_MINUTES_AFTER = rf"(?:{_FRACTION}|\s+(?:{_MINUTE}|{_CARDINAL_WORDS})\b)"
# one clock time, in any of the forms people type
_CLOCK = (
    rf"\b{_HOUR}\s*(?:h|heures?|hrs?)(?![a-z])(?:\s*{_MINUTE}(?!\d))?{_FRACTION}?"  # 14h30
    rf"|\b{_HOUR}:{_MINUTE}(?:\s*{_AMPM})?"  # 14:00, 4:30pm
    rf"|\b{_HOUR}(?:\.{_MINUTE})?\s*{_AMPM}"  # 3pm, 9.30am
    rf"|\b(?:{_FR_HOURS}|{_EN_HOURS})\s+(?:heures?|o'?\s?clock)\b{_MINUTES_AFTER}?"  # dix heures
    rf"|\b(?:{_EN_HOURS})\s*{_AMPM}"  # ten am
    rf"|(?<!apres\s)\b(?:midi|minuit|noon|midnight|midday)\b{_MINUTES_AFTER}?"  # midi et demi
    rf"|\b(?:half|quarter)\s+(?:past|to)\s+(?:{_HOUR}|{_EN_HOURS})\b"  # half past ten
    rf"|\b{_HOUR}\s+o'?\s?clock\b"
)
# "8h du soir", "2h de l'après-midi", "9 in the morning"
_QUALIFIER = (
    r"\s+(?:(?P<am>du\s+mat(?:in)?|le\s+matin|in\s+the\s+morning)|(?P<pm>du\s+soir|le\s+soir|"
    r"de\s+l'?\s?apres\s+midi|de\s+l'?\s?aprem|d'?\s?apres\s+midi|de\s+la\s+soiree|"
    r"in\s+the\s+(?:afternoon|evening)|at\s+night))\b"
)
# a bare number is an hour only after a preposition ("à 10", "at 9") and before no unit
_EN_MINUTES = _alternation(_english_number(n) for n in range(10, 60))
_BARE_HOUR = (
    rf"(?:\b{_HOUR}\b{_NOT_A_DAY}|\b(?:{_EN_HOURS})(?:\s+(?:{_EN_MINUTES}))?\b{_NOT_A_DAY})"
)

# a farewell naming a day acknowledges an appointment, it asks for none: "merci, à jeudi 10h !"
_FAREWELL = re.compile(
    r"\b(?:a|see\s+you|see\s+ya|until|a\s+tres\s+vite)\s+(?:(?:on|le|ce|this|next)\s+)?"
    rf"(?:{_WEEKDAYS}|demain|tomorrow|tout\s+a\s+l'?\s?heure|bientot|plus(?:\s+tard)?|"
    r"tres\s+vite|soon|later|then|tonight|ce\s+soir|la\s+semaine\s+prochaine|next\s+week)\b"
    r"(?:\s+(?:prochain|next|qui\s+vient))?"
    rf"(?:\s+(?:a\s+|at\s+)?(?:{_CLOCK}))?"
)
_BARE_HOUR_ONLY = re.compile(_BARE_HOUR)
_CLOCK_TIME = re.compile(rf"(?P<clock>{_CLOCK})(?:{_QUALIFIER})?")
_PREPOSITION_HOUR = re.compile(
    rf"\b(?:a|vers|at|around|about|aux\s+alentours\s+de|autour\s+de|sur\s+les)\s+"
    rf"(?P<clock>{_BARE_HOUR})(?:{_QUALIFIER})?"
)
_WINDOW = re.compile(
    rf"(?:\b(?P<pre>entre|between|de|from|des)\s+)?(?P<a>{_CLOCK}|{_BARE_HOUR})\s*"
    r"(?P<link>-|a|au|jusqu'?\s?a|to|till|until|et|and)\s*"
    rf"(?P<b>{_CLOCK}|{_BARE_HOUR})(?:{_QUALIFIER})?"
)
_OPEN_WINDOW = re.compile(
    r"\b(?:(?P<after>a\s+partir\s+de|apres|after|from|des|pas\s+avant|no\s+earlier\s+than|"
    r"not\s+before|au\s+plus\s+tot(?:\s+a)?)|(?P<before>avant|before|pas\s+apres|"
    r"no\s+later\s+than|not\s+after|au\s+plus\s+tard(?:\s+a)?|by))\s+"
    rf"(?P<clock>{_CLOCK}|{_BARE_HOUR})(?:{_QUALIFIER})?"
)
_LUNCH = re.compile(
    r"\bentre\s+midi\s+et\s+(?:deux|2)(?:\s*h(?:eures?)?)?\b|\bpause\s+(?:de\s+)?(?:dejeuner|midi)\b"
    r"|\ba\s+l'?\s?heure\s+du\s+dejeuner\b"
    r"|(?<!after\s)\b(?:at\s+|during\s+|over\s+)?lunch\s*(?:time|break)?\b"
)
_IN_HOURS = re.compile(
    rf"\b(?:dans|in)\s+(?:(?P<n>\d{{1,3}}|{_CARDINAL_WORDS})|une?|an?)\s*"
    r"(?:(?P<hours>heures?|h|hours?|hrs?)|minutes?|mins?)(?![a-z])"
    r"|\b(?P<half>dans\s+une\s+demi\s+heure|in\s+half\s+an\s+hour)\b"
)
_PART_OF_DAY = re.compile(
    rf"{_NEGATION}(?P<today>\b(?:ce|cet|cette|this)\s+)?(?:"
    r"(?P<morning>\b(?:matin(?:ee)?s?|mornings?|first\s+(?:thing|hour)|"
    r"(?:a\s+la\s+)?premiere\s+heure)\b)"
    r"|(?P<afternoon>\b(?:apres\s*midis?|aprems?|afternoons?|after\s+lunch|"
    r"apres\s+(?:le\s+)?(?:dejeuner|repas))\b)"
    r"|(?P<evening>\b(?:soir(?:ee)?s?|evenings?|fin\s+de\s+journee|end\s+of\s+the\s+day|"
    r"after\s+work|apres\s+(?:le\s+)?(?:travail|boulot))\b)"
    r"|(?P<tonight>\btonight\b))"
)

_QUARTER_CLOCK = re.compile(r"(?P<which>half|quarter)\s+(?P<way>past|to)\s+(?P<hour>.+)")
_CLOCK_PARTS = re.compile(
    rf"(?P<hour>\d{{1,2}}|{_FR_HOURS}|{_EN_HOURS}|midi|noon|midday|minuit|midnight)"
    r"\s*(?:h|heures?|hrs?|o'?\s?clock)?\s*[:.]?\s*"
    rf"(?P<minute>\d{{2}}|{_CARDINAL_WORDS})?\s*"
    r"(?:et\s+(?P<half>demie?)|et\s+(?P<quarter>quart)|moins\s+(?:le\s+)?(?P<to>quart))?\s*"
    r"(?P<ampm>[ap])?\.?\s?m?\.?"
)


def _read_clock(text: str) -> _Clock | None:
    """Read one clock expression already found by _CLOCK or _BARE_HOUR."""
    text = _SPACES.sub(" ", text.strip())
    quarter = _QUARTER_CLOCK.fullmatch(text)
    if quarter:
        hour = _hour_value(quarter["hour"])
        if hour is None:
            return None
        if quarter["way"] == "to":
            hour, minute = hour - 1, 60 - (30 if quarter["which"] == "half" else 15)
        else:
            minute = 30 if quarter["which"] == "half" else 15
        return _Clock(hour % 24, minute, movable=1 <= hour % 24 <= 11)
    parts = _CLOCK_PARTS.fullmatch(text)
    if parts is None:
        return None
    named = parts["hour"] in ("midi", "noon", "midday", "minuit", "midnight")
    hour = _hour_value(parts["hour"])
    minute = _number(parts["minute"]) if parts["minute"] else 0
    if parts["half"]:
        minute = 30
    elif parts["quarter"]:
        minute = 15
    elif parts["to"]:
        hour, minute = hour - 1, 45
    if parts["ampm"]:
        hour = hour % 12 + (12 if parts["ampm"] == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    movable = not named and not parts["ampm"] and 1 <= hour <= 11
    return _Clock(hour, minute, movable)


def _hour_value(text: str) -> int | None:
    if text in ("midi", "noon", "midday"):
        return 12
    if text in ("minuit", "midnight"):
        return 0
    if text.isdigit():
        return int(text)
    return _FR_HOUR_WORDS.get(text, _EN_HOUR_WORDS.get(text))


def _qualified(clock: _Clock, match: re.Match[str]) -> _Clock:
    """Apply "du matin" / "du soir" written right after a time."""
    if match["pm"] and clock.hour < 12:
        return _Clock(clock.hour + 12, clock.minute, movable=False)
    if match["am"] or match["pm"]:
        return _Clock(clock.hour, clock.minute, movable=False)
    return clock


def _read_exact(match: re.Match[str], _: _Context) -> list[_Spec] | None:
    clock = _read_clock(match["clock"])
    if clock is None:
        return None
    clock = _qualified(clock, match)
    return [_ClockSpec(match.start(), match.end(), clock, clock)]


def _is_bare(text: str) -> bool:
    return _BARE_HOUR_ONLY.fullmatch(text.strip()) is not None


def _read_window(match: re.Match[str], _: _Context) -> list[_Spec] | None:
    pre, link = match["pre"], match["link"]
    bare_a, bare_b = _is_bare(match["a"]), _is_bare(match["b"])
    if link in ("et", "and"):
        allowed = pre in ("entre", "between")
    elif pre in ("entre", "between"):
        allowed = link == "-"
    elif pre is None:  # "14h-16h", "10h à 11h", "9-11h": no bare hour but the first one of "9-11h"
        allowed = not bare_b and (not bare_a or link == "-")
    else:  # "de 9 à 11", "from 2 to 4pm"
        allowed = True
    first, last = _read_clock(match["a"]), _read_clock(match["b"])
    if not allowed or first is None or last is None:
        return None
    last = _qualified(last, match)
    if not last.movable and first.movable and first.hour + 12 <= last.hour:
        first = _Clock(first.hour + 12, first.minute, movable=False)  # "between 2 and 4pm"
    return [_ClockSpec(match.start(), match.end(), first, last, is_window=True)]


def _read_open_window(match: re.Match[str], _: _Context) -> list[_Spec] | None:
    clock = _read_clock(match["clock"])
    if clock is None:
        return None
    clock = _qualified(clock, match)
    opening, closing = (_Clock(t.hour, t.minute, False) for t in WORKING_DAY)
    start, end = match.span()
    if match["after"]:
        return [_ClockSpec(start, end, clock, closing, None, True, "after")]
    return [_ClockSpec(start, end, opening, clock, None, True, "before")]


def _read_lunch(match: re.Match[str], _: _Context) -> list[_Spec]:
    first, last = (_Clock(t.hour, t.minute, False) for t in LUNCH_WINDOW)
    return [_ClockSpec(match.start(), match.end(), first, last, is_window=True)]


def _read_in_hours(match: re.Match[str], context: _Context) -> list[_Spec]:
    if match["half"]:
        delta = timedelta(minutes=30)
    else:
        amount = _number(match["n"]) if match["n"] else 1
        delta = timedelta(hours=amount) if match["hours"] else timedelta(minutes=amount)
    # count in UTC so that a DST change in between is right
    then = (context.now.astimezone(UTC) + delta).astimezone(context.now.tzinfo)
    clock = _Clock(then.hour, then.minute, movable=False)
    start, end = match.span()
    return [_ClockSpec(start, end, clock, clock), _DaySpec(start, end, then.date(), then.date())]


def _read_part_of_day(match: re.Match[str], context: _Context) -> list[_Spec]:
    if match["neg"]:
        return []
    part = (
        DayPart.MORNING
        if match["morning"]
        else DayPart.AFTERNOON
        if match["afternoon"]
        else DayPart.EVENING  # "soir", "tonight"
    )
    first, last = (_Clock(t.hour, t.minute, False) for t in DAY_PART_WINDOWS[part])
    start, end = match.span()
    found: list[_Spec] = [_ClockSpec(start, end, first, last, part)]
    if match["today"] or match["tonight"]:  # "ce soir", "this morning", "tonight"
        found.append(_DaySpec(start, end, context.today, context.today))
    return found


# --------------------------------------------------------------------------- days


# holidays with a fixed date: (month, day)
_FIXED_HOLIDAYS = {
    "jour de l'an": (1, 1),
    "jour de lan": (1, 1),
    "nouvel an": (1, 1),
    "premier de l'an": (1, 1),
    "new year's day": (1, 1),
    "new years day": (1, 1),
    "new year": (1, 1),
    "epiphanie": (1, 6),
    "saint valentin": (2, 14),
    "valentine's day": (2, 14),
    "fete du travail": (5, 1),
    "may day": (5, 1),
    "fete nationale": (7, 14),
    "bastille day": (7, 14),
    "assomption": (8, 15),
    "halloween": (10, 31),
    "toussaint": (11, 1),
    "all saints day": (11, 1),
    "armistice": (11, 11),
    "veille de noel": (12, 24),
    "reveillon de noel": (12, 24),
    "christmas eve": (12, 24),
    "noel": (12, 25),
    "christmas": (12, 25),
    "xmas": (12, 25),
    "boxing day": (12, 26),
    "saint sylvestre": (12, 31),
    "reveillon du nouvel an": (12, 31),
    "new year's eve": (12, 31),
    "new years eve": (12, 31),
}
# holidays counted from Easter Sunday: days after it
_EASTER_HOLIDAYS = {
    "vendredi saint": -2,
    "good friday": -2,
    "paques": 0,
    "easter sunday": 0,
    "easter": 0,
    "lundi de paques": 1,
    "easter monday": 1,
    "ascension": 39,
    "jeudi de l'ascension": 39,
    "pentecote": 49,
    "pentecost": 49,
    "whitsun": 49,
    "lundi de pentecote": 50,
    "whit monday": 50,
}
_HOLIDAY = re.compile(rf"\b(?:{_alternation([*_FIXED_HOLIDAYS, *_EASTER_HOLIDAYS])})\b")

_WEEK_OF = re.compile(
    r"\b(?:(?:la|une|cette)\s+)?semaine\s+(?:du|de|d')\s*"
    r"|\b(?:the\s+)?week\s+(?:of|starting|beginning|commencing)\s+(?:on\s+)?(?:the\s+)?"
)
_MONTH_DATE = re.compile(
    rf"\b(?:(?:{_WEEKDAYS}),?\s+)?(?:(?:le|the)\s+)?(?P<day>{_DAY_NUMBER})"
    rf"(?:\s+(?:de|of|du\s+mois\s+de|du\s+mois\s+d'|d'))?\s*(?P<month>{_MONTHS})\b\.?"
    r"(?:,?\s+(?P<year>\d{4})\b)?"
    rf"|\b(?:(?:{_WEEKDAYS}),?\s+)?(?P<month2>{_MONTHS})\.?\s+(?:the\s+)?"
    rf"(?P<day2>{_DAY_NUMBER})\b(?:,?\s+(?P<year2>\d{{4}})\b)?"
)
_NUMERIC_DATE = re.compile(
    r"(?<![\d/])(?P<day>\d{1,2})\s*/\s*(?P<month>\d{1,2})(?:\s*/\s*(?P<year>\d{4}|\d{2}))?(?![\d/])"
    r"|(?<![\d.-])(?P<day2>\d{1,2})[.-](?P<month2>\d{1,2})[.-](?P<year2>\d{4})(?![\d.-])"
    r"|\b(?P<year3>\d{4})-(?P<month3>\d{2})-(?P<day3>\d{2})\b"
)
_RELATIVE_DAY = re.compile(
    r"\b(?:(?P<after_tomorrow>apres\s*demain|(?:the\s+)?day\s+after\s+tomorrow|overmorrow)"
    r"|(?P<tomorrow>demain|tomorrow)|(?P<today>aujourd\s*'?\s*hui|aujourdhui|today|ce\s+jour))\b"
    r"(?:\s+en\s+(?P<later>huit|quinze))?"
)
_IN_DAYS = re.compile(
    r"\b(?:(?P<within>d'?\s?ici(?:\s+a)?|within|dans\s+les|sous)|dans|in)\s+"
    rf"(?:(?P<n>\d{{1,3}}|{_CARDINAL_WORDS})|une?|an?)\s+"
    r"(?P<unit>jours?|days?|semaines?|weeks?|mois|months?|ans?|annees?|years?)\b"
    r"|\b(?:dans|in)\s+(?P<fortnight>une\s+quinzaine(?:\s+de\s+jours)?|a\s+fortnight)\b"
    # "in the next couple of days", "dans les 3 prochains jours": any day until then
    r"|\b(?:(?:in|within|over)\s+the\s+next|dans\s+les)\s+(?:(?P<next_n>\d{1,2})\s+|"
    rf"(?P<next_word>{_CARDINAL_WORDS})\s+|(?P<few>(?:a\s+)?(?:couple\s+of|few)|quelques)\s+)?"
    r"(?:prochains?\s+jours|days)\b"
)
_WEEK = re.compile(
    r"\b(?:(?P<edge>debut|fin|milieu|early|end|late|beginning|middle|mid)\s+"
    r"(?:de\s+|d'|of\s+|in\s+)?)?(?:"
    r"(?:(?P<this_fr>cette|dans\s+la)\s+|(?:la\s+)?(?P<next_fr_before>prochaine?)\s+|la\s+)?"
    r"semaine(?:\s+(?P<next_fr>prochaine?|suivante?|d'?\s?apres|qui\s+vient))?"
    r"|(?P<after_next>the\s+week\s+after\s+next)"
    r"|(?:(?P<this_en>this)|(?P<next_en>next|the\s+following|the\s+coming)|the)\s+week"
    r")\b(?!\s*end)"
)
_WEEKEND = re.compile(
    r"\b(?:(?:(?P<next_before>prochain|next)|ce|cette|this|le|the)\s+)?week\s*ends?\b"
    r"(?:\s+(?P<next>prochain|suivant))?"
)
_MONTH_RANGE = re.compile(
    r"\b(?:(?P<edge>debut|fin|mi|milieu|courant|early|end\s+of|late|mid|beginning\s+of|"
    r"middle\s+of)\s+(?:de\s+|d'|du\s+mois\s+de\s+|du\s+mois\s+d')?"
    r"|(?:en|in|au\s+mois\s+de|au\s+mois\s+d'|pendant|during)\s+)"
    rf"(?P<month>{_MONTHS})\b(?:\s+(?P<year>\d{{4}}))?"
)
_RELATIVE_MONTH = re.compile(
    r"\b(?:(?P<edge>debut|fin|mi|milieu|courant|early|end|late|mid|beginning|middle)\s+"
    r"(?:du\s+|de\s+|of\s+(?:the\s+)?)?)?(?:"
    r"(?P<next>(?:le\s+)?mois\s+(?:prochain|suivant|d'?\s?apres)|next\s+month)"
    r"|(?P<this>ce\s+mois(?:\s+ci)?|this\s+month)|mois|the\s+month)\b"
)
_WEEKDAY_AND_DAY = re.compile(
    rf"\b(?P<weekday>{_WEEKDAYS})\s+(?:the\s+|le\s+)?(?P<day>{_DAY_NUMBER})\b{_NOT_A_DAY}"
)
_WEEKDAY = re.compile(
    rf"{_NEGATION}\b(?:(?P<following>the\s+following|following)\s+|(?:ce|cette|this|next|"
    rf"prochain|le|on|coming)\s+)?(?P<weekday>{_WEEKDAYS})s?\b"
    r"(?:\s+(?P<after>suivant|d'?\s?apres)|\s+en\s+(?P<later>huit|quinze)"
    r"|\s+(?P<week>week)|\s+(?:prochain|qui\s+vient|next))?\b"
)
_DAY_OF_MONTH = re.compile(
    rf"\b(?:le|du|au|ce|the|on\s+the|for\s+the|jusqu'?\s?au|a\s+partir\s+du|des\s+le)\s+"
    rf"(?P<day>{_DAY_NUMBER}){_NOT_A_DAY}\b"
    rf"|\b(?P<ordinal>\d{{1,2}}(?:st|nd|rd|th|er))\b{_NOT_A_DAY}"
)
# a date right after "semaine du" / "week of": the same forms, anchored
_DATE_AT = (_MONTH_DATE, _NUMERIC_DATE, _WEEKDAY_AND_DAY, re.compile(rf"(?P<day>{_DAY_NUMBER})\b"))

_EDGE_WEEKDAYS = {  # which days of a week "début / milieu / fin de semaine" mean
    "debut": (0, 2),
    "early": (0, 2),
    "beginning": (0, 2),
    "milieu": (2, 3),
    "middle": (2, 3),
    "mid": (2, 3),
    "fin": (3, 5),
    "end": (3, 5),
    "late": (3, 5),
}
_EDGE_MONTH_DAYS = {  # and of a month
    "debut": (1, 10),
    "early": (1, 10),
    "beginning of": (1, 10),
    "beginning": (1, 10),
    "mi": (11, 20),
    "milieu": (11, 20),
    "mid": (11, 20),
    "middle of": (11, 20),
    "middle": (11, 20),
    "fin": (21, 31),
    "end of": (21, 31),
    "end": (21, 31),
    "late": (21, 31),
}


def _date_parts(match: re.Match[str]) -> tuple[int, int | None, int | None, int | None] | None:
    """(day, month, year, weekday) of a date match, None when the numbers are no date."""
    groups = {name: value for name, value in match.groupdict().items() if value}
    day_text = groups.get("day") or groups.get("day2") or groups.get("day3")
    month_text = groups.get("month") or groups.get("month2") or groups.get("month3")
    year_text = groups.get("year") or groups.get("year2") or groups.get("year3")
    day = _number(day_text)
    if month_text is None:
        month = None
    elif month_text.isdigit():
        month = int(month_text)
    else:
        month = _MONTH_NUMBERS[month_text]
    year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    weekday = _WEEKDAY_NUMBERS.get(groups.get("weekday", ""))
    if not 1 <= day <= 31 or (month is not None and not 1 <= month <= 12):
        return None
    return day, month, year, weekday


def _read_date(match: re.Match[str], _: _Context) -> list[_Spec] | None:
    parts = _date_parts(match)
    if parts is None:
        return None
    day, month, year, weekday = parts
    return [_DaySpec(match.start(), match.end(), day=day, month=month, year=year, weekday=weekday)]


def _read_day_of_month(match: re.Match[str], _: _Context) -> list[_Spec] | None:
    group = "day" if match["day"] else "ordinal"
    day = _number(match[group])
    if not 1 <= day <= 31:
        return None
    # the mention starts at the number: "du 13 au 20" keeps its "au" between the two days
    return [_DaySpec(match.start(group), match.end(), day=day)]


def _read_holiday(match: re.Match[str], context: _Context) -> list[_Spec]:
    name = match.group()
    for year in (context.today.year, context.today.year + 1):
        if name in _FIXED_HOLIDAYS:
            day = date(year, *_FIXED_HOLIDAYS[name])
        else:
            day = easter(year) + timedelta(days=_EASTER_HOLIDAYS[name])
        if day >= context.today:
            break
    return [_DaySpec(match.start(), match.end(), day, day)]


def _week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _read_week_of(match: re.Match[str], context: _Context) -> list[_Spec] | None:
    """ "semaine du 5 avril": the Monday..Sunday around the date written after the match."""
    for pattern in _DATE_AT:
        date_match = pattern.match(match.string, match.end())
        parts = date_match and _date_parts(date_match)
        if parts:
            day = _roll(*parts, context=context, moment=None)
            if day is None:  # "semaine du 30 février"
                return []
            monday, sunday = _week_of(day)
            return [_DaySpec(match.start(), date_match.end(), monday, sunday)]
    return None


def _read_relative_day(match: re.Match[str], context: _Context) -> list[_Spec]:
    offset = 2 if match["after_tomorrow"] else 1 if match["tomorrow"] else 0
    offset += {"huit": 7, "quinze": 14}.get(match["later"] or "", 0)
    day = context.today + timedelta(days=offset)
    return [_DaySpec(match.start(), match.end(), day, day)]


def _read_in_days(match: re.Match[str], context: _Context) -> list[_Spec]:
    today = context.today
    if match["fortnight"]:
        day = today + timedelta(days=14)
        return [_DaySpec(match.start(), match.end(), day, day)]
    if match["unit"] is None:  # the next few days
        count = match["next_n"] or match["next_word"]
        amount = _number(count) if count else 2 if "couple" in (match["few"] or "") else 3
        return [_DaySpec(match.start(), match.end(), today, today + timedelta(days=amount))]
    amount = _number(match["n"]) if match["n"] else 1
    unit = match["unit"]
    if unit.startswith("jour") and amount in (8, 15):
        amount -= 1  # "dans huit jours" is a week, "dans quinze jours" two
    if unit.startswith(("jour", "day")):
        day = today + timedelta(days=amount)
    elif unit.startswith(("semaine", "week")):
        day = today + timedelta(weeks=amount)
    elif unit.startswith(("mois", "month")):
        day = today + relativedelta(months=amount)
    else:
        day = today + relativedelta(years=amount)
    first = today if match["within"] else day
    return [_DaySpec(match.start(), match.end(), first, day)]


def _read_week(match: re.Match[str], context: _Context) -> list[_Spec] | None:
    weeks_ahead = (
        2
        if match["after_next"]
        else 1
        if match["next_fr"] or match["next_fr_before"] or match["next_en"]
        else 0
    )
    is_next = weeks_ahead > 0
    is_this = bool(match["this_fr"] or match["this_en"])
    if not (is_next or is_this or match["edge"]):  # "en semaine", "la semaine": no week named
        return None
    low, high = _EDGE_WEEKDAYS.get(match["edge"] or "", (0, 6))
    today = context.today
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    first, last = monday + timedelta(days=low), monday + timedelta(days=high)
    if not is_next:
        if last < today:  # "fin de semaine" said on a Sunday: the coming one
            first, last = first + timedelta(weeks=1), last + timedelta(weeks=1)
        first = max(first, today)
    # "en début de semaine" alone is this week's, but next week's next to "semaine prochaine"
    edge = () if is_next or is_this else tuple(range(low, high + 1))
    return [_DaySpec(match.start(), match.end(), first, last, edge_of_week=edge)]


def _read_weekend(match: re.Match[str], context: _Context) -> list[_Spec]:
    today = context.today
    if match["next"] or match["next_before"] or today.weekday() < 5:
        saturday = today + timedelta(days=(5 - today.weekday() - 1) % 7 + 1)
        return [_DaySpec(match.start(), match.end(), saturday, saturday + timedelta(days=1))]
    sunday = today + timedelta(days=6 - today.weekday())
    return [_DaySpec(match.start(), match.end(), today, sunday)]


def _month_span(year: int, month: int, low: int, high: int) -> tuple[date, date]:
    last_day = (date(year, month, 1) + relativedelta(months=1, days=-1)).day
    return date(year, month, min(low, last_day)), date(year, month, min(high, last_day))


def _read_month_range(match: re.Match[str], context: _Context) -> list[_Spec]:
    month = _MONTH_NUMBERS[match["month"]]
    low, high = _EDGE_MONTH_DAYS.get(match["edge"] or "", (1, 31))
    today = context.today
    if match["year"]:
        first, last = _month_span(int(match["year"]), month, low, high)
    else:
        first, last = _month_span(today.year, month, low, high)
        if last < today:
            first, last = _month_span(today.year + 1, month, low, high)
    if last >= today:  # "en août" said on 10 August: from today on
        first = max(first, today)
    return [_DaySpec(match.start(), match.end(), first, last)]


def _read_relative_month(match: re.Match[str], context: _Context) -> list[_Spec] | None:
    is_next = bool(match["next"])
    if not (is_next or match["this"] or match["edge"]):
        return None  # "par mois", "the month": no month named
    low, high = _EDGE_MONTH_DAYS.get(match["edge"] or "", (1, 31))
    month_start = context.today.replace(day=1) + relativedelta(months=1 if is_next else 0)
    first, last = _month_span(month_start.year, month_start.month, low, high)
    if last < context.today:
        return []
    return [_DaySpec(match.start(), match.end(), max(first, context.today), last)]


def _read_weekday(match: re.Match[str], _: _Context) -> list[_Spec]:
    if match["neg"]:
        return []
    weeks_later = 1 if match["week"] else {"huit": 1, "quinze": 2}.get(match["later"] or "", 0)
    return [
        _DaySpec(
            match.start(),
            match.end(),
            weekday=_WEEKDAY_NUMBERS[match["weekday"]],
            after_previous=bool(match["following"] or match["after"]),
            weeks_later=weeks_later,
        )
    ]


def _roll(
    day: int,
    month: int | None,
    year: int | None,
    weekday: int | None,
    context: _Context,
    moment: time | None,
) -> date | None:
    """The next occurrence of a date whose moment (given time, else end of day) is ahead."""
    today = context.today

    def ahead(candidate: date) -> bool:
        return candidate > today or (
            candidate == today and (moment is None or moment > context.clock)
        )

    if month is not None:
        if year is None:  # this year's, unless already past
            year = today.year
            if (month, day) < (today.month, today.day) or (
                (month, day) == (today.month, today.day) and not ahead(today)
            ):
                year += 1
        try:
            return date(year, month, day)
        except ValueError:  # "le 29 février" in 2027, "le 31 avril", years past 9999
            return None
    for months_ahead in range(48):  # a day of the month alone: this month or a later one
        year_ahead, month_index = divmod(today.month - 1 + months_ahead, 12)
        try:
            candidate = date(today.year + year_ahead, month_index + 1, day)
        except ValueError:  # no such day in that month: skip it
            continue
        if ahead(candidate) and (weekday is None or candidate.weekday() == weekday):
            return candidate
    # a weekday that never matches ("lundi 31" for years) is a slip: keep the day of the month
    return None if weekday is None else _roll(day, None, None, None, context, moment)


def _next_weekday(weekday: int, after: date) -> date:
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _resolve(
    spec: _DaySpec, context: _Context, moment: time | None, previous: date | None
) -> tuple[date, date] | None:
    days = _resolve_days(spec, context, moment, previous)
    if days is None or spec.bound is None:
        return days
    today = context.today
    last = days[0] - timedelta(days=1) if spec.bound == "before" else days[1]
    return today, max(today, last)


def _resolve_days(
    spec: _DaySpec, context: _Context, moment: time | None, previous: date | None
) -> tuple[date, date] | None:
    if spec.first is not None and spec.last is not None:
        return spec.first, spec.last
    if spec.day is not None:
        day = _roll(spec.day, spec.month, spec.year, spec.weekday, context, moment)
        return None if day is None else (day, day)
    assert spec.weekday is not None
    base = previous if spec.after_previous and previous is not None else context.today
    day = _next_weekday(spec.weekday, base) + timedelta(weeks=spec.weeks_later)
    return day, day


# --------------------------------------------------------------------------- intents

_RESCHEDULE = re.compile(
    r"(?<![ms]e )\b(?:deplac|decal|report|repouss)(?:er|e|ee|es|ees|ez|ons|erait|erais|erai|"
    r"ions|able)\b"
    r"|\bavanc(?:er|e|ee)\s+(?:mon|ma|le|la|l'|notre|un\s+peu|l'?\s?heure)"
    r"|\b(?:changer|modifier|change|modifie|changement|modification)\s+(?:(?:de|du|mon|ma|le|la|"
    r"l'|notre|d'|my|the|our|of)\s*)*(?:rdv|rendez\s+vous|date|heure|horaire|creneau|jour|"
    r"reservation|appointment|appt|booking|time|day)"
    r"|\bchanger\s+pour\b|\breschedul|\bpostpon|\brebook"
    r"|\b(?:move|push|shift|switch|swap|bring)\s+(?:my|the|our|this|that|it)\b"
    r"|\bmove\s+\w+'?s?\s+(?:appointment|appt|booking)"
)
# "my appointment on Monday, can we make it Tuesday instead?"
_INSTEAD = re.compile(r"\b(?:instead|make\s+it|a\s+la\s+place|plutot\s+que|rather\s+than)\b")
_EXPLICIT_CANCEL = re.compile(r"\b(?:annul|cancel|desist|decommand)")
_CANNOT_COME = re.compile(
    r"\b(?:pourrai|pourrais|peux|peut|pourra|pourrons|pouvons|vais|serai|serais|sera)\s+pas\s+"
    r"(?:pouvoir\s+)?(?:venir|honorer|etre\s+(?:la|present|presente|disponible|dispo)|"
    r"me\s+(?:rendre|deplacer|presenter)|y\s+aller|assister)"
    r"|\bne\s+(?:viendrai|viendra|viendrons|viens)\s+pas\b|\bempechement\b"
    r"|\b(?:can'?t|cannot|can\s+not|won'?t|will\s+not|unable\s+to|not\s+be\s+able\s+to|"
    r"couldn'?t|not\s+going\s+to)\s+(?:be\s+able\s+to\s+)?(?:make\s+it|come|attend|"
    r"be\s+there|make\s+(?:my|the|our|it))|\bcall(?:ing)?\s+off\b"
)
# "je ne peux pas le matin, plutôt l'après-midi": a preference, not a cancellation
_ALTERNATIVE = re.compile(r"\b(?:plutot|sinon|par\s+contre|mais|instead|rather|but|prefer)")
# "je ne peux pas jeudi, plutôt vendredi": what comes before the turn is ruled out
_UNAVAILABLE = re.compile(
    r"\b(?:peux|peut|pourrai|pourrais|pourra|suis|serai|serais)\s+pas\b|\bpas\s+dispo"
    r"|\b(?:can'?t|cannot|won'?t|not\s+available|unavailable)\b"
)
_MY_APPOINTMENT = re.compile(
    r"\b(?:mon|le|notre|my|the|our)\s+(?:rdv|rendez\s+vous|appointment|appt|booking)"
)
_CONFIRM = re.compile(
    r"\b(?:je|j'|nous)\s*(?:vous\s+|le\s+|la\s+)?(?:re)?confirm"
    r"|\bconfirm(?:e|ons)\s+(?:ma|mon|notre|le|la|pour|bien)\b"
    r"|\b(?:i|we)\s+(?:hereby\s+|can\s+)?confirm|\bconfirming\b|\bconfirmed\b"
    r"|\bje\s+serai\s+(?:bien\s+)?(?:la|present|presente)\b|\bj'y\s+serai\b"
    r"|\bnous\s+serons\s+(?:bien\s+)?la\b|\b(?:i'?ll|i\s+will|we'?ll)\s+be\s+there\b"
    r"|\bc'?\s?est\s+(?:bien\s+)?confirme\b"
)
_LIST = re.compile(
    r"\bmes\s+(?:\w+\s+){0,2}?(?:rdv|rendez\s+vous|rendezvous)"
    r"|\b(?:quand|a\s+quelle\s+(?:heure|date)|quel\s+jour)\b.{0,30}?\b(?:mon|mes|notre)\s+"
    r"(?:\w+\s+)?(?:rdv|rendez\s+vous)"
    r"|\b(?:rdv|rendez\s+vous)\s+(?:\w+\s+)?(?:c'?\s?est\s+)?quand\b"
    r"|\b(?:ai\s+je|est\s+ce\s+que\s+j'?\s?ai)\s+(?:bien\s+)?(?:un|des)\s+(?:rdv|rendez\s+vous)"
    r"|\bmy\s+(?:\w+\s+)?appointments\b|\bwhen\b.{0,30}?\bmy\s+(?:next\s+)?(?:appointment|appt|"
    r"booking)|\bwhat\s+(?:appointments|bookings)\b"
    r"|\bdo\s+i\s+have\s+(?:an?|any)\s+(?:appointment|booking)|\b(?:list|show)\s+(?:me\s+)?my\b"
    r"|\b(?:l'?\s?heure|la\s+date|le\s+jour|l'?\s?horaire)\s+(?:de|du)\s+(?:mon|notre)\s+"
    r"(?:\w+\s+)?(?:rdv|rendez\s+vous)|\bremind\s+me\b"
)
_QUESTION = re.compile(
    r"\b(?:horaires?|ouverts?|ouvertes?|ouvrez|fermes?|fermez|fermee?s?|fermeture|adresse|"
    r"parking|garer|stationner|metro|prix|tarifs?|combien|coute|coutent|cout|rembours\w*|"
    r"mutuelle|carte\s+vitale|tiers\s+payant|secu|cheques?|especes|carte\s+bancaire|paiement|"
    r"payer|conventionn\w*|depassements?|honoraires|devis|renseignements?|infos?|informations?)\b"
    r"|\b(?:vous\s+faites|faites\s+vous|vous\s+prenez|prenez\s+vous|vous\s+acceptez|"
    r"acceptez\s+vous|c'?\s?est\s+ou|ou\s+(?:etes|se\s+trouve|vous\s+trouvez)|vous\s+etes\s+ou|"
    r"jusqu'?\s?a\s+quelle\s+heure|a\s+quelle\s+heure\s+(?:vous|ouvr|ferm)|combien\s+de\s+temps|"
    r"comment\s+(?:ca\s+se\s+passe|faire|venir))\b"
    r"|\b(?:open|opening|close|closing|closed|opening\s+hours|office\s+hours|address|"
    r"what\s+time\s+do\s+you|where\s+are\s+you|"
    r"located|parking|price|prices|pricing|cost|costs|how\s+much|fees?|insurance|payment|cash|"
    r"do\s+you\s+(?:accept|take|do|offer|treat)|how\s+long)\b"
)
# "j'arrive dans 5 minutes", "running late": news about today's visit, not a request
_ON_THE_WAY = re.compile(
    r"\b(?:j'?\s?arrive|(?:je\s+suis|serai)\s+en\s+retard|on\s+my\s+way|running\s+late|"
    r"(?:i'?ll|i\s+will)\s+be\s+late|stuck\s+in\s+traffic|dans\s+les\s+bouchons)\b"
)
_BOOKING = re.compile(
    r"\b(?:rdv|rendez\s+vous|rendezvous|rv|appointment|appt|book|booking|reserv\w*|creneaux?|"
    r"disponibles?|disponibilites?|dispos?|availab\w*|slots?|see\s+me|fit\s+me\s+in|"
    r"squeeze\s+me\s+in)\b"
)
_WEAK_BOOKING = re.compile(
    r"\b(?:possible|possibles|possibe|moyen|jouable|irait|venir|passer|come\s+in|come\s+by|"
    r"get\s+in|anything|any\s+chance|prendre)\b"
)
_SYMPTOM = re.compile(
    r"\b(?:mal\s+(?:a|aux)|douleurs?|rage\s+de\s+dents?|carie|abces|gonfle|saigne|cassee?|"
    r"perdu\s+(?:un|une|mon|ma)|pain|hurts?|toothache|broken|chipped|cracked|swollen|bleeding)\b"
)
_ASAP = re.compile(
    r"\b(?:(?:le|au)\s+plus\s+(?:tot|vite|rapidement)(?:\s+possible)?|des\s+que\s+possible|"
    r"rapidement|quickly|dans\s+les\s+plus\s+brefs\s+delais|sans\s+tarder|"
    r"en\s+urgence|urgent|urgente|urgemment|urgence|asap|as\s+soon\s+as\s+possible|earliest|"
    r"soonest|emergency|urgently|first\s+available|next\s+available|"
    r"(?:premier|prochain)e?\s+(?:creneau|rdv|rendez\s+vous|place)\s+(?:dispo|disponible|"
    r"libre|possible))\b"
)


def _wanted_from(text: str) -> int:
    """Where the wanted days start: after the turn of "je ne peux pas X, plutôt Y", else 0."""
    unavailable = _UNAVAILABLE.search(text)
    turn = unavailable and _ALTERNATIVE.search(text, unavailable.end())
    return turn.start() if turn else 0


def _intent(text: str, speaks_of_time: bool, wants_something: bool) -> Intent:
    """The intent, from the most specific keyword family to the least."""
    if _RESCHEDULE.search(text) or (_INSTEAD.search(text) and _MY_APPOINTMENT.search(text)):
        return Intent.RESCHEDULE
    if _EXPLICIT_CANCEL.search(text):
        return Intent.CANCEL
    if _CANNOT_COME.search(text):
        if not _ALTERNATIVE.search(text):
            return Intent.CANCEL
        return Intent.RESCHEDULE if _MY_APPOINTMENT.search(text) else Intent.BOOK
    if _CONFIRM.search(text):
        return Intent.CONFIRM
    if _LIST.search(text):
        return Intent.LIST
    strong = _BOOKING.search(text)
    if _QUESTION.search(text) and not strong:
        return Intent.QUESTION
    if _ON_THE_WAY.search(text) and not strong:
        return Intent.OTHER
    if strong or wants_something or _WEAK_BOOKING.search(text) or _SYMPTOM.search(text):
        return Intent.BOOK
    return Intent.BOOK if speaks_of_time else Intent.OTHER


# --------------------------------------------------------------------------- services

_SERVICE_FILLER = frozenset(
    [
        "de",
        "du",
        "des",
        "d",
        "la",
        "le",
        "les",
        "l",
        "un",
        "une",
        "pour",
        "the",
        "a",
        "an",
        "of",
        "for",
    ]
)


def _content_words(folded: str) -> list[str]:
    """Words that name things, singular: "soins du visage" -> ["soin", "visage"]."""
    return [
        word[:-1] if len(word) > 3 and word[-1] in "sx" else word
        for word in _TOKEN.findall(folded)
        if word not in _SERVICE_FILLER
    ]


@lru_cache(maxsize=1024)
def _service_phrases(name: str, keywords: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    phrases = (_content_words(_fold(text)) for text in (name, *keywords))
    return tuple((" ".join(words), len(words)) for words in phrases if words)


def _typos_allowed(phrase: str) -> int:
    """Short names must match exactly: "carie" is one letter from "carte"."""
    return 0 if len(phrase) <= 7 else 1 if len(phrase) <= 10 else 2


def _find_service(folded: str, services: Sequence[ServiceLike]) -> str | None:
    words = _content_words(folded)
    best: tuple[float, int, str] | None = None
    grams: dict[int, list[str]] = {}
    for service in services:
        for phrase, size in _service_phrases(service.name, tuple(service.keywords)):
            if size not in grams:
                grams[size] = [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
            hit = process.extractOne(
                phrase, grams[size], scorer=OSA.distance, score_cutoff=_typos_allowed(phrase)
            )
            if hit is not None and (best is None or (hit[1], hit[2]) < best[:2]):
                best = (hit[1], hit[2], service.key)
    return None if best is None else best[2]


# A practitioner is named after a title or "avec": a bare "Dupont" may be the practice's name.
_PRACTITIONER_CUE = (
    r"\b(?:dr|docteur|doctor|doc|pr|professeur|avec|with|chez|par|see|voir)\b\.?"
    r"(?:\s+(?:le|la|l'|the|dr|docteur|doctor|mme|madame|m|mr|monsieur|mlle)\b\.?)*\s+"
)
_TITLES = frozenset({"dr", "docteur", "doctor", "pr", "mme", "madame", "mr", "monsieur", "mlle"})


@lru_cache(maxsize=256)
def _practitioner_pattern(name: str) -> re.Pattern[str] | None:
    words = [w for w in _TOKEN.findall(_fold(name)) if w not in _TITLES and len(w) >= 3]
    if not words:
        return None
    return re.compile(_PRACTITIONER_CUE + r"(?:" + "|".join(map(re.escape, words)) + r")\b")


def _find_practitioner(folded: str, practitioners: Sequence[str]) -> str | None:
    """The one practitioner the message asks for by name; several or none: None."""
    named = [
        name
        for name in practitioners
        if (pattern := _practitioner_pattern(name)) is not None and pattern.search(folded)
    ]
    return named[0] if len(named) == 1 else None


# --------------------------------------------------------------------------- combining

# what may stand between two days that are one choice: "lundi ou mardi", "du 5 au 9"
_JOINING_GAP = re.compile(
    r"(?:\s|[,;/&+()!.?-]|\b(?:ou|or|et|and|voire|sinon|bien|alors|puis|then|plutot|rather|"
    r"ideally|idealement|de\s+preference|preferably|le|la|les|l'|the|on|de|du|d'|of|en|in|"
    r"dans)\b)*"
)
_RANGE_GAP = re.compile(r"\s*(?:,|ou|or|et|and|au|a|-|to|through|until|jusqu'?\s?au)?\s*(?:le\s+)?")
# in a reschedule "de mardi à lundi" is from the old day to the new one, not a range
_CHOICE_GAP = re.compile(r"\s*(?:,|ou|or|et|and)?\s*(?:le\s+)?")
# the appointment a day belongs to, written just before it: "mon rdv du 13 janvier"
_APPOINTMENT_BEFORE = re.compile(
    r"\b(?:rdv|rendez\s+vous|rendezvous|appointment|appt|booking|reservation|seance)s?\s+"
    r"(?:(?:de|du|d'|of|on|from|prevu|prevue|fixe|pris|est|is|scheduled|initialement|"
    r"actuel|actuellement|the|le|la|ce|this|that|at)\s*)*$"
)
# "avant vendredi", "d'ici jeudi", "jusqu'au 15", "by Friday": any day from today to then
_BOUND = re.compile(
    r"\b(?:(?P<before>avant|before)|d'?\s?ici|jusqu'?\s?(?:au|a|a\s+la|a\s+l')|until|till|by|"
    r"no\s+later\s+than|au\s+plus\s+tard)\s+(?:le\s+|la\s+|the\s+|ce\s+|this\s+|next\s+)?$"
)
_APPOINTMENT_AFTER = re.compile(r"'?s?\s+(?:appointment|appt|booking|slot|rdv|rendez\s+vous)")


def _link_lists(days: list[_DaySpec], text: str, reschedule: bool) -> list[_DaySpec]:
    """Days read with their neighbours: "du 5 au 9 avril" puts the 5th in April too, "lundi ou
    mardi" is a Monday and the Tuesday after it, "avant vendredi" is every day until then."""
    weekday_gap = _CHOICE_GAP if reschedule else _RANGE_GAP
    result = []
    for spec in days:
        bound = _BOUND.search(text, max(0, spec.start - 30), spec.start)
        if bound is not None:
            spec = replace(spec, bound="before" if bound["before"] else "until")
        result.append(spec)
    for i in range(len(result) - 2, -1, -1):
        spec, following = result[i], result[i + 1]
        if not _RANGE_GAP.fullmatch(text, spec.end, following.start):
            continue
        if spec.day is not None and spec.month is None and following.month is not None:
            result[i] = replace(spec, month=following.month, year=following.year)
        if (
            spec.bare_weekday
            and following.bare_weekday
            and not spec.weeks_later
            and weekday_gap.fullmatch(text, spec.end, following.start)
        ):
            result[i + 1] = replace(following, after_previous=True)
    return result


def _groups(days: list[_DaySpec], text: str) -> list[list[_DaySpec]]:
    groups: list[list[_DaySpec]] = []
    for spec in days:
        if groups and _JOINING_GAP.fullmatch(text, groups[-1][-1].end, spec.start):
            groups[-1].append(spec)
        else:
            groups.append([spec])
    return groups


def _is_old_appointment(group: list[_DaySpec], text: str) -> bool:
    start, end = group[0].start, group[-1].end
    return bool(
        _APPOINTMENT_BEFORE.search(text, max(0, start - 80), start)
        or _APPOINTMENT_AFTER.match(text, end)
    )


def _split_reschedule(
    days: list[_DaySpec], clocks: list[_ClockSpec], text: str
) -> tuple[list[_DaySpec], list[_DaySpec], list[_ClockSpec]]:
    """(old days, new days, new clocks) of "déplacer mon rdv du jeudi 14 au vendredi 15 à 9h"."""
    groups = _groups(days, text)
    old_index = next((i for i, g in enumerate(groups) if _is_old_appointment(g, text)), None)
    if old_index is None:
        if len(groups) < 2:
            return [], days, clocks
        old_index = 0
    old = groups[old_index]
    new = [spec for i, group in enumerate(groups) if i != old_index for spec in group]
    if not new:  # "décaler mon rdv de mardi à 15h": the same day, the last time named
        return old, [], clocks[-1:]

    def owner(clock: _ClockSpec) -> bool:
        before = [spec for spec in days if spec.end <= clock.start]
        return (before[-1] if before else days[0]) not in old

    return old, new, [clock for clock in clocks if owner(clock)]


def _pick_time(clocks: list[_ClockSpec]) -> tuple[time | None, time | None, DayPart | None]:
    """One time or window out of all those named; an exact time beats a part of the day."""
    if not clocks:
        return None, None, None
    parts = {clock.part for clock in clocks if clock.part is not None}
    later = bool(parts & {DayPart.AFTERNOON, DayPart.EVENING}) and DayPart.MORNING not in parts

    def clock_time(clock: _Clock) -> time:
        # "soir à 7h" is 19:00; with no part named, "à 3h" is 15:00 but "à 8h" 08:00
        to_afternoon = later or (not parts and 1 <= clock.hour <= 6)
        return clock.shifted(to_afternoon)

    windows = [clock for clock in clocks if clock.is_window]
    exacts = [clock for clock in clocks if clock.part is None and not clock.is_window]
    chosen = windows or exacts
    if chosen:
        bounds = []
        for clock in chosen:
            first, last = clock_time(clock.first), clock_time(clock.last)
            if clock.open_side == "after":  # "après 21h", past the working day: just 21:00
                last = max(first, last)
            elif clock.open_side == "before":
                first = min(first, last)
            elif first > last and clock.last.movable:  # "de 5 à 7": 17:00-19:00
                last = clock.last.shifted(True)
            bounds += [first, last]
        return min(bounds), max(bounds), None
    if len(parts) == 1:
        part = parts.pop()
        return *DAY_PART_WINDOWS[part], part
    windows_of_parts = [DAY_PART_WINDOWS[part] for part in parts]
    return min(w[0] for w in windows_of_parts), max(w[1] for w in windows_of_parts), None


def _weekday_within(weekday: int, first: date, last: date) -> date | None:
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    return day if day <= last else None


def _combine_days(days: list[_Days]) -> tuple[date, date] | None:
    """All the days named, as one range; weekday names go inside the range the other days span
    ("la semaine prochaine, mardi", "entre Noël et le jour de l'an, lundi ou mardi")."""
    if not days:
        return None
    weekdays = [weekday for d in days for weekday in d.weekdays]
    others = [d for d in days if not d.weekdays]
    if weekdays and others:
        first, last = min(d.first for d in others), max(d.last for d in others)
        inside = [_weekday_within(weekday, first, last) for weekday in weekdays]
        chosen = [day for day in inside if day is not None]
        if last > first and chosen:
            return min(chosen), max(chosen)
    return min(d.first for d in days), max(d.last for d in days)


def _resolve_all(
    specs: list[_DaySpec], context: _Context, moment: Callable[[_DaySpec], time | None]
) -> list[_Days]:
    """Resolve in text order ("mardi suivant" counts from the day before it)."""
    resolved: list[_Days] = []
    previous = None
    for spec in sorted(specs, key=lambda spec: spec.start):
        try:
            days = _resolve(spec, context, moment(spec), previous)
        except (OverflowError, ValueError):  # beyond year 9999
            days = None
        if days is not None:
            resolved.append(_Days(spec.start, spec.end, *days, spec.movable_weekdays))
            previous = days[1]
    return resolved


def _day_for_time(context: _Context, moment: time) -> date | None:
    """A time without a day: today if still ahead, else tomorrow."""
    if moment > context.clock:
        return context.today
    try:
        return context.today + timedelta(days=1)
    except OverflowError:
        return None


# --------------------------------------------------------------------------- entry point


def _scan(text: str, context: _Context) -> tuple[_Scanner, list[tuple[int, int]]]:
    scanner = _Scanner(text, context)
    scanner.blank(_GREETING)
    scanner.blank(_SINCE)
    farewells = [match.span() for match in _FAREWELL.finditer(scanner.text)]
    # clock times: the most specific forms first
    scanner.take(_IN_HOURS, _read_in_hours)
    scanner.take(_LUNCH, _read_lunch)
    scanner.take(_WINDOW, _read_window)
    scanner.take(_OPEN_WINDOW, _read_open_window)
    scanner.take(_CLOCK_TIME, _read_exact)
    scanner.take(_PREPOSITION_HOUR, _read_exact)
    scanner.take(_PART_OF_DAY, _read_part_of_day)
    # what stands between two days ("au", "ou", "mon rdv du") is judged on this text
    scanner.between_days = scanner.text
    # days
    scanner.take(_HOLIDAY, _read_holiday)
    scanner.take(_WEEK_OF, _read_week_of)
    scanner.take(_MONTH_DATE, _read_date)
    scanner.take(_NUMERIC_DATE, _read_date)
    scanner.take(_RELATIVE_DAY, _read_relative_day)
    scanner.take(_IN_DAYS, _read_in_days)
    scanner.take(_WEEKEND, _read_weekend)
    scanner.take(_WEEK, _read_week)
    scanner.take(_MONTH_RANGE, _read_month_range)
    scanner.take(_RELATIVE_MONTH, _read_relative_month)
    scanner.take(_WEEKDAY_AND_DAY, _read_date)
    scanner.take(_WEEKDAY, _read_weekday)
    scanner.take(_DAY_OF_MONTH, _read_day_of_month)
    scanner.days.sort(key=lambda spec: spec.start)
    scanner.clocks.sort(key=lambda spec: spec.start)
    return scanner, farewells


def parse_request(
    text: str,
    now: datetime,
    services: Sequence[ServiceLike] = (),
    practitioners: Sequence[str] = (),
) -> BookingRequest:
    """What the message asks for. `now` is aware; days and times are local to its zone."""
    practitioner = _find_practitioner(_fold(text), practitioners)
    folded = _normalise(text)
    context = _Context(now.date(), now.time().replace(tzinfo=None), now)
    scanner, farewells = _scan(folded, context)

    def outside_farewells(spec: _Spec) -> bool:
        return not any(start <= spec.start and spec.end <= end for start, end in farewells)

    mentions = [*scanner.days, *scanner.clocks]
    service = _find_service(folded, services)
    asap = _ASAP.search(folded) is not None
    intent = _intent(
        folded,
        speaks_of_time=any(outside_farewells(spec) for spec in mentions),
        wants_something=asap or service is not None,
    )
    if intent is Intent.OTHER:  # an acknowledgement asks for no day
        return BookingRequest(intent, None, None, None, None, service, asap)
    days, times, part, old_day = _when(intent, scanner, folded)
    return BookingRequest(
        intent,
        *days,
        *times,
        service,
        asap,
        part,
        old_day if intent is Intent.RESCHEDULE else None,
        practitioner,
    )


def _when(
    intent: Intent, scanner: _Scanner, folded: str
) -> tuple[
    tuple[date, date] | tuple[None, None],
    tuple[time | None, time | None],
    DayPart | None,
    date | None,
]:
    """(days, times, part of the day, old day) the request is about."""
    context = scanner.context
    days = _link_lists(scanner.days, scanner.between_days, intent is Intent.RESCHEDULE)
    old: list[_DaySpec] = []
    clocks = scanner.clocks
    wanted_from = _wanted_from(folded) if intent is Intent.BOOK else 0
    if any(spec.start >= wanted_from for spec in [*days, *clocks]):
        days = [spec for spec in days if spec.start >= wanted_from]
        clocks = [spec for spec in clocks if spec.start >= wanted_from]
    if intent is Intent.RESCHEDULE and days:
        old, days, clocks = _split_reschedule(days, clocks, scanner.between_days)
    time_from, time_to, part = _pick_time(clocks)
    new_spans = {(spec.start, spec.end) for spec in days}

    def is_new(found: _DaySpec | _Days) -> bool:
        return (found.start, found.end) in new_spans

    # the time asked for decides whether "le 28" is still ahead this month
    resolved = _resolve_all([*old, *days], context, lambda s: time_to if is_new(s) else None)
    new_days = _combine_days([found for found in resolved if is_new(found)])
    old_days = _combine_days([found for found in resolved if not is_new(found)])
    old_day = None if old_days is None else old_days[0]
    if new_days is None and time_to is not None:
        # a reschedule to another time keeps the day; a bare clock time is today or tomorrow;
        # a bare part of the day ("plutôt le matin") names no day
        day = (
            old_day
            if old_day is not None
            else (None if part is not None else _day_for_time(context, time_to))
        )
        new_days = None if day is None else (day, day)
    return new_days or (None, None), (time_from, time_to), part, old_day
