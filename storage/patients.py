"""Who the office can look up: Telegram patients and phone callers, their appointments, and
the office's note on each. Matching a name typed with typos is the domain's (bot.patients)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.appointments import Appointment
from storage.db import Database, to_epoch
from storage.people import Person


@dataclass(frozen=True)
class Caller:
    """A phone caller, known only from the appointments the office booked for them; one of
    those appointments stands for them on a button (their number never goes in one)."""

    name: str
    phone: str | None
    appointment_id: int


def patient_subject(telegram_id: int) -> str:
    return f"patient:{telegram_id}"


def caller_subject(caller: Caller) -> str:
    return f"phone:{caller.phone}" if caller.phone else f"caller:{caller.name}"


class Patients:
    def __init__(self, db: Database):
        self._db = db

    async def people(self) -> list[Person]:
        """Everyone who ever was a patient, or followed a business's link."""
        rows = await self._db.fetch_all(
            "SELECT * FROM people WHERE patient = 1 OR business_id IS NOT NULL"
        )
        return [Person.from_row(row) for row in rows]

    async def callers(self) -> list[Caller]:
        """Each phone caller once: by number, else by name; their latest appointment."""
        rows = await self._db.fetch_all(
            """SELECT caller_name, caller_phone, max(id) AS appointment_id FROM appointments
               WHERE patient_id IS NULL AND caller_name IS NOT NULL
               GROUP BY COALESCE(caller_phone, caller_name)"""
        )
        return [
            Caller(row["caller_name"], row["caller_phone"], row["appointment_id"]) for row in rows
        ]

    async def caller_of(self, appointment_id: int) -> Caller | None:
        row = await self._db.fetch_one(
            """SELECT caller_name, caller_phone, id FROM appointments
               WHERE id = ? AND patient_id IS NULL AND caller_name IS NOT NULL""",
            (appointment_id,),
        )
        return Caller(row["caller_name"], row["caller_phone"], row["id"]) if row else None

    async def appointments_of(
        self, *, patient_id: int | None = None, caller: Caller | None = None
    ) -> list[Appointment]:
        """Every appointment of a patient, or of a caller (by number, else by name), by start."""
        if patient_id is not None:
            where, value = "patient_id = ?", patient_id
        elif caller is not None and caller.phone:
            where, value = "patient_id IS NULL AND caller_phone = ?", caller.phone
        elif caller is not None:
            where, value = (
                "patient_id IS NULL AND caller_phone IS NULL AND caller_name = ?",
                (caller.name),
            )
        else:
            return []
        rows = await self._db.fetch_all(
            f"SELECT * FROM appointments WHERE {where} ORDER BY starts_at", (value,)
        )
        return [Appointment.from_row(row) for row in rows]

    async def note(self, subject: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT note FROM patient_notes WHERE subject = ?", (subject,)
        )
        return row["note"] if row else None

    async def set_note(self, subject: str, note: str, *, actor: int, now: datetime) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                """INSERT INTO patient_notes (subject, note, updated_by, updated_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (subject) DO UPDATE SET note = excluded.note,
                       updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
                (subject, note, actor, to_epoch(now)),
            )
