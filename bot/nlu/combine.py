"""All the mentions of a message made into one request: ranges, the old and new day of a
reschedule, one time out of several.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import date, time, timedelta

from bot.nlu.days import _resolve
from bot.nlu.mentions import _Clock, _ClockSpec, _Context, _Days, _DaySpec
from bot.nlu.patterns import Pattern
from bot.nlu.request import DAY_PART_WINDOWS, DayPart

# what may stand between two days that are one choice: "lundi ou mardi", "du 5 au 9"
_JOINING_GAP = Pattern(
    r"(?:\s|[,;/&+()!.?-]|\b(?:ou|or|et|and|voire|sinon|bien|alors|puis|then|plutot|rather|"
    r"ideally|idealement|de\s+preference|preferably|le|la|les|l'|the|on|de|du|d'|of|en|in|"
    r"dans)\b)*"
)
_RANGE_GAP = Pattern(r"\s*(?:,|ou|or|et|and|au|a|-|to|through|until|jusqu'?\s?au)?\s*(?:le\s+)?")
# in a reschedule "de mardi à lundi" is from the old day to the new one, not a range
_CHOICE_GAP = Pattern(r"\s*(?:,|ou|or|et|and)?\s*(?:le\s+)?")
# the appointment a day belongs to, written just before it: "mon rdv du 13 janvier"
_APPOINTMENT_BEFORE = Pattern(
    r"\b(?:rdv|rendez\s+vous|rendezvous|appointment|appt|booking|reservation|seance)s?\s+"
    r"(?:(?:de|du|d'|of|on|from|prevu|prevue|fixe|pris|est|is|scheduled|initialement|"
    r"actuel|actuellement|the|le|la|ce|this|that|at)\s*)*$"
)
# "avant vendredi", "d'ici jeudi", "jusqu'au 15", "by Friday": any day from today to then
_BOUND = Pattern(
    r"\b(?:(?P<before>avant|before)|d'?\s?ici|jusqu'?\s?(?:au|a|a\s+la|a\s+l')|until|till|by|"
    r"no\s+later\s+than|au\s+plus\s+tard)\s+(?:le\s+|la\s+|the\s+|ce\s+|this\s+|next\s+)?$"
)
_APPOINTMENT_AFTER = Pattern(r"'?s?\s+(?:appointment|appt|booking|slot|rdv|rendez\s+vous)")


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
        # Its own window: "fin de matinée" is the later half of the morning.
        own = [clock for clock in clocks if clock.part == part]
        first = min(clock_time(clock.first) for clock in own)
        return first, max(clock_time(clock.last) for clock in own), part
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
