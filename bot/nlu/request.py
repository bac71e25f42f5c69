"""What a read message comes to: the intent, the days and times, and the public types around
them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import Protocol


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
