"""Days: holidays, weeks, dates, relative days, days of the month, and how each resolves to
dates. Weekday names are read in `weekdays`, days counted from another day in `offsets`.
"""

import re
from datetime import date, time, timedelta

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from bot.nlu.mentions import _Context, _DaySpec, _Spec
from bot.nlu.patterns import Pattern
from bot.nlu.weekdays import _LATER, _WEEKDAY_WORD, _WEEKS_LATER, _WORD_BEFORE, _next_weekday
from bot.nlu.words import (
    _ALL_WEEKDAY_NUMBERS,
    _ANY_WEEKDAY,
    _CARDINAL_WORDS,
    _DAY_NUMBER,
    _MONTH_NUMBERS,
    _MONTHS,
    _NOT_A_DAY,
    _alternation,
    _number,
)

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
_HOLIDAY = Pattern(rf"\b(?:{_alternation([*_FIXED_HOLIDAYS, *_EASTER_HOLIDAYS])})\b")

_WEEK_OF = Pattern(
    r"\b(?:(?:la|une|cette)\s+)?semaine\s+(?:du|de|d')\s*"
    r"|\b(?:the\s+)?week\s+(?:of|starting|beginning|commencing)\s+(?:on\s+)?(?:the\s+)?"
)
_MONTH_DATE = Pattern(
    rf"\b(?:{_ANY_WEEKDAY},?\s+)?(?:(?:le|the)\s+)?(?P<day>{_DAY_NUMBER})"
    rf"(?:\s+(?:de|of|du\s+mois\s+de|du\s+mois\s+d'|d'))?\s*(?P<month>{_MONTHS})\b\.?"
    r"(?:,?\s+(?P<year>\d{4})\b)?"
    rf"|\b(?:{_ANY_WEEKDAY},?\s+)?(?P<month2>{_MONTHS})\.?\s+(?:the\s+)?"
    rf"(?P<day2>{_DAY_NUMBER})\b(?:,?\s+(?P<year2>\d{{4}})\b)?"
)
# Day and month in digits, with a year or not, whatever the separator: "12/03", "17.02",
# "17-02", "17 02", "20 02 2014". A number next to others is part of a phone number, and one
# before a unit is an amount ("17.02 €").
_NOT_AN_AMOUNT = (
    r"(?!\d|\s*(?:[/:,.]\d|€|%|h\b|heures?\b|euros?\b|eur\b|ans?\b|kg\b|km\b|cm\b|mm\b|mg\b|ml\b))"
)
_NUMERIC_DATE = Pattern(
    r"(?<![\d/])(?P<day>\d{1,2})\s*/\s*(?P<month>\d{1,2})(?:\s*/\s*(?P<year>\d{4}|\d{2}))?(?![\d/])"
    r"|(?<![\d.-])(?<!\d\s)(?P<day2>\d{1,2})(?P<sep>[.-]|\s)(?P<month2>\d{1,2})"
    rf"(?:(?P=sep)(?P<year2>\d{{4}}|\d{{2}}))?(?![.-]?\d|\s\d){_NOT_AN_AMOUNT}"
    r"|\b(?P<year3>\d{4})-(?P<month3>\d{2})-(?P<day3>\d{2})\b"
)
_RELATIVE_DAY = Pattern(
    r"\b(?:(?P<after_tomorrow>apres\s*demain|(?:the\s+)?day\s+after\s+tomorrow|overmorrow)"
    r"|(?P<tomorrow>demain|tomorrow)|(?P<today>aujourd\s*'?\s*hui|aujourdhui|today|ce\s+jour))\b"
    rf"(?:{_LATER})?"
)
_IN_DAYS = Pattern(
    r"\b(?:(?P<within>d'?\s?ici(?:\s+a)?|within|dans\s+les|sous)|dans|in)\s+"
    rf"(?:(?P<n>\d{{1,3}}|{_CARDINAL_WORDS})|une?|an?)\s+"
    r"(?P<unit>jours?|days?|semaines?|weeks?|mois|months?|ans?|annees?|years?)\b"
    r"|\b(?:dans|in)\s+(?P<fortnight>une\s+quinzaine(?:\s+de\s+jours)?|a\s+fortnight)\b"
    # "in the next couple of days", "dans les 3 prochains jours": any day until then
    r"|\b(?:(?:in|within|over)\s+the\s+next|dans\s+les)\s+(?:(?P<next_n>\d{1,2})\s+|"
    rf"(?P<next_word>{_CARDINAL_WORDS})\s+|(?P<few>(?:a\s+)?(?:couple\s+of|few)|quelques)\s+)?"
    r"(?:prochains?\s+jours|days)\b"
)
_WEEK = Pattern(
    r"\b(?:(?P<edge>debut|fin|milieu|early|end|late|beginning|middle|mid)\s+"
    r"(?:de\s+|d'|of\s+|in\s+)?)?(?:"
    r"(?:(?P<this_fr>cette|dans\s+la)\s+|(?:la\s+)?(?P<next_fr_before>prochaine?)\s+|la\s+)?"
    r"semaine(?:\s+(?P<next_fr>prochaine?|suivante?|d'?\s?apres|qui\s+vient))?"
    r"|(?P<after_next>the\s+week\s+after\s+next)"
    r"|(?:(?P<this_en>this)|(?P<next_en>next|the\s+following|the\s+coming)|the)\s+week"
    r")\b(?!\s*end)"
)
_WEEKEND = Pattern(
    r"\b(?:(?:(?P<next_before>prochain|next)|ce|cette|this|le|the)\s+)?week\s*ends?\b"
    r"(?:\s+(?P<next>prochain|suivant))?"
)
_MONTH_RANGE = Pattern(
    r"\b(?:(?P<edge>debut|fin|mi|milieu|courant|early|end\s+of|late|mid|beginning\s+of|"
    r"middle\s+of)\s+(?:de\s+|d'|du\s+mois\s+de\s+|du\s+mois\s+d')?"
    r"|(?:en|in|au\s+mois\s+de|au\s+mois\s+d'|pendant|during)\s+)"
    rf"(?P<month>{_MONTHS})\b(?:\s+(?P<year>\d{{4}}))?"
)
_RELATIVE_MONTH = Pattern(
    r"\b(?:(?P<edge>debut|fin|mi|milieu|courant|early|end|late|mid|beginning|middle)\s+"
    r"(?:du\s+|de\s+|of\s+(?:the\s+)?)?)?(?:"
    r"(?P<next>(?:le\s+)?mois\s+(?:prochain|suivant|d'?\s?apres)|next\s+month)"
    r"|(?P<this>ce\s+mois(?:\s+ci)?|this\s+month)|mois|the\s+month)\b"
)
_WEEKDAY_AND_DAY = Pattern(
    rf"\b{_WEEKDAY_WORD}\s*(?:the\s+|le\s+)?(?P<day>{_DAY_NUMBER})\b{_NOT_A_DAY}"
)
_DAY_OF_MONTH = Pattern(
    rf"\b(?:le|du|au|ce|the|on\s+the|for\s+the|jusqu'?\s?au|a\s+partir\s+du|des\s+le)\s+"
    rf"(?P<day>{_DAY_NUMBER}){_NOT_A_DAY}\b"
    rf"|\b(?P<ordinal>\d{{1,2}}(?:st|nd|rd|th|er))\b{_NOT_A_DAY}"
)
# a date right after "semaine du" / "week of": the same forms, anchored
_DATE_AT = (_MONTH_DATE, _NUMERIC_DATE, _WEEKDAY_AND_DAY, Pattern(rf"(?P<day>{_DAY_NUMBER})\b"))

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
    weekday = _ALL_WEEKDAY_NUMBERS.get(groups.get("weekday") or groups.get("short") or "")
    if not 1 <= day <= 31 or (month is not None and not 1 <= month <= 12):
        return None
    return day, month, year, weekday


def _read_date(match: re.Match[str], context: _Context) -> list[_Spec] | None:
    parts = _date_parts(match)
    if parts is None or _days_not_a_date(match):
        return None
    if match.groupdict().get("short") and _WORD_BEFORE.search(
        match.string, max(0, match.start() - 12), match.start()
    ):
        return None  # "la mer 12 fois" is no Wednesday
    day, month, year, weekday = parts
    if match.groupdict().get("month2") == "mar" and year is None:
        # "mar 12" is mardi 12 when the coming 12th is a Tuesday, else the 12th of March
        coming = _roll(day, None, None, None, context, None)
        if coming is not None and coming.weekday() == _ALL_WEEKDAY_NUMBERS["mar"]:
            month, weekday = None, coming.weekday()
    return [_DaySpec(match.start(), match.end(), day=day, month=month, year=year, weekday=weekday)]


def _days_not_a_date(match: re.Match[str]) -> bool:
    """Whether "a-b", "a b" or "a.b" without a year is no day and month: a month must be written
    with two digits ("17.02"), and with "-" or a space "10-12" may be the 10th to the 12th, so the
    second must be padded ("03-04") or smaller than the first ("17 02"); after spaces a year has
    four digits."""
    separator = match.groupdict().get("sep")
    if separator is not None and separator.isspace() and len(match["year2"] or "") == 2:
        return True  # "06 12 34" is more likely the start of a phone number
    if separator is None or match["year2"]:
        return False
    day, month = match["day2"], match["month2"]
    if len(month) != 2:
        return True
    return separator != "." and not (month.startswith("0") or int(month) < int(day))


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
    offset += 7 * _WEEKS_LATER.get(match["later"] or "", 0)
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
            written = date(year, month, day)
        except ValueError:  # "le 29 février" in 2027, "le 31 avril", years past 9999
            return None
        return None if written < today else written  # "le 20/02/2014" is past: no day
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
    if spec.days_after is not None:
        if previous is None and spec.days_after < 0:  # "la veille" of today is past
            return None
        day = (previous or context.today) + timedelta(days=spec.days_after)
        return None if day < context.today else (day, day)
    assert spec.weekday is not None
    base = previous if spec.after_previous and previous is not None else context.today
    day = _next_weekday(spec.weekday, base) + timedelta(weeks=spec.weeks_later)
    return day, day
