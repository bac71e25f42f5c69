"""The .ics file: RFC 5545 text that calendars import, with stable UIDs and UTC times."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from bot.ics import CalendarEvent, calendar_file
from tests.conftest import PARIS


def test_events_round_trip_through_a_calendar_parser():
    now = datetime(2027, 1, 11, 9, tzinfo=PARIS)
    data = calendar_file(
        "Cabinet dentaire Dupont",
        [
            CalendarEvent(
                key="appointment-7",
                start=datetime(2027, 1, 12, 10, tzinfo=PARIS),
                end=datetime(2027, 1, 12, 10, 30, tzinfo=PARIS),
                summary="Détartrage · Mme Durand, « urgent »; rappeler",
                description="Avec Dr Dupont (confirmé)",
                location="12 rue de la Paix, 75002 Paris",
            ),
            CalendarEvent(
                key="appointment-8",
                start=datetime(2027, 3, 28, 10, tzinfo=PARIS),  # the DST day
                end=datetime(2027, 3, 28, 10, 30, tzinfo=PARIS),
                summary="Consultation · Alice",
                tentative=True,
            ),
        ],
        now,
    )
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"DTSTART:20270112T090000Z\r\n" in data
    assert b"DTSTART:20270328T080000Z\r\n" in data
    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    first, second = calendar.walk("VEVENT")
    assert str(first["UID"]) == "appointment-7@secretary-bot"
    assert str(first["SUMMARY"]) == "Détartrage · Mme Durand, « urgent »; rappeler"
    assert first.decoded("DTSTART") == datetime(2027, 1, 12, 9, tzinfo=UTC)
    assert first.decoded("DTSTAMP") == datetime(2027, 1, 11, 8, tzinfo=UTC)
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(second["STATUS"]) == "TENTATIVE"
    assert "LOCATION" not in second


def test_an_empty_calendar_is_still_a_calendar():
    data = calendar_file("Institut", [], datetime(2027, 1, 11, tzinfo=UTC))
    assert Calendar.from_ical(data).walk("VEVENT") == []
