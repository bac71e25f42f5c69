"""Clock times, windows and parts of the day."""

import re
from datetime import UTC, time, timedelta

from bot.nlu.mentions import _Clock, _ClockSpec, _Context, _DaySpec, _Spec
from bot.nlu.noise import _NEGATION
from bot.nlu.patterns import Pattern
from bot.nlu.request import DAY_PART_WINDOWS, LUNCH_WINDOW, WORKING_DAY, DayPart
from bot.nlu.words import (
    _CARDINAL_WORDS,
    _CARDINAL_WORDS_FROM_TWO,
    _EN_HOUR_WORDS,
    _FR_HOUR_WORDS,
    _NOT_A_DAY,
    _SPACES,
    _WEEKDAYS,
    _alternation,
    _english_number,
    _number,
)

_HOUR = r"(?:[01]?\d|2[0-3])"
_MINUTE = r"[0-5]\d"
_AMPM = r"[ap]\.?\s?m\b\.?"
_FR_HOURS = _alternation(_FR_HOUR_WORDS)
_EN_HOURS = _alternation(_EN_HOUR_WORDS)
_NAMED_HOUR_VALUES = {"midi": 12, "noon": 12, "midday": 12, "minuit": 0, "midnight": 0}
_NAMED_HOURS = _alternation(_NAMED_HOUR_VALUES)
# a count of minutes in words; "une" only with its unit: "à dix heures une consultation"
_MINUTE_WORDS = _CARDINAL_WORDS_FROM_TWO
_MINUTE_COUNT = rf"(?:\d{{1,2}}|{_MINUTE_WORDS}|une?|one)\b"
_MINUTE_UNIT = r"\s*(?:minutes?|mins?|mn)\b"
# What may follow an hour, in one grammar: "et demie", "et quart", "trois quarts", "moins le
# quart", "moins cinq", "et quinze minutes", "30", "vingt". A count with no unit must not be
# one of something else: "à 10h deux personnes" is 10:00.
_MINUTES_NAMED = (
    r"(?:\s+et\s+(?P<half>demie?)\b|\s+et\s+(?P<quarter>quart)\b"
    r"|\s+(?:et\s+)?(?P<three_quarters>trois\s+quarts?)\b"
    r"|\s+moins\s+(?:le\s+)?(?P<less_quarter>quart)\b"
    rf"|\s+moins\s+(?P<less>{_MINUTE_COUNT})(?:{_MINUTE_UNIT})?"
    rf"|\s+(?:et\s+)?(?P<and_count>{_MINUTE_COUNT}){_MINUTE_UNIT}"
    rf"|\s*(?P<digits>{_MINUTE})(?!\d)(?:{_MINUTE_UNIT})?"
    rf"|\s+(?P<count>{_MINUTE_WORDS})\b(?:{_MINUTE_UNIT}|{_NOT_A_DAY}))"
)
# English counts the minutes before the hour: "quarter past ten", "twenty to four"
_EN_BEFORE_HOUR_NAMED = (
    r"(?:a\s+)?(?:(?P<which>half|quarter)|(?P<before>five|ten|twenty(?:\s+five)?)"
    rf"|(?P<before_count>{_MINUTE_COUNT}){_MINUTE_UNIT})\s+(?P<way>past|to)\s+"
    rf"(?P<hour>{_HOUR}|{_EN_HOURS}|{_NAMED_HOURS})\b"
)


def _unnamed(pattern: str) -> str:
    """The same pattern without its group names, to be used more than once in another one."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


_MINUTES = _unnamed(_MINUTES_NAMED)
# one clock time, in any of the forms people type
_CLOCK = (
    rf"(?:\b{_HOUR}\s*(?:h|heures?|hrs?)(?![a-z])"  # 14h30, 11h moins le quart
    rf"|\b(?:{_FR_HOURS}|{_EN_HOURS})\s+(?:heures?|o'?\s?clock)\b"  # dix heures trois quarts
    rf"|(?<!apres\s)\b(?:{_NAMED_HOURS})\b)(?:{_MINUTES})?"  # midi moins cinq
    rf"|\b{_HOUR}:{_MINUTE}(?:\s*{_AMPM})?"  # 14:00, 4:30pm
    rf"|\b{_HOUR}(?:\.{_MINUTE})?\s*{_AMPM}"  # 3pm, 9.30am
    rf"|\b(?:{_EN_HOURS})\s*{_AMPM}"  # ten am
    rf"|\b{_unnamed(_EN_BEFORE_HOUR_NAMED)}"  # half past ten, twenty to four
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
_FAREWELL = Pattern(
    r"\b(?:a|see\s+you|see\s+ya|until|a\s+tres\s+vite)\s+(?:(?:on|le|ce|this|next)\s+)?"
    rf"(?:{_WEEKDAYS}|demain|tomorrow|tout\s+a\s+l'?\s?heure|bientot|plus(?:\s+tard)?|"
    r"tres\s+vite|soon|later|then|tonight|ce\s+soir|la\s+semaine\s+prochaine|next\s+week)\b"
    r"(?:\s+(?:prochain|next|qui\s+vient))?"
    rf"(?:\s+(?:a\s+|at\s+)?(?:{_CLOCK}))?"
)
_BARE_HOUR_ONLY = Pattern(_BARE_HOUR)
_CLOCK_TIME = Pattern(rf"(?P<clock>{_CLOCK})(?:{_QUALIFIER})?")
_PREPOSITION_HOUR = Pattern(
    rf"\b(?:a|vers|at|around|about|aux\s+alentours\s+de|autour\s+de|sur\s+les)\s+"
    rf"(?P<clock>{_BARE_HOUR}|\b{_HOUR}\.{_MINUTE}\b(?![.-]?\d))(?:{_QUALIFIER})?"  # à 10.15
)
_WINDOW = Pattern(
    rf"(?:\b(?P<pre>entre|between|de|from|des)\s+)?(?P<a>{_CLOCK}|{_BARE_HOUR})\s*"
    r"(?P<link>-|a|au|jusqu'?\s?a|to|till|until|et|and)\s*"
    rf"(?P<b>{_CLOCK}|{_BARE_HOUR})(?:{_QUALIFIER})?"
)
_OPEN_WINDOW = Pattern(
    r"\b(?:(?P<after>a\s+partir\s+de|apres|after|from|des|pas\s+avant|no\s+earlier\s+than|"
    r"not\s+before|au\s+plus\s+tot(?:\s+a)?)|(?P<before>avant|before|pas\s+apres|"
    r"no\s+later\s+than|not\s+after|au\s+plus\s+tard(?:\s+a)?|by))\s+"
    rf"(?P<clock>{_CLOCK}|{_BARE_HOUR})(?:{_QUALIFIER})?"
)
_LUNCH = Pattern(
    r"\bentre\s+midi\s+et\s+(?:deux|2)(?:\s*h(?:eures?)?)?\b|\bpause\s+(?:de\s+)?(?:dejeuner|midi)\b"
    r"|\ba\s+l'?\s?heure\s+du\s+dejeuner\b"
    r"|(?<!after\s)\b(?:at\s+|during\s+|over\s+)?lunch\s*(?:time|break)?\b"
)
_IN_HOURS = Pattern(
    rf"\b(?:dans|in)\s+(?:(?P<n>\d{{1,3}}|{_CARDINAL_WORDS})|une?|an?)\s*"
    r"(?:(?P<hours>heures?|h|hours?|hrs?)|minutes?|mins?)(?![a-z])"
    r"|\b(?P<half>dans\s+une\s+demi\s+heure|in\s+half\s+an\s+hour)\b"
)
_PART_OF_DAY = Pattern(
    rf"{_NEGATION}(?P<today>\b(?:ce|cet|cette|this)\s+)?"
    # "fin de matinée", "début d'après-midi", "late morning": the half of the part said.
    r"(?:\b(?P<edge>debut|fin|early|late)(?:\s+(?:de\s+(?:la\s+)?|d\s*'\s*|in\s+the\s+)|\s+))?"
    r"(?:"
    r"(?P<morning>\b(?:matin(?:ee)?s?|mornings?|first\s+(?:thing|hour)|"
    r"(?:a\s+la\s+)?premiere\s+heure)\b)"
    r"|(?P<afternoon>\b(?:apres\s*midis?|aprems?|afternoons?|after\s+lunch|"
    r"apres\s+(?:le\s+)?(?:dejeuner|repas))\b)"
    r"|(?P<evening>\b(?:soir(?:ee)?s?|evenings?|fin\s+de\s+journee|end\s+of\s+the\s+day|"
    r"after\s+work|apres\s+(?:le\s+)?(?:travail|boulot))\b)"
    r"|(?P<tonight>\btonight\b))"
)

_BEFORE_HOUR = Pattern(_EN_BEFORE_HOUR_NAMED)
_CLOCK_PARTS = Pattern(
    rf"(?P<hour>\d{{1,2}}|{_FR_HOURS}|{_EN_HOURS}|{_NAMED_HOURS})"
    r"\s*(?:h|heures?|hrs?|o'?\s?clock)?\s*[:.]?"
    rf"(?:{_MINUTES_NAMED})?\s*"
    r"(?P<ampm>[ap])?\.?\s?m?\.?"
)


def _minutes(parts: re.Match[str]) -> int:
    """Minutes after the hour (negative before it) that _MINUTES_NAMED read."""
    if parts["half"]:
        return 30
    if parts["quarter"]:
        return 15
    if parts["three_quarters"]:
        return 45
    if parts["less_quarter"]:
        return -15
    if parts["less"]:
        return -_minute_count(parts["less"])
    count = parts["and_count"] or parts["digits"] or parts["count"]
    return _minute_count(count) if count else 0


def _minute_count(text: str) -> int:
    return 1 if text in ("un", "une", "one") else _number(text)


def _read_clock(text: str) -> _Clock | None:
    """Read one clock expression already found by _CLOCK or _BARE_HOUR."""
    text = _SPACES.sub(" ", text.strip())
    before = _BEFORE_HOUR.fullmatch(text)
    if before:
        hour = _hour_value(before["hour"])
        if hour is None:
            return None
        if before["which"]:
            minutes = 30 if before["which"] == "half" else 15
        else:
            minutes = _minute_count(before["before"] or before["before_count"])
        moment = hour * 60 + (minutes if before["way"] == "past" else -minutes)
        hour, minute = divmod(moment % (24 * 60), 60)
        named = before["hour"] in _NAMED_HOUR_VALUES
        return _Clock(hour, minute, movable=not named and 1 <= hour <= 11)
    parts = _CLOCK_PARTS.fullmatch(text)
    if parts is None:
        return None
    named = parts["hour"] in _NAMED_HOUR_VALUES
    hour = _hour_value(parts["hour"])
    if hour is None or not 0 <= hour <= 23:
        return None
    minutes = _minutes(parts)
    if not -59 <= minutes <= 59:
        return None
    if parts["ampm"]:
        hour = hour % 12 + (12 if parts["ampm"] == "p" else 0)
    # "midi moins cinq" is 11:55, "minuit moins le quart" 23:45
    hour, minute = divmod((hour * 60 + minutes) % (24 * 60), 60)
    movable = not named and not parts["ampm"] and 1 <= hour <= 11
    return _Clock(hour, minute, movable)


def _hour_value(text: str) -> int | None:
    if text in _NAMED_HOUR_VALUES:
        return _NAMED_HOUR_VALUES[text]
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
    window_first, window_last = DAY_PART_WINDOWS[part]
    if match["edge"]:
        minutes = (
            window_first.hour * 60
            + window_first.minute
            + window_last.hour * 60
            + window_last.minute
        ) // 2
        middle = time(minutes // 60, minutes % 60)
        late = match["edge"] in ("fin", "late")
        window_first, window_last = (middle, window_last) if late else (window_first, middle)
    first, last = (_Clock(t.hour, t.minute, False) for t in (window_first, window_last))
    start, end = match.span()
    found: list[_Spec] = [_ClockSpec(start, end, first, last, part)]
    if match["today"] or match["tonight"]:  # "ce soir", "this morning", "tonight"
        found.append(_DaySpec(start, end, context.today, context.today))
    return found
