"""Missions and invoices: the secretary's business.

Invoice numbers
    ``issue_invoice`` reads the year's last sequence and inserts the next one inside a single
    ``BEGIN IMMEDIATE`` transaction: SQLite lets one writer in at a time, across connections
    and processes, so two invoices can never read the same last number, and a failure rolls
    the whole invoice back, so no number is ever lost. ``UNIQUE (year, sequence)`` backs it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from storage.db import Connection, Database, Row, from_epoch, from_epoch_or_none, to_epoch
from storage.outbox import Outbox


class MissionStatus(StrEnum):
    OPEN = "open"
    STARTED = "started"
    DONE = "done"
    CANCELLED = "cancelled"


ACTIVE = (MissionStatus.OPEN, MissionStatus.STARTED)


class _NothingToInvoice(Exception):
    """Nothing left to invoice, found once the year's counter was taken: undo the taking."""


class MissionLocked(Exception):
    """The mission is on an invoice: it can no longer change."""


class MissionBusy(Exception):
    """A mail merge still sending: its mission closes itself when the sending ends."""


class StaleMission(Exception):
    """The mission is no longer in the status the change was meant for."""

    def __init__(self, mission: Mission):
        super().__init__(f"mission {mission.id} is {mission.status}")
        self.mission = mission


@dataclass(frozen=True)
class NewMission:
    business_id: int
    kind: str
    description: str
    fee: int  # cents
    due_on: date | None = None


@dataclass(frozen=True)
class Mission:
    id: int
    business_id: int
    kind: str
    description: str
    fee: int  # cents
    status: MissionStatus
    due_on: date | None
    minutes_spent: int | None
    created_by: int
    created_at: datetime
    started_at: datetime | None
    done_at: datetime | None
    cancelled_at: datetime | None
    invoice_id: int | None

    @property
    def locked(self) -> bool:
        return self.invoice_id is not None

    @classmethod
    def from_row(cls, row: Row) -> Mission:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            kind=row["kind"],
            description=row["description"],
            fee=row["fee_cents"],
            status=MissionStatus(row["status"]),
            due_on=date.fromisoformat(row["due_on"]) if row["due_on"] else None,
            minutes_spent=row["minutes_spent"],
            created_by=row["created_by"],
            created_at=from_epoch(row["created_at"]),
            started_at=from_epoch_or_none(row["started_at"]),
            done_at=from_epoch_or_none(row["done_at"]),
            cancelled_at=from_epoch_or_none(row["cancelled_at"]),
            invoice_id=row["invoice_id"],
        )


class Earned(NamedTuple):
    business_id: int
    done_at: datetime
    cents: int


@dataclass(frozen=True)
class Party:
    """Who bills or is billed, as printed on the invoice."""

    name: str
    address: str
    siret: str | None = None
    email: str | None = None
    iban: str | None = None
    vat_exempt: bool = False
    # Added with Factur-X; an invoice stored before has none (JSON without them).
    siren: str | None = None
    bic: str | None = None
    payment_method: str | None = None  # "transfer" or "cheque"


@dataclass(frozen=True)
class InvoiceLine:
    position: int
    mission_id: int
    done_at: datetime
    kind: str
    description: str
    fee: int  # cents


@dataclass(frozen=True)
class Invoice:
    id: int
    year: int
    sequence: int  # the number is bot.missions.invoice_number(year, sequence)
    business_id: int
    period: str  # YYYY-MM
    issued_at: datetime
    due_on: date
    total: int  # cents
    seller: Party
    client: Party
    lines: tuple[InvoiceLine, ...]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


class Missions:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db

    # -- missions --------------------------------------------------------------------------

    async def create(self, new: NewMission, *, now: datetime, actor: int) -> Mission:
        async with self._db.transaction() as db:
            return await insert_mission(db, new, MissionStatus.OPEN, now, actor)

    async def get(self, mission_id: int) -> Mission | None:
        row = await self._db.fetch_one("SELECT * FROM missions WHERE id = ?", (mission_id,))
        return Mission.from_row(row) if row else None

    async def active(self, business_id: int | None = None) -> list[Mission]:
        """Open and started missions, the soonest due first, those without a due day last."""
        where, parameters = "status IN ('open', 'started')", []
        if business_id is not None:
            where += " AND business_id = ?"
            parameters.append(business_id)
        rows = await self._db.fetch_all(
            f"""SELECT * FROM missions WHERE {where}
                ORDER BY due_on IS NULL, due_on, created_at, id""",
            parameters,
        )
        return [Mission.from_row(row) for row in rows]

    async def start(self, mission_id: int, *, now: datetime) -> Mission:
        return await self._move(
            mission_id, (MissionStatus.OPEN,), MissionStatus.STARTED, "started_at", now
        )

    async def finish(self, mission_id: int, *, now: datetime) -> Mission:
        return await self._move(mission_id, ACTIVE, MissionStatus.DONE, "done_at", now)

    async def cancel(self, mission_id: int, *, now: datetime) -> Mission:
        return await self._move(mission_id, ACTIVE, MissionStatus.CANCELLED, "cancelled_at", now)

    async def set_minutes(self, mission_id: int, minutes: int | None) -> Mission:
        """Record the time a done mission took; an invoiced one is locked."""
        async with self._db.transaction() as db:
            current = await _fetch_mission(db, mission_id)
            if current.locked:
                raise MissionLocked(f"mission {mission_id} is invoiced")
            if current.status != MissionStatus.DONE:
                raise StaleMission(current)
            await db.execute(
                "UPDATE missions SET minutes_spent = ? WHERE id = ?", (minutes, mission_id)
            )
            return await _fetch_mission(db, mission_id)

    async def _move(
        self,
        mission_id: int,
        expected: Sequence[MissionStatus],
        to: MissionStatus,
        stamp_column: str,
        now: datetime,
    ) -> Mission:
        async with self._db.transaction() as db:
            current = await _fetch_mission(db, mission_id)
            if current.locked:
                raise MissionLocked(f"mission {mission_id} is invoiced")
            if current.status not in expected:
                raise StaleMission(current)
            # A mail merge still sending closes its own mission when it ends, and only then.
            async with db.execute(
                "SELECT 1 FROM mail_merges WHERE mission_id = ? AND status = 'running' LIMIT 1",
                (mission_id,),
            ) as cursor:
                if await cursor.fetchone():
                    raise MissionBusy(f"mission {mission_id} is a mail merge still sending")
            await db.execute(
                f"UPDATE missions SET status = ?, {stamp_column} = ? WHERE id = ?",
                (to, to_epoch(now), mission_id),
            )
            return await _fetch_mission(db, mission_id)

    async def done_on(self, business_id: int, first: datetime, last: datetime) -> list[Mission]:
        """The business's missions done at or after ``first`` and before ``last``, in order.

        For a day or a month, pass its first instant and the next one's (see
        ``bot.agenda.day_bounds`` and ``Month.bounds``).
        """
        rows = await self._db.fetch_all(
            """SELECT * FROM missions
               WHERE business_id = ? AND status = 'done' AND done_at >= ? AND done_at < ?
               ORDER BY done_at, id""",
            (business_id, to_epoch(first), to_epoch(last)),
        )
        return [Mission.from_row(row) for row in rows]

    async def total_done(self, business_id: int, first: datetime, last: datetime) -> int:
        """Cents earned from the business's missions done in [first, last)."""
        row = await self._db.fetch_one(
            """SELECT COALESCE(SUM(fee_cents), 0) FROM missions
               WHERE business_id = ? AND status = 'done' AND done_at >= ? AND done_at < ?""",
            (business_id, to_epoch(first), to_epoch(last)),
        )
        return row[0]

    async def earnings(self, first: datetime, last: datetime) -> list[Earned]:
        """Every business's done missions in [first, last), for the earnings by month."""
        rows = await self._db.fetch_all(
            """SELECT business_id, done_at, fee_cents FROM missions
               WHERE status = 'done' AND done_at >= ? AND done_at < ?""",
            (to_epoch(first), to_epoch(last)),
        )
        return [Earned(row[0], from_epoch(row[1]), row[2]) for row in rows]

    # -- invoices --------------------------------------------------------------------------

    async def issue_invoice(
        self,
        business_id: int,
        *,
        period: str,
        first: datetime,
        last: datetime,
        year: int,
        now: datetime,
        due_on: date,
        seller: Party,
        client: Party,
    ) -> Invoice | None:
        """Invoice the business's done, not yet invoiced missions of [first, last).

        Returns the new invoice, or None when there is nothing left to invoice. The number
        is the next of ``year``'s sequence; its missions are locked from then on.
        """
        try:
            async with self._db.transaction() as db:
                return await self._issue(
                    db, business_id, period, first, last, year, now, due_on, seller, client
                )
        except _NothingToInvoice:
            return None

    async def _issue(
        self,
        db: Connection,
        business_id: int,
        period: str,
        first: datetime,
        last: datetime,
        year: int,
        now: datetime,
        due_on: date,
        seller: Party,
        client: Party,
    ) -> Invoice:
        # The year's counter first: it is held from here to the commit, so another issuer
        # waits here, then finds the missions this one invoiced already taken.
        async with db.execute(
            """INSERT INTO invoice_counters (year, last) VALUES (?, 1)
               ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1
               RETURNING last""",
            (year,),
        ) as cursor:
            (sequence,) = await cursor.fetchone()
        async with db.execute(
            """SELECT * FROM missions
               WHERE business_id = ? AND status = 'done' AND invoice_id IS NULL
                 AND done_at >= ? AND done_at < ?
               ORDER BY done_at, id""",
            (business_id, to_epoch(first), to_epoch(last)),
        ) as cursor:
            missions = [Mission.from_row(row) for row in await cursor.fetchall()]
        if not missions:
            # Rolled back with the counter: numbers follow each other without a gap.
            raise _NothingToInvoice
        cursor = await db.execute(
            """INSERT INTO invoices (year, sequence, business_id, period, issued_at, due_on,
                                     total_cents, seller, client)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                year,
                sequence,
                business_id,
                period,
                to_epoch(now),
                due_on.isoformat(),
                sum(m.fee for m in missions),
                json.dumps(asdict(seller), ensure_ascii=False),
                json.dumps(asdict(client), ensure_ascii=False),
            ),
        )
        (invoice_id,) = await cursor.fetchone()
        await db.executemany(
            """INSERT INTO invoice_lines (invoice_id, position, mission_id, done_at, kind,
                                          description, fee_cents)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                (invoice_id, position, m.id, to_epoch(m.done_at), m.kind, m.description, m.fee)
                for position, m in enumerate(missions, start=1)
            ],
        )
        await db.execute(
            "UPDATE missions SET invoice_id = ? WHERE id IN (SELECT mission_id FROM "
            "invoice_lines WHERE invoice_id = ?)",
            (invoice_id, invoice_id),
        )
        return await _fetch_invoice(db, invoice_id)

    async def invoices_for(self, business_id: int, period: str) -> list[Invoice]:
        async with self._db.transaction() as db:
            async with db.execute(
                "SELECT id FROM invoices WHERE business_id = ? AND period = ? ORDER BY id",
                (business_id, period),
            ) as cursor:
                ids = [row[0] async for row in cursor]
            return [await _fetch_invoice(db, invoice_id) for invoice_id in ids]


async def insert_mission(
    db: Connection, new: NewMission, status: MissionStatus, now: datetime, actor: int
) -> Mission:
    """Inside the caller's transaction: a mail merge writes its mission with its copies."""
    stamp = to_epoch(now)
    cursor = await db.execute(
        """INSERT INTO missions (business_id, kind, description, fee_cents, status, due_on,
                                 created_by, created_at, started_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        (
            new.business_id,
            new.kind,
            new.description,
            new.fee,
            status,
            _day(new.due_on),
            actor,
            stamp,
            stamp if status == MissionStatus.STARTED else None,
        ),
    )
    (mission_id,) = await cursor.fetchone()
    return await _fetch_mission(db, mission_id)


async def _fetch_mission(db: Connection, mission_id: int) -> Mission:
    async with db.execute("SELECT * FROM missions WHERE id = ?", (mission_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise LookupError(f"no mission {mission_id}")
    return Mission.from_row(row)


async def _fetch_invoice(db: Connection, invoice_id: int) -> Invoice | None:
    async with db.execute("SELECT * FROM invoices WHERE id = ?", (invoice_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    async with db.execute(
        "SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY position", (invoice_id,)
    ) as cursor:
        lines = tuple(
            [
                InvoiceLine(
                    position=line["position"],
                    mission_id=line["mission_id"],
                    done_at=from_epoch(line["done_at"]),
                    kind=line["kind"],
                    description=line["description"],
                    fee=line["fee_cents"],
                )
                async for line in cursor
            ]
        )
    return Invoice(
        id=row["id"],
        year=row["year"],
        sequence=row["sequence"],
        business_id=row["business_id"],
        period=row["period"],
        issued_at=from_epoch(row["issued_at"]),
        due_on=date.fromisoformat(row["due_on"]),
        total=row["total_cents"],
        seller=Party(**json.loads(row["seller"])),
        client=Party(**json.loads(row["client"])),
        lines=lines,
    )
