"""Which reminders are due, and the record that each was decided once; digests likewise.

Claiming a reminder (a row here) owes its message in the same transaction: the outbox
delivers it, so a sweep after a crash never decides it twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.appointments import Appointment
from storage.db import Database, to_epoch
from storage.outbox import Outbox, Owed

# Targets bound in one IN (...): well under SQLite's limit on a statement's variables.
_BATCH = 500


@dataclass(frozen=True)
class DueReminder:
    appointment: Appointment
    offset: timedelta
    superseded: tuple[timedelta, ...]  # earlier reminders that are no longer worth sending


@dataclass(frozen=True)
class ReminderPlan:
    """The offsets some businesses use; ``business_ids`` None means every business."""

    offsets: tuple[timedelta, ...]
    business_ids: tuple[int, ...] | None = None


def _minutes(offset: timedelta) -> int:
    return int(offset.total_seconds() // 60)


class Reminders:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def due(self, now: datetime, plans: Sequence[ReminderPlan]) -> list[DueReminder]:
        """Confirmed appointments still ahead whose latest passed reminder was not sent.

        For offsets 48h > 2h, an appointment starting within 2h is due for its 2h reminder
        only (the 48h one, missed during downtime, is superseded); one starting between 2h
        and 48h from now is due for its 48h reminder. An offset that had already passed when
        the appointment got its time is never due.
        """
        found: list[DueReminder] = []
        stamp = to_epoch(now)
        for plan in plans:
            offsets = sorted(set(plan.offsets), reverse=True)
            for index, offset in enumerate(offsets):
                later = offsets[index + 1] if index + 1 < len(offsets) else timedelta(0)
                seconds = int(offset.total_seconds())
                where = ""
                parameters: list[object] = [
                    stamp + int(later.total_seconds()),
                    stamp + seconds,
                    seconds,
                    _minutes(offset),
                ]
                if plan.business_ids is not None:
                    where = f"AND a.business_id IN ({', '.join('?' * len(plan.business_ids))})"
                    parameters.extend(plan.business_ids)
                rows = await self._db.fetch_all(
                    f"""SELECT a.* FROM appointments a
                        WHERE a.status = 'confirmed' AND a.starts_at > ? AND a.starts_at <= ?
                          AND a.patient_id IS NOT NULL
                          AND a.scheduled_at <= a.starts_at - ?
                          AND NOT EXISTS (
                              SELECT 1 FROM reminders_sent r
                              WHERE r.appointment_id = a.id AND r.starts_at = a.starts_at
                                AND r.offset_minutes <= ?)
                          {where}
                        ORDER BY a.starts_at""",
                    parameters,
                )
                found.extend(
                    DueReminder(Appointment.from_row(row), offset, tuple(offsets[:index]))
                    for row in rows
                )
        return found

    async def claim(self, due: DueReminder, owed: Iterable[Owed], now: datetime) -> bool:
        """Decide the reminder and owe its message; False if another sweep already has it."""
        appointment = due.appointment
        start = to_epoch(appointment.starts_at)
        async with self._db.transaction() as db:
            # One statement decides: of two sweeps claiming at once, one inserts, the other
            # finds the row there (on a server, waits for the first to commit) and stops.
            cursor = await db.execute(
                """INSERT INTO reminders_sent
                       (appointment_id, offset_minutes, starts_at, claimed_at)
                   VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING appointment_id""",
                (appointment.id, _minutes(due.offset), start, to_epoch(now)),
            )
            if await cursor.fetchone() is None:
                return False
            for offset in due.superseded:
                await db.execute(
                    """INSERT INTO reminders_sent
                           (appointment_id, offset_minutes, starts_at, claimed_at, skipped)
                       VALUES (?, ?, ?, ?, 1) ON CONFLICT DO NOTHING""",
                    (appointment.id, _minutes(offset), start, to_epoch(now)),
                )
            await self._outbox.write(db, owed, now)
            return True


class DigestsSent:
    """Daily summaries and digests: decided once per kind, recipient and local day, their
    message owed in the same transaction."""

    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def claimed(self, kind: str, day: date, targets: Iterable[str]) -> set[str]:
        """Which of ``targets`` already had their ``kind`` for ``day``: one read for all."""
        wanted = list(targets)
        found: set[str] = set()
        for first in range(0, len(wanted), _BATCH):
            batch = wanted[first : first + _BATCH]
            rows = await self._db.fetch_all(
                f"""SELECT target FROM digests_sent WHERE kind = ? AND day = ?
                    AND target IN ({", ".join("?" * len(batch))})""",
                (kind, day.isoformat(), *batch),
            )
            found.update(row[0] for row in rows)
        return found

    async def claim(
        self, kind: str, target: str, day: date, owed: Iterable[Owed], now: datetime
    ) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO digests_sent (kind, target, day, sent_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT DO NOTHING RETURNING kind""",
                (kind, target, day.isoformat(), to_epoch(now)),
            )
            if await cursor.fetchone() is None:
                return False
            await self._outbox.write(db, owed, now)
            return True
