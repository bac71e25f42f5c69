"""Appointments, their history, and where secretaries were shown them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from storage.db import (
    Connection,
    Database,
    Duplicate,
    Row,
    from_epoch,
    from_epoch_or_none,
    to_epoch,
)
from storage.outbox import Outbox, Owed


class Status(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DONE = "done"
    NO_SHOW = "no_show"


class Source(StrEnum):
    PATIENT = "patient"
    PHONE = "phone"
    SECRETARY = "secretary"


# Statuses that hold their slot: nobody else may be booked over them.
HOLDING = (Status.REQUESTED, Status.CONFIRMED)


class SlotTaken(Exception):
    """The slot overlaps an appointment that holds it."""


class AlreadyHeld(Exception):
    """The patient already holds another appointment at that time in that business."""

    def __init__(self, appointment: Appointment):
        super().__init__(f"patient already holds appointment {appointment.id} then")
        self.appointment = appointment


class StaleStatus(Exception):
    """The appointment is no longer in the status the change was meant for."""

    def __init__(self, appointment: Appointment):
        super().__init__(f"appointment {appointment.id} is {appointment.status}")
        self.appointment = appointment


@dataclass(frozen=True)
class NewAppointment:
    business_id: int
    practitioner: str
    service: str
    starts_at: datetime
    ends_at: datetime
    status: Status
    source: Source
    patient_id: int | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    series_id: int | None = None


@dataclass(frozen=True)
class Appointment:
    id: int
    business_id: int
    practitioner: str
    service: str
    starts_at: datetime
    ends_at: datetime
    status: Status
    source: Source
    patient_id: int | None
    caller_name: str | None
    caller_phone: str | None
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime  # when it got its current start: booked, or moved
    patient_confirmed_at: datetime | None = None
    # A confirmed appointment moved by its patient, until the office answers: the old time.
    previous_starts_at: datetime | None = None
    previous_ends_at: datetime | None = None
    previous_practitioner: str | None = None
    cancelled_late: bool = False  # cancelled at the patient's word inside the cancel notice
    series_id: int | None = None  # one occurrence of a series the office booked

    @classmethod
    def from_row(cls, row: Row) -> Appointment:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            practitioner=row["practitioner"],
            service=row["service"],
            starts_at=from_epoch(row["starts_at"]),
            ends_at=from_epoch(row["ends_at"]),
            status=Status(row["status"]),
            source=Source(row["source"]),
            patient_id=row["patient_id"],
            caller_name=row["caller_name"],
            caller_phone=row["caller_phone"],
            created_at=from_epoch(row["created_at"]),
            updated_at=from_epoch(row["updated_at"]),
            scheduled_at=from_epoch(row["scheduled_at"]),
            patient_confirmed_at=from_epoch_or_none(row["patient_confirmed_at"]),
            previous_starts_at=from_epoch_or_none(row["previous_starts_at"]),
            previous_ends_at=from_epoch_or_none(row["previous_ends_at"]),
            previous_practitioner=row["previous_practitioner"],
            cancelled_late=bool(row["cancelled_late"]),
            series_id=row["series_id"],
        )


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: int | None
    from_status: Status | None
    to_status: Status
    note: str | None

    @classmethod
    def from_row(cls, row: Row) -> HistoryEntry:
        return cls(
            at=from_epoch(row["at"]),
            actor=row["actor"],
            from_status=Status(row["from_status"]) if row["from_status"] else None,
            to_status=Status(row["to_status"]),
            note=row["note"],
        )


_HOLDING_SQL = ", ".join(f"'{s}'" for s in HOLDING)

# An appointment overlapping [start, end) starts before end and after start minus the longest
# held appointment of the business (an index's maximum, one seek): with it every overlap reads
# a range of starts bounded on both sides instead of the business's whole past. ?1 is the
# business, ?2 the start of the range.
_LATEST_START_SQL = f"""starts_at > ?2 - (
    SELECT COALESCE(MAX(ends_at - starts_at), 0) FROM appointments
    WHERE business_id = ?1 AND status IN ({_HOLDING_SQL}))"""


class Held(NamedTuple):
    """What of a held appointment the agenda needs to know the time taken."""

    starts_at: datetime
    ends_at: datetime
    practitioner: str


# What a change owes people, worked out from the appointment as the change leaves it and
# written in the same transaction: pure, it must not touch the store.
Tell = Callable[["Appointment"], Iterable[Owed]]


def _silent(_: Appointment) -> Iterable[Owed]:
    return ()


class Appointments:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def book(
        self,
        new: NewAppointment,
        *,
        now: datetime,
        actor: int | None = None,
        tell: Tell = _silent,
    ) -> Appointment:
        """Insert ``new`` unless its practitioner is already held then; raises SlotTaken.

        A patient's own request never overlaps another of theirs at the business: the very
        same request again (a retried tap) returns the one already held, anything else
        overlapping raises AlreadyHeld.
        """
        if new.status not in HOLDING:
            raise ValueError(f"a new appointment is requested or confirmed, not {new.status}")
        async with self._db.transaction() as db:
            if new.source == Source.PATIENT and new.patient_id is not None:
                mine = await _patients_overlap(
                    db, new.business_id, new.patient_id, new.starts_at, new.ends_at
                )
                if mine is not None:
                    if mine.starts_at == new.starts_at and mine.service == new.service:
                        return mine
                    raise AlreadyHeld(mine)
            return await self._insert(db, new, now, actor, tell)

    async def _insert(
        self,
        db: Connection,
        new: NewAppointment,
        now: datetime,
        actor: int | None,
        tell: Tell,
    ) -> Appointment:
        if await _is_held(db, new.business_id, new.practitioner, new.starts_at, new.ends_at):
            raise SlotTaken(f"{new.practitioner} is busy at {new.starts_at:%Y-%m-%d %H:%M}Z")
        stamp = to_epoch(now)
        try:
            async with db.attempt():
                cursor = await db.execute(
                    """INSERT INTO appointments (business_id, practitioner, service, starts_at,
                       ends_at, status, source, patient_id, caller_name, caller_phone,
                       created_at, updated_at, scheduled_at, series_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
                    (
                        new.business_id,
                        new.practitioner,
                        new.service,
                        to_epoch(new.starts_at),
                        to_epoch(new.ends_at),
                        new.status,
                        new.source,
                        new.patient_id,
                        new.caller_name,
                        new.caller_phone,
                        stamp,
                        stamp,
                        stamp,
                        new.series_id,
                    ),
                )
        except Duplicate as error:
            raise SlotTaken(str(error)) from error
        # The row as inserted, defaults and all: no second read for it.
        booked = Appointment.from_row(await cursor.fetchone())
        await record_history(db, booked.id, stamp, actor, None, new.status, None)
        await self._outbox.write(db, tell(booked), now)
        return booked

    async def get(self, appointment_id: int) -> Appointment | None:
        row = await self._db.fetch_one("SELECT * FROM appointments WHERE id = ?", (appointment_id,))
        return Appointment.from_row(row) if row else None

    async def change_status(
        self,
        appointment_id: int,
        *,
        expected: Collection[Status],
        to: Status,
        now: datetime,
        actor: int | None,
        note: str | None = None,
        fall_back: bool = False,
        late: bool = False,
        tell: Tell = _silent,
    ) -> Appointment:
        """Move from one of ``expected`` to ``to``, recorded in the history.

        ``late``: a cancellation the patient asked for inside the cancel notice.

        ``fall_back``: a move declined or expired goes back, in the same transaction, to the
        confirmed time it had if that is still free (the result is then ``confirmed``).
        Raises StaleStatus when someone else changed it first (two secretaries tapping at
        once), LookupError when there is no such appointment.
        """
        async with self._db.transaction() as db:
            current = await _fetch(db, appointment_id)
            if current is None:
                raise LookupError(f"no appointment {appointment_id}")
            if current.status not in expected:
                raise StaleStatus(current)
            stamp = to_epoch(now)
            # Only from the status read: on a server, of two workers changing it at once the
            # second finds it changed once the first commits.
            cursor = await db.execute(
                "UPDATE appointments SET status = ?, updated_at = ?, cancelled_late = ?"
                " WHERE id = ? AND status = ?",
                (to, stamp, late, appointment_id, current.status),
            )
            if cursor.rowcount == 0:
                raise StaleStatus(await _fetch(db, appointment_id))
            await record_history(db, appointment_id, stamp, actor, current.status, to, note)
            if fall_back and to not in HOLDING and current.previous_starts_at is not None:
                await _restore_previous(db, current, to, stamp, actor)
            changed = await _fetch(db, appointment_id)
            await self._outbox.write(db, tell(changed), now)
            return changed

    async def note(
        self,
        appointment_id: int,
        *,
        expected: Collection[Status],
        now: datetime,
        actor: int | None,
        note: str,
        tell: Tell = _silent,
    ) -> Appointment:
        """A line in the history that changes no status, with what it owes: a patient asking
        the office for a late cancellation, the office keeping the appointment.

        Raises StaleStatus when the appointment is no longer in one of ``expected``.
        """
        async with self._db.transaction() as db:
            current = await _fetch(db, appointment_id)
            if current is None:
                raise LookupError(f"no appointment {appointment_id}")
            if current.status not in expected:
                raise StaleStatus(current)
            await record_history(
                db, appointment_id, to_epoch(now), actor, current.status, current.status, note
            )
            await self._outbox.write(db, tell(current), now)
            return current

    async def move(
        self,
        appointment_id: int,
        *,
        starts_at: datetime,
        ends_at: datetime,
        practitioner: str,
        status: Status,
        source: Source,
        now: datetime,
        actor: int | None,
        tell: Tell = _silent,
    ) -> Appointment:
        """Give a held appointment a new time, checked for overlap like a new booking.

        A confirmed appointment keeps its old time as ``previous_*`` until the office answers
        (``fall_back`` in ``change_status``). Raises SlotTaken, AlreadyHeld (the patient has
        another appointment then), StaleStatus when it no longer holds a slot, LookupError.
        """
        async with self._db.transaction() as db:
            current = await _fetch(db, appointment_id)
            if current is None:
                raise LookupError(f"no appointment {appointment_id}")
            if current.status not in HOLDING:
                raise StaleStatus(current)
            if current.patient_id is not None:
                mine = await _patients_overlap(
                    db,
                    current.business_id,
                    current.patient_id,
                    starts_at,
                    ends_at,
                    other_than=appointment_id,
                )
                if mine is not None:
                    raise AlreadyHeld(mine)
            if await _is_held(
                db, current.business_id, practitioner, starts_at, ends_at, other_than=appointment_id
            ):
                raise SlotTaken(f"{practitioner} is busy at {starts_at:%Y-%m-%d %H:%M}Z")
            stamp = to_epoch(now)
            # The time to fall back on is the last one the office confirmed.
            keep = (
                current
                if current.status == Status.CONFIRMED and status == Status.REQUESTED
                else None
            )
            moving = db.execute(
                """UPDATE appointments SET starts_at = ?, ends_at = ?, practitioner = ?,
                       status = ?, source = ?, scheduled_at = ?, updated_at = ?,
                       patient_confirmed_at = NULL,
                       previous_starts_at = COALESCE(?, previous_starts_at),
                       previous_ends_at = COALESCE(?, previous_ends_at),
                       previous_practitioner = COALESCE(?, previous_practitioner)
                   WHERE id = ? AND status = ?""",
                (
                    to_epoch(starts_at),
                    to_epoch(ends_at),
                    practitioner,
                    status,
                    source,
                    stamp,
                    stamp,
                    to_epoch(keep.starts_at) if keep else None,
                    to_epoch(keep.ends_at) if keep else None,
                    keep.practitioner if keep else None,
                    appointment_id,
                    current.status,
                ),
            )
            try:
                cursor = await moving
            except Duplicate as error:
                raise SlotTaken(str(error)) from error
            if cursor.rowcount == 0:
                raise StaleStatus(await _fetch(db, appointment_id))
            note = f"moved from {current.starts_at.isoformat()} ({current.practitioner})"
            await record_history(db, appointment_id, stamp, actor, current.status, status, note)
            moved = await _fetch(db, appointment_id)
            await self._outbox.write(db, tell(moved), now)
            return moved

    async def propose(
        self,
        request_id: int,
        new: NewAppointment,
        *,
        now: datetime,
        actor: int,
        tell: Tell = _silent,
    ) -> tuple[Appointment, Appointment]:
        """The office answers a request with another slot, in one transaction: the request
        is declined (its slot freed) and ``new`` holds the proposed one; returns both.

        Raises StaleStatus when the request was answered meanwhile, SlotTaken, LookupError;
        either way nothing changes.
        """
        async with self._db.transaction() as db:
            request = await _fetch(db, request_id)
            if request is None:
                raise LookupError(f"no appointment {request_id}")
            if request.status != Status.REQUESTED:
                raise StaleStatus(request)
            stamp = to_epoch(now)
            cursor = await db.execute(
                """UPDATE appointments SET status = 'declined', updated_at = ?
                   WHERE id = ? AND status = 'requested'""",
                (stamp, request_id),
            )
            if cursor.rowcount == 0:
                raise StaleStatus(await _fetch(db, request_id))
            proposal = await self._insert(db, new, now, actor, tell)
            await record_history(
                db,
                request_id,
                stamp,
                actor,
                Status.REQUESTED,
                Status.DECLINED,
                f"another slot proposed: appointment {proposal.id}",
            )
            return await _fetch(db, request_id), proposal

    async def confirm_attendance(self, appointment_id: int, *, now: datetime) -> Appointment:
        """The patient says they will come; the status (the office's decision) is unchanged."""
        async with self._db.transaction() as db:
            current = await _fetch(db, appointment_id)
            if current is None:
                raise LookupError(f"no appointment {appointment_id}")
            if current.status not in HOLDING:
                raise StaleStatus(current)
            await db.execute(
                "UPDATE appointments SET patient_confirmed_at = ?, updated_at = ? WHERE id = ?",
                (to_epoch(now), to_epoch(now), appointment_id),
            )
            return await _fetch(db, appointment_id)

    async def requested_before(self, cutoff: datetime) -> list[Appointment]:
        """Requests still waiting for a secretary that were made before ``cutoff``.

        A request's age counts from when it got its time: a move is a new request.
        """
        rows = await self._db.fetch_all(
            """SELECT * FROM appointments WHERE status = 'requested' AND scheduled_at <= ?
               ORDER BY scheduled_at""",
            (to_epoch(cutoff),),
        )
        return [Appointment.from_row(row) for row in rows]

    async def unflagged_before(self, cutoff: datetime) -> list[Appointment]:
        """Patients' requests made before ``cutoff``, still waiting, never yet flagged to
        their employers: what the minute's escalation reads, instead of every request."""
        rows = await self._db.fetch_all(
            """SELECT * FROM appointments a
               WHERE a.status = 'requested' AND a.scheduled_at <= ? AND a.source = 'patient'
                 AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.appointment_id = a.id)
               ORDER BY a.scheduled_at""",
            (to_epoch(cutoff),),
        )
        return [Appointment.from_row(row) for row in rows]

    async def count_requested(self, cutoff: datetime, business_id: int | None = None) -> int:
        """How many requests made before ``cutoff`` still wait: a business's, or everyone's."""
        if business_id is None:
            row = await self._db.fetch_one(
                """SELECT COUNT(*) AS n FROM appointments
                   WHERE status = 'requested' AND scheduled_at <= ?""",
                (to_epoch(cutoff),),
            )
        else:
            row = await self._db.fetch_one(
                """SELECT COUNT(*) AS n FROM appointments
                   WHERE business_id = ? AND status = 'requested' AND scheduled_at <= ?""",
                (business_id, to_epoch(cutoff)),
            )
        return row["n"]

    async def between(self, business_id: int, start: datetime, end: datetime) -> list[Appointment]:
        """Every appointment of a business starting in [start, end), whatever its status."""
        rows = await self._db.fetch_all(
            """SELECT * FROM appointments WHERE business_id = ? AND starts_at >= ? AND starts_at < ?
               ORDER BY starts_at, practitioner""",
            (business_id, to_epoch(start), to_epoch(end)),
        )
        return [Appointment.from_row(row) for row in rows]

    async def changes(
        self, business_id: int, start: datetime, end: datetime
    ) -> list[tuple[HistoryEntry, Appointment]]:
        """What happened to a business's appointments in [start, end), oldest first."""
        rows = await self._db.fetch_all(
            """SELECT h.at, h.actor, h.from_status, h.to_status, h.note, a.*
               FROM appointment_history h JOIN appointments a ON a.id = h.appointment_id
               WHERE h.business_id = ? AND h.at >= ? AND h.at < ?
               ORDER BY h.id""",
            (business_id, to_epoch(start), to_epoch(end)),
        )
        return [(HistoryEntry.from_row(row), Appointment.from_row(row)) for row in rows]

    async def holding(self, business_id: int, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments of a business that hold time overlapping [start, end)."""
        rows = await self._db.fetch_all(
            f"""SELECT * FROM appointments
                WHERE business_id = ?1 AND status IN ({_HOLDING_SQL})
                  AND {_LATEST_START_SQL} AND starts_at < ?3 AND ends_at > ?2
                ORDER BY starts_at""",
            (business_id, to_epoch(start), to_epoch(end)),
        )
        return [Appointment.from_row(row) for row in rows]

    async def held(self, business_id: int, start: datetime, end: datetime) -> list[Held]:
        """The time ``holding`` would return, read from the index alone: free-slot search
        reads a whole horizon of it and needs nothing else."""
        rows = await self._db.fetch_all(
            f"""SELECT starts_at, ends_at, practitioner FROM appointments
                WHERE business_id = ?1 AND status IN ({_HOLDING_SQL})
                  AND {_LATEST_START_SQL} AND starts_at < ?3 AND ends_at > ?2
                ORDER BY starts_at""",
            (business_id, to_epoch(start), to_epoch(end)),
        )
        return [Held(from_epoch(row[0]), from_epoch(row[1]), row[2]) for row in rows]

    async def of_patient(self, patient_id: int, since: datetime) -> list[Appointment]:
        rows = await self._db.fetch_all(
            "SELECT * FROM appointments WHERE patient_id = ? AND ends_at > ? ORDER BY starts_at",
            (patient_id, to_epoch(since)),
        )
        return [Appointment.from_row(row) for row in rows]

    async def history(self, appointment_id: int) -> list[HistoryEntry]:
        rows = await self._db.fetch_all(
            """SELECT at, actor, from_status, to_status, note FROM appointment_history
               WHERE appointment_id = ? ORDER BY id""",
            (appointment_id,),
        )
        return [HistoryEntry.from_row(row) for row in rows]

    async def remember_inbox_message(
        self, appointment_id: int, chat_id: int, message_id: int
    ) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                """INSERT INTO inbox_messages (appointment_id, chat_id, message_id)
                   VALUES (?, ?, ?) ON CONFLICT (appointment_id, chat_id)
                   DO UPDATE SET message_id = excluded.message_id""",
                (appointment_id, chat_id, message_id),
            )

    async def inbox_messages(self, appointment_id: int) -> list[tuple[int, int]]:
        rows = await self._db.fetch_all(
            "SELECT chat_id, message_id FROM inbox_messages WHERE appointment_id = ?",
            (appointment_id,),
        )
        return [(row["chat_id"], row["message_id"]) for row in rows]

    # -- The secretary's phone: no-shows shown beside a patient's or a caller's requests ------

    async def no_shows(self, *, patient_id: int | None, caller_phone: str | None = None) -> int:
        """How many appointments this patient (or phone caller, by number) did not come to."""
        return await self._count(patient_id, caller_phone, "status = 'no_show'")

    async def late_cancellations(
        self, *, patient_id: int | None, caller_phone: str | None = None
    ) -> int:
        """How many appointments this patient (or caller) cancelled inside the notice."""
        return await self._count(patient_id, caller_phone, "cancelled_late = 1")

    async def _count(self, patient_id: int | None, caller_phone: str | None, where: str) -> int:
        if patient_id is None and caller_phone is None:
            return 0
        column, value = (
            ("patient_id", patient_id) if patient_id is not None else ("caller_phone", caller_phone)
        )
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM appointments WHERE {column} = ? AND {where}", (value,)
        )
        return row["n"]


async def _is_held(
    db: Connection,
    business_id: int,
    practitioner: str,
    start: datetime,
    end: datetime,
    *,
    other_than: int | None = None,
) -> bool:
    """Whether another appointment holds the practitioner in [start, end).

    On SQLite, run inside a BEGIN IMMEDIATE transaction, the answer stays true until it
    commits; on PostgreSQL the exclusion constraint refuses what a concurrent writer slipped in.
    """
    async with db.execute(
        f"""SELECT 1 FROM appointments
            WHERE business_id = ?1 AND practitioner = ?4 AND status IN ({_HOLDING_SQL})
              AND {_LATEST_START_SQL} AND starts_at < ?3 AND ends_at > ?2 AND id IS DISTINCT FROM ?5
            LIMIT 1""",
        (business_id, to_epoch(start), to_epoch(end), practitioner, other_than),
    ) as cursor:
        return await cursor.fetchone() is not None


async def _restore_previous(
    db: Connection,
    current: Appointment,
    ended: Status,
    stamp: int,
    actor: int | None,
) -> None:
    """A declined or expired move: back to the confirmed time it had, if still free; the
    old time is forgotten either way."""
    start, end = current.previous_starts_at, current.previous_ends_at
    practitioner = current.previous_practitioner
    await db.execute(
        """UPDATE appointments SET previous_starts_at = NULL, previous_ends_at = NULL,
               previous_practitioner = NULL
           WHERE id = ?""",
        (current.id,),
    )
    if await _is_held(db, current.business_id, practitioner, start, end, other_than=current.id):
        return
    back = db.execute(
        """UPDATE appointments SET starts_at = ?, ends_at = ?, practitioner = ?,
               status = 'confirmed', scheduled_at = ?, updated_at = ?
           WHERE id = ?""",
        (to_epoch(start), to_epoch(end), practitioner, stamp, stamp, current.id),
    )
    try:
        async with db.attempt():
            await back
    except Duplicate:
        return  # taken meanwhile by another worker: the old time is gone
    note = f"move refused: back to {start.isoformat()} ({practitioner})"
    await record_history(db, current.id, stamp, actor, ended, Status.CONFIRMED, note)


async def _patients_overlap(
    db: Connection,
    business_id: int,
    patient_id: int,
    start: datetime,
    end: datetime,
    *,
    other_than: int | None = None,
) -> Appointment | None:
    """The patient's own appointment at the business that holds time in [start, end)."""
    async with db.execute(
        f"""SELECT * FROM appointments
            WHERE patient_id = ?4 AND business_id = ?1 AND status IN ({_HOLDING_SQL})
              AND {_LATEST_START_SQL} AND starts_at < ?3 AND ends_at > ?2 AND id IS DISTINCT FROM ?5
            ORDER BY starts_at LIMIT 1""",
        (business_id, to_epoch(start), to_epoch(end), patient_id, other_than),
    ) as cursor:
        row = await cursor.fetchone()
    return Appointment.from_row(row) if row else None


async def _fetch(db: Connection, appointment_id: int) -> Appointment | None:
    async with db.execute("SELECT * FROM appointments WHERE id = ?", (appointment_id,)) as cursor:
        row = await cursor.fetchone()
    return Appointment.from_row(row) if row else None


async def record_history(
    db: Connection,
    appointment_id: int,
    stamp: int,
    actor: int | None,
    from_status: Status | None,
    to_status: Status,
    note: str | None,
) -> None:
    await db.execute(
        """INSERT INTO appointment_history
               (appointment_id, at, actor, from_status, to_status, note, business_id)
           VALUES (?, ?, ?, ?, ?, ?, (SELECT business_id FROM appointments WHERE id = ?))""",
        (appointment_id, stamp, actor, from_status, to_status, note, appointment_id),
    )
