"""Days counted from another day: "le lendemain", "deux jours plus tard", "la veille du 5 mai",
"the day after Christmas".

The other day is the one written right after ("le lendemain de Noël"), else the one named before
in the message ("jeudi ou le lendemain"), else today ("deux jours plus tard" alone). A day
counted back from today ("la veille" alone) is past: no day.
"""

import re
from datetime import timedelta

from bot.nlu.days import (
    _HOLIDAY,
    _MONTH_DATE,
    _NUMERIC_DATE,
    _RELATIVE_DAY,
    _WEEKDAY_AND_DAY,
    _read_date,
    _read_holiday,
    _read_relative_day,
    _resolve,
)
from bot.nlu.mentions import _Context, _DaySpec, _Reader, _Spec
from bot.nlu.patterns import Pattern
from bot.nlu.weekdays import _WEEKDAY, _read_weekday
from bot.nlu.words import _CARDINAL_WORDS, _DAY_NUMBER, _NOT_A_DAY, _number

# two patterns, not one: an optional word in front of alternatives is slow to look for everywhere
_NAMED_OFFSET = Pattern(
    r"\b(?:(?P<next>lendemain)|(?P<second>surlendemain)|(?P<eve>veille)"
    r"|the\s+(?:(?P<next_en>(?:next|following)\s+day|day\s+after)|(?P<eve_en>day\s+before|"
    r"previous\s+day)))\b"
)
_COUNTED_OFFSET = Pattern(
    rf"\b(?P<n>\d{{1,2}}|{_CARDINAL_WORDS}|une?|an?)\s+(?P<unit>jours?|semaines?|days?|weeks?)\s+"
    r"(?:(?P<later>plus\s+tard|apres|later|after)|(?P<earlier>plus\s+tot|avant|earlier|before))\b"
)
# what may stand between the count and the day it counts from: "la veille du 5", "2 days before"
_OF = Pattern(r"\s*(?:(?:de|du|d'|of|the|le)\s*)*")
_DAY_OF_MONTH_AT = Pattern(rf"(?P<day>{_DAY_NUMBER})\b{_NOT_A_DAY}")
# the days a count may be taken from, in the order the scanner takes them
_ANCHORS: tuple[tuple[Pattern, _Reader], ...] = (
    (_HOLIDAY, _read_holiday),
    (_MONTH_DATE, _read_date),
    (_NUMERIC_DATE, _read_date),
    (_RELATIVE_DAY, _read_relative_day),
    (_WEEKDAY_AND_DAY, _read_date),
    (_WEEKDAY, _read_weekday),
    (_DAY_OF_MONTH_AT, _read_date),
)


def _offset(match: re.Match[str]) -> int:
    groups = match.groupdict()
    if groups.get("next") or groups.get("next_en"):
        return 1
    if groups.get("second"):
        return 2
    if groups.get("eve") or groups.get("eve_en"):
        return -1
    amount = 1 if match["n"] in ("un", "une", "a", "an") else _number(match["n"])
    if match["unit"].startswith(("jour", "day")):
        days = amount - 1 if amount in (8, 15) and match["unit"].startswith("jour") else amount
    else:
        days = 7 * amount
    return -days if match["earlier"] else days


def _read_from_another_day(match: re.Match[str], context: _Context) -> list[_Spec] | None:
    offset = _offset(match)
    at = _OF.match(match.string, match.end()).end()
    for pattern, read in _ANCHORS:
        anchor = pattern.match(match.string, at)
        found = (anchor and read(anchor, context)) or []
        spec = next((spec for spec in found if isinstance(spec, _DaySpec)), None)
        days = spec and _resolve(spec, context, None, None)
        if anchor and days:
            day = days[0] + timedelta(days=offset)
            if day < context.today:
                return []
            return [_DaySpec(match.start(), anchor.end(), day, day)]
    return [_DaySpec(match.start(), match.end(), days_after=offset)]
