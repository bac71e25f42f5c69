"""What the readers find in a text (clock times, days) and the scanner that runs them."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from bot.nlu.patterns import Pattern
from bot.nlu.request import DayPart


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
    days_after: int | None = None  # "le lendemain": days after the one named before, else today

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
    text: str = ""  # the whole message as read, before any mention is blanked


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

    def take(self, pattern: Pattern | re.Pattern[str], read: _Reader) -> None:
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

    def blank(self, pattern: Pattern | re.Pattern[str]) -> None:
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
