"""A business's coming weeks as an iCalendar (.ics) file that phone calendars import.

Pure: the events come already worded in the reader's language. Times are written in UTC
(``...Z``), which every calendar converts to the phone's zone without a VTIMEZONE block;
each event keeps a stable UID, so importing a newer file updates the events it already has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PRODUCT = "-//secretary-bot//agenda//FR"
UID_DOMAIN = "secretary-bot"


@dataclass(frozen=True)
class CalendarEvent:
    key: str  # unique within the office: "appointment-12", "block-3"
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    tentative: bool = False  # a request not yet confirmed


def calendar_file(name: str, events: Iterable[CalendarEvent], now: datetime) -> bytes:
    """The .ics bytes (UTF-8, CRLF line ends, as RFC 5545 wants)."""
    # Imported on first use, not with the module: the bot's start-up need not pay for it.
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = now.astimezone(UTC)
    for item in events:
        event = Event()
        event.add("uid", f"{item.key}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start.astimezone(UTC))
        event.add("dtend", item.end.astimezone(UTC))
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if item.location:
            event.add("location", item.location)
        event.add("status", "TENTATIVE" if item.tentative else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
