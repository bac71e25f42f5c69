"""Which reminders are due, and the record that each was sent once; digests likewise.

A reminder is claimed (a row) before it is sent and stamped once Telegram accepted it. A
process killed between the two leaves a claimed, unstamped row: it is never sent again,
because a second copy is worse than the rare lost one, and it is reported as uncertain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.appointments import Appointment
from storage.db import Database, to_epoch


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
    def __init__(self, db: Database):
        self._db = db

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

    async def claim(self, due: DueReminder, now: datetime) -> bool:
        """Take the reminder for sending; False if another sweep already has it."""
        appointment = due.appointment
        start = to_epoch(appointment.starts_at)
        async with self._db.transaction() as db:
            cursor = await db.execute(
                """INSERT OR IGNORE INTO reminders_sent
                       (appointment_id, offset_minutes, starts_at, claimed_at)
                   VALUES (?, ?, ?, ?)""",
                (appointment.id, _minutes(due.offset), start, to_epoch(now)),
            )
            if cursor.rowcount == 0:
                return False
            for offset in due.superseded:
                await db.execute(
                    """INSERT OR IGNORE INTO reminders_sent
                           (appointment_id, offset_minutes, starts_at, claimed_at, skipped)
                       VALUES (?, ?, ?, ?, 1)""",
                    (appointment.id, _minutes(offset), start, to_epoch(now)),
                )
            return True

    async def mark_sent(self, due: DueReminder, now: datetime) -> None:
        await self._set(due, "sent_at = ?", (to_epoch(now),))

    async def mark_skipped(self, due: DueReminder) -> None:
        """Not delivered and never will be (the patient blocked the bot)."""
        await self._set(due, "skipped = 1", ())

    async def release(self, due: DueReminder) -> None:
        """Telegram refused it for sure: the next sweep tries again."""
        async with self._db.transaction() as db:
            await db.execute(
                """DELETE FROM reminders_sent
                   WHERE appointment_id = ? AND offset_minutes = ? AND starts_at = ?""",
                (due.appointment.id, _minutes(due.offset), to_epoch(due.appointment.starts_at)),
            )

    async def _set(self, due: DueReminder, assignment: str, values: tuple[object, ...]) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                f"""UPDATE reminders_sent SET {assignment}
                    WHERE appointment_id = ? AND offset_minutes = ? AND starts_at = ?""",
                (
                    *values,
                    due.appointment.id,
                    _minutes(due.offset),
                    to_epoch(due.appointment.starts_at),
                ),
            )

    async def uncertain(self) -> int:
        """Reminders claimed by a process that died before Telegram answered."""
        row = await self._db.fetch_one(
            "SELECT count(*) FROM reminders_sent WHERE sent_at IS NULL AND skipped = 0"
        )
        return row[0]


class DigestsSent:
    """Daily summaries and digests: claimed once per kind, recipient and local day."""

    def __init__(self, db: Database):
        self._db = db

    async def claim(self, kind: str, target: str, day: date, now: datetime) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                """INSERT OR IGNORE INTO digests_sent (kind, target, day, sent_at)
                   VALUES (?, ?, ?, ?)""",
                (kind, target, day.isoformat(), to_epoch(now)),
            )
            return cursor.rowcount == 1
