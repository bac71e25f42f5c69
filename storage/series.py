"""Series of appointments the office books at once, and their occurrences.

Each occurrence is an ordinary appointment (checked, reminded, cancelled like any) that names
its series; a series is booked, and the rest of one cancelled, in one transaction with what
it owes people, so that a patient hears of the whole series once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

# The appointments' own steps inside a transaction: a series' occurrence is checked and
# inserted exactly as a single booking is, in the series' one transaction.
from storage.appointments import (
    HOLDING,
    Appointment,
    Appointments,
    NewAppointment,
    SlotTaken,
    Status,
    _fetch,
    _patients_overlap,
    record_history,
)
from storage.db import Connection, Database, Row, from_epoch, new_id, to_epoch
from storage.outbox import Outbox, Owed


@dataclass(frozen=True)
class NewSeries:
    business_id: int
    service: str
    every_weeks: int
    count: int
    patient_id: int | None = None
    caller_name: str | None = None
    caller_phone: str | None = None


@dataclass(frozen=True)
class Series:
    id: int
    business_id: int
    service: str
    every_weeks: int
    count: int
    patient_id: int | None
    caller_name: str | None
    caller_phone: str | None
    created_by: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Series:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            service=row["service"],
            every_weeks=row["every_weeks"],
            count=row["count"],
            patient_id=row["patient_id"],
            caller_name=row["caller_name"],
            caller_phone=row["caller_phone"],
            created_by=row["created_by"],
            created_at=from_epoch(row["created_at"]),
        )


@dataclass(frozen=True)
class Occurrence:
    """One planned time of a series, and who may take it, in the order to try (the domain
    has left out those blocked then)."""

    new: NewAppointment
    candidates: tuple[str, ...]


# What booking a series owes: worked out from the series and the occurrences it got.
SeriesTell = Callable[[Series, list[Appointment]], Iterable[Owed]]
# What cancelling occurrences owes: worked out from those cancelled.
CancelTell = Callable[[list[Appointment]], Iterable[Owed]]


class SeriesStore:
    def __init__(self, db: Database, outbox: Outbox, appointments: Appointments):
        self._db = db
        self._outbox = outbox
        self._appointments = appointments

    async def book(
        self,
        new: NewSeries,
        occurrences: Sequence[Occurrence | None],
        *,
        anchor: int | None = None,
        now: datetime,
        actor: int,
        tell: SeriesTell,
    ) -> tuple[Series, list[Appointment | None]]:
        """The series and each occurrence that is free, in one transaction; returns the
        series and, for each planned occurrence, its appointment or None (a conflict: taken,
        or None given, which is one the business does not offer).

        ``anchor``: an appointment already held that becomes the series' first occurrence.
        Raises LookupError when it is gone, SlotTaken when it no longer holds its slot.
        """
        async with self._db.transaction() as db:
            stamp = to_epoch(now)
            cursor = await db.execute(
                """INSERT INTO series (business_id, service, every_weeks, count, patient_id,
                       caller_name, caller_phone, created_by, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    new.business_id,
                    new.service,
                    new.every_weeks,
                    new.count,
                    new.patient_id,
                    new.caller_name,
                    new.caller_phone,
                    actor,
                    stamp,
                ),
            )
            series = await _fetch_series(db, await new_id(cursor))
            booked: list[Appointment] = []
            if anchor is not None:
                first = await _fetch(db, anchor)
                if first is None:
                    raise LookupError(f"no appointment {anchor}")
                if first.status not in HOLDING or first.series_id is not None:
                    raise SlotTaken(f"appointment {anchor} is {first.status}, or in a series")
                await db.execute(
                    "UPDATE appointments SET series_id = ?, updated_at = ? WHERE id = ?",
                    (series.id, stamp, anchor),
                )
                booked.append(await _fetch(db, anchor))
            results: list[Appointment | None] = []
            for occurrence in occurrences:
                appointment = (
                    await self._take(db, series, occurrence, now, actor)
                    if occurrence is not None
                    else None
                )
                results.append(appointment)
                if appointment is not None:
                    booked.append(appointment)
            await self._outbox.write(db, tell(series, booked), now)
            return series, results

    async def _take(
        self,
        db: Connection,
        series: Series,
        occurrence: Occurrence,
        now: datetime,
        actor: int,
    ) -> Appointment | None:
        new = replace(occurrence.new, series_id=series.id)
        if new.patient_id is not None and await _patients_overlap(
            db, new.business_id, new.patient_id, new.starts_at, new.ends_at
        ):
            return None
        for candidate in occurrence.candidates:
            try:
                # The same insert as a single booking's: the overlap check, then the row.
                return await self._appointments._insert(
                    db, replace(new, practitioner=candidate), now, actor, _silent
                )
            except SlotTaken:
                continue
        return None

    async def get(self, series_id: int) -> Series | None:
        row = await self._db.fetch_one("SELECT * FROM series WHERE id = ?", (series_id,))
        return Series.from_row(row) if row else None

    async def occurrences(self, series_id: int) -> list[Appointment]:
        """Every appointment of the series, whatever its status, in time order."""
        rows = await self._db.fetch_all(
            "SELECT * FROM appointments WHERE series_id = ? ORDER BY starts_at", (series_id,)
        )
        return [Appointment.from_row(row) for row in rows]

    async def cancel(
        self,
        appointment_ids: Sequence[int],
        *,
        patient_id: int,
        now: datetime,
        actor: int,
        tell: CancelTell,
    ) -> list[Appointment]:
        """Cancel the patient's occurrences among ``appointment_ids`` still holding their
        slot, in one transaction with what that owes; returns those cancelled."""
        async with self._db.transaction() as db:
            stamp = to_epoch(now)
            cancelled = []
            for appointment_id in appointment_ids:
                current = await _fetch(db, appointment_id)
                if current is None or current.patient_id != patient_id:
                    continue
                if current.status not in HOLDING:
                    continue
                await db.execute(
                    "UPDATE appointments SET status = ?, updated_at = ? WHERE id = ?",
                    (Status.CANCELLED, stamp, appointment_id),
                )
                await record_history(
                    db,
                    appointment_id,
                    stamp,
                    actor,
                    current.status,
                    Status.CANCELLED,
                    "the rest of the series cancelled",
                )
                cancelled.append(await _fetch(db, appointment_id))
            await self._outbox.write(db, tell(cancelled), now)
            return cancelled


def _silent(_: Appointment) -> Iterable[Owed]:
    return ()


async def _fetch_series(db: Connection, series_id: int) -> Series:
    async with db.execute("SELECT * FROM series WHERE id = ?", (series_id,)) as cursor:
        row = await cursor.fetchone()
    return Series.from_row(row)
