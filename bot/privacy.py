"""What a patient's data export holds, and its short readable summary (pure).

The export is a list of sections, each a name and a function of what the store gathered
(``storage.privacy.PatientData``): one more kind of data is one more entry in ``SECTIONS``.
Times are ISO 8601 in the business's own zone, as the patient lived them; staff are named by
role only (``office``), never by their Telegram ids, which are not the patient's data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage.appointments import HOLDING, Appointment
from storage.privacy import PatientData

# The export's own version: a reader of an older file knows what to expect in it.
FORMAT = 1


@dataclass(frozen=True)
class Place:
    """A business as the export names it."""

    slug: str
    name: str
    zone: ZoneInfo


Places = Mapping[int, Place]  # by business id; a business dropped from config is absent
Section = Callable[[PatientData, Places], Any]


_UTC = ZoneInfo("UTC")


def _place(places: Places, business_id: int) -> Place:
    return places.get(business_id) or Place(str(business_id), str(business_id), _UTC)


def _at(moment: datetime | None, zone: ZoneInfo = _UTC) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def _who(data: PatientData, actor: int | None) -> str:
    if actor is None:
        return "bot"
    return "you" if actor == data.telegram_id else "office"


def _identity(data: PatientData, _: Places) -> dict[str, Any]:
    person = data.person
    if person is None:
        return {"telegram_id": data.telegram_id}
    return {
        "telegram_id": person.telegram_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "username": person.username,
        "phone": person.phone,
        "language": person.language,
        "first_contact": _at(person.created_at),
        "last_seen": _at(person.last_seen_at),
    }


def business_ids(data: PatientData) -> list[int]:
    """Every business the data names: the one they follow, and those they dealt with."""
    found: list[int] = []
    candidates = [data.person.business_id if data.person else None]
    candidates += [b.appointment.business_id for b in data.appointments]
    candidates += [c.thread.business_id for c in data.conversations]
    candidates += [m.business_id for m in data.mail]
    for business_id in candidates:
        if business_id is not None and business_id not in found:
            found.append(business_id)
    return found


def _businesses(data: PatientData, places: Places) -> list[dict[str, Any]]:
    current = data.person.business_id if data.person else None
    return [
        {
            "slug": _place(places, i).slug,
            "name": _place(places, i).name,
            "current": i == current,
        }
        for i in business_ids(data)
    ]


def _appointments(data: PatientData, places: Places) -> list[dict[str, Any]]:
    found = []
    for booked in data.appointments:
        appointment = booked.appointment
        zone = _place(places, appointment.business_id).zone
        found.append(
            {
                "id": appointment.id,
                "business": _place(places, appointment.business_id).slug,
                "service": appointment.service,
                "practitioner": appointment.practitioner,
                "starts_at": _at(appointment.starts_at, zone),
                "ends_at": _at(appointment.ends_at, zone),
                "status": str(appointment.status),
                "booked_by": str(appointment.source),
                "created_at": _at(appointment.created_at, zone),
                "you_confirmed_at": _at(appointment.patient_confirmed_at, zone),
                "cancelled_late": appointment.cancelled_late,
                "history": [
                    {
                        "at": _at(entry.at, zone),
                        "by": _who(data, entry.actor),
                        "from": str(entry.from_status) if entry.from_status else None,
                        "to": str(entry.to_status),
                        "note": entry.note,
                    }
                    for entry in booked.history
                ],
                "reminders": [
                    {"minutes_before": minutes, "sent_at": _at(sent, zone)}
                    for minutes, sent in booked.reminders
                ],
            }
        )
    return found


def _conversations(data: PatientData, places: Places) -> list[dict[str, Any]]:
    found = []
    for conversation in data.conversations:
        thread = conversation.thread
        zone = _place(places, thread.business_id).zone
        found.append(
            {
                "business": _place(places, thread.business_id).slug,
                "opened_at": _at(thread.opened_at, zone),
                "closed_at": _at(thread.closed_at, zone),
                "messages": [
                    {
                        "at": _at(message.created_at, zone),
                        "from": "you" if message.author is None else "office",
                        "text": message.content,
                        "file": message.is_file,
                    }
                    for message in conversation.messages
                ],
            }
        )
    return found


def _mail(data: PatientData, places: Places) -> list[dict[str, Any]]:
    return [
        {
            "business": _place(places, copy.business_id).slug,
            "at": _at(copy.created_at, _place(places, copy.business_id).zone),
            "text": copy.text,
        }
        for copy in data.mail
    ]


def _owed(data: PatientData, _: Places) -> list[dict[str, Any]]:
    return [
        {
            "kind": message.kind,
            "at": _at(message.created_at),
            "status": str(message.status),
            "appointment": message.appointment_id,
        }
        for message in data.messages_owed
    ]


def _audit(data: PatientData, _: Places) -> list[dict[str, Any]]:
    return [
        {
            "at": _at(entry.at),
            "by": _who(data, entry.actor),
            "action": entry.action,
            "target": entry.target,
        }
        for entry in data.audit
    ]


def _waitlist(data: PatientData, places: Places) -> list[dict[str, Any]]:
    return [
        {
            "business": _place(places, entry.business_id).slug,
            "service": entry.service,
            "days": [entry.day_from.isoformat(), entry.day_to.isoformat()],
            "times": [
                moment.strftime("%H:%M") if moment else None
                for moment in (entry.time_from, entry.time_to)
            ],
            "practitioner": entry.practitioner,
            "joined_at": _at(entry.created_at, _place(places, entry.business_id).zone),
            "ended": str(entry.ended_why) if entry.ended_why else None,
        }
        for entry in data.waitlist
    ]


def _session(data: PatientData, _: Places) -> dict[str, bool]:
    return {"something_in_progress": data.session}


# The export, section by section, in the order the file shows them.
SECTIONS: tuple[tuple[str, Section], ...] = (
    ("identity", _identity),
    ("businesses", _businesses),
    ("appointments", _appointments),
    ("messages_with_the_office", _conversations),
    ("mailings_received", _mail),
    ("waitlist", _waitlist),
    ("messages_from_the_bot", _owed),
    ("audit_log", _audit),
    ("session", _session),
)


def document(data: PatientData, places: Places, *, now: datetime) -> dict[str, Any]:
    exported = {"format": FORMAT, "exported_at": now.astimezone(UTC).isoformat()}
    return exported | {name: section(data, places) for name, section in SECTIONS}


def to_json(exported: dict[str, Any]) -> bytes:
    return json.dumps(exported, ensure_ascii=False, indent=2).encode("utf-8")


@dataclass(frozen=True)
class Summary:
    """What the readable summary says: counts, businesses, the next appointment."""

    name: str
    username: str | None
    phone: str | None
    language: str | None
    businesses: list[str]
    appointments: int
    upcoming: int
    next: Appointment | None
    messages: int  # in threads with the office, both ways


def summary(data: PatientData, places: Places, *, now: datetime) -> Summary:
    person = data.person
    ahead = [
        b.appointment
        for b in data.appointments
        if b.appointment.status in HOLDING and b.appointment.starts_at > now
    ]
    return Summary(
        name=person.full_name if person else "",
        username=person.username if person else None,
        phone=person.phone if person else None,
        language=person.language if person else None,
        businesses=[_place(places, i).name for i in business_ids(data)],
        appointments=len(data.appointments),
        upcoming=len(ahead),
        next=min(ahead, key=lambda a: a.starts_at) if ahead else None,
        messages=sum(len(c.messages) for c in data.conversations),
    )
