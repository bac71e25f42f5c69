"""What a patient is offered, from as little of the agenda as gives the answer. Pure.

An offer first reads the busy time of the days asked for only (a day, a week, the day of an
exact time) and searches as if the days beyond were free: free slots found within the days
read are then the ones the whole agenda gives (see ``settle``). When the answer may lie
beyond them, the days read are widened, up to the whole booking horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bot.agenda import (
    NEAREST_DAYS,
    Occupancy,
    OpeningRules,
    Slot,
    Unavailable,
    Wanted,
    Why,
    search,
    unavailable,
)

# A day or a range, when full, is offered the earliest free slots after it: the days read
# first include the week after.
_AFTER = timedelta(days=7)
# An exact time is offered with the nearest free starts, days around included: when its
# own day(s) do not hold them (a closed day, a full one), the few days around (a weekend's),
# then those up to NEAREST_DAYS away.
_AROUND = (timedelta(days=3), timedelta(days=NEAREST_DAYS))


@dataclass(frozen=True)
class Offer:
    slots: list[Slot]
    exact: bool  # the first slot is exactly the one asked for
    # Why the day or time asked for is not offered, when the asker can be told.
    unavailable: Unavailable | None = None
    last_day: date | None = None  # the last day patients may book online

    @property
    def beyond_horizon(self) -> bool:
        return self.unavailable is not None and self.unavailable.why == Why.BEYOND


def windows(rules: OpeningRules, wanted: Wanted, now: datetime) -> list[tuple[date, date]]:
    """The days whose agenda an offer reads first, in turn, the next when the last was not
    enough; after them, the whole horizon's."""
    today, horizon = rules.today(now), rules.last_day(now)
    first = min(max(wanted.day_from or today, today), horizon)
    last = wanted.day_to or wanted.day_from or first
    if wanted.exact:
        asked = [(first, last), *((first - days, last + days) for days in _AROUND)]
    else:
        asked = [(first, last + _AFTER)]
    found: list[tuple[date, date]] = []
    for start, end in asked:
        window = (max(today, start), min(max(today, start, end), horizon))
        if window not in found and window != (today, horizon):
            found.append(window)
    return found


def reading(rules: OpeningRules, first: date, last: date) -> tuple[datetime, datetime]:
    """The time whose busy spans tell which slots of the days [first, last] are free: a
    day more on each side, for what crosses midnight."""
    return (
        datetime.combine(first, time.min, tzinfo=rules.zone) - timedelta(days=1),
        datetime.combine(last, time.max, tzinfo=rules.zone) + timedelta(days=1),
    )


def settle(
    rules: OpeningRules,
    duration: timedelta,
    wanted: Wanted,
    busy: Occupancy,
    now: datetime,
    limit: int,
    *,
    within: tuple[date, date] | None,
) -> Offer | None:
    """The offer, from ``busy`` read for the days ``within`` only (None: the horizon); None
    when it might differ with the rest of the horizon known.

    The days not read look free: they may show slots the whole agenda would not, never hide
    one. So when every slot chosen lies within the days read, the whole agenda gives the
    same: the earliest ones (a day, a range, from today) have nothing earlier beyond them,
    the nearest ones (an exact time) nothing nearer; what is said of the day asked for (why
    it has no room) is read within it.
    """
    business = rules.business
    if wanted.practitioner not in (None, *business.practitioners):
        wanted = replace(wanted, practitioner=None)
    slots = search(rules, duration, busy, wanted, now=now, limit=limit)
    if not slots and wanted.practitioner is not None:
        # The one asked for has no room at all: anyone is better than nothing.
        wanted = replace(wanted, practitioner=None)
        slots = search(rules, duration, busy, wanted, now=now, limit=limit)
    why = unavailable(rules, duration, busy, wanted, now=now)
    if not slots and (why is None or why.why != Why.BEYOND):
        if within is not None:
            return None
        # Nothing from the day asked to the horizon: the earliest before it, if any, so
        # that "no free slot" is said only when there is none within the horizon.
        slots = search(rules, duration, busy, Wanted(), now=now, limit=limit)
    if within is not None and any(not within[0] <= s.start.date() <= within[1] for s in slots):
        return None
    exact = bool(
        slots
        and wanted.exact
        and wanted.day_from is not None
        and wanted.day_from <= slots[0].start.date() <= (wanted.day_to or wanted.day_from)
        and slots[0].start.time() == wanted.time_from
    )
    return Offer(slots, exact, None if exact else why, rules.last_day(now))
