"""Understand a patient's chat message: what they want, and for which day and time.

`parse_request` reads French and English messages the way a French secretary would (the
conventions are those of shared/corpus/README.md). It is pure and synchronous: no I/O, no clock
of its own (`now` is given), nothing of Telegram or SQL.

How it reads, in order (`parse`), and where each step lives:
1. Fold the text (lower case, no accents, "après-midi" -> "apres midi"; `words`), expand SMS
   abbreviations and fix small typos in the date words ("mrdi", "procain") with rapidfuzz
   (`typos`).
2. Blank out what only looks like a date: greetings ("bonne soirée", "good morning") and
   symptom durations ("depuis hier"; `noise`).
3. Take the clock times (windows first, then exact times, then parts of the day; `times`), then
   the days (days counted from another, "le lendemain", `offsets`; holidays, weeks, dates,
   relative days, days of the month, `days`; weekdays and their abbreviations, `weekdays`).
   Each found mention is blanked so that a later, looser pattern cannot read it again
   ("vendredi 14:00" is a time, not "Friday the 14th"; `mentions`).
4. Decide the intent from keyword families, checked from the most specific one, leaving out
   what is only a condition ("si vous avez une annulation"; `intents`).
5. Combine the mentions (`combine`): for a reschedule the old appointment's day is told apart
   from the new one; a weekday inside a named range ("entre Noël et le jour de l'an, lundi ou
   mardi") is taken inside it; a time without a day is today if still ahead, else tomorrow.
The configured service and the practitioner named are found apart (`services`); what the reading
comes to is a `BookingRequest` (`request`).

Month and weekday names come from Babel, month and Easter arithmetic from dateutil, typo
distances from rapidfuzz. dateparser is deliberately not used: `python -m bench.nlu` runs its
`search_dates` on the corpus, where it gets about a third of the dates and times right (it reads
"14h" as "in 14 hours", "je" as jeudi, and has no ranges nor parts of the day) at ~1 ms a message
against ~0.15 ms here, and importing it with its French and English data costs ~200 ms. Where
it is good, absolute dates with month names, the grammar here needs only Babel's names.
"""

from bot.nlu.intents import mentions_waitlist
from bot.nlu.parse import parse_request
from bot.nlu.request import (
    DAY_PART_WINDOWS,
    LUNCH_WINDOW,
    WORKING_DAY,
    BookingRequest,
    DayPart,
    Intent,
    ServiceLike,
)

__all__ = [
    "DAY_PART_WINDOWS",
    "LUNCH_WINDOW",
    "WORKING_DAY",
    "BookingRequest",
    "DayPart",
    "Intent",
    "ServiceLike",
    "mentions_waitlist",
    "parse_request",
]
