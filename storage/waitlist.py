"""The waitlist: patients' wishes for a time nothing fitted, and the freed slots offered to
them one at a time.

An offer is not a hold: the slot stays bookable by anyone, and an offer whose slot was
booked meanwhile is ended by the next reconcile (``bot.waitlist``). What the store
guarantees, inside one transaction each: one entry per wish, one open offer per patient, no
two open offers over the same practitioner's time, and no offer of time an appointment holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from storage.appointments import HOLDING
from storage.db import Connection, Database, Row, from_epoch, from_epoch_or_none, new_id, to_epoch
from storage.outbox import Outbox, Owed


class Ended(StrEnum):
    """Why an entry is over."""

    TAKEN = "taken"  # an offered slot was taken: a request or a booking now
    LEFT = "left"  # the patient left the list
    PASSED = "passed"  # its days are over (or its business or service left config)


class Outcome(StrEnum):
    """What became of an offer."""

    TAKEN = "taken"
    REFUSED = "refused"  # "no thanks"
    LAPSED = "lapsed"  # the hold passed unanswered
    GONE = "gone"  # the slot was booked another way, or is no longer offered
    LEFT = "left"  # its entry ended


@dataclass(frozen=True)
class NewEntry:
    business_id: int
    patient_id: int
    service: str
    day_from: date
    day_to: date
    time_from: time | None = None
    time_to: time | None = None
    practitioner: str | None = None


@dataclass(frozen=True)
class Entry:
    id: int
    business_id: int
    patient_id: int
    service: str
    day_from: date
    day_to: date
    time_from: time | None
    time_to: time | None
    practitioner: str | None
    created_at: datetime
    ended_at: datetime | None
    ended_why: Ended | None

    @classmethod
    def from_row(cls, row: Row) -> Entry:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            patient_id=row["patient_id"],
            service=row["service"],
            day_from=date.fromisoformat(row["day_from"]),
            day_to=date.fromisoformat(row["day_to"]),
            time_from=_time(row["time_from"]),
            time_to=_time(row["time_to"]),
            practitioner=row["practitioner"],
            created_at=from_epoch(row["created_at"]),
            ended_at=from_epoch_or_none(row["ended_at"]),
            ended_why=Ended(row["ended_why"]) if row["ended_why"] else None,
        )


@dataclass(frozen=True)
class Offer:
    id: int
    entry_id: int
    patient_id: int
    business_id: int
    practitioner: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    outcome: Outcome | None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @classmethod
    def from_row(cls, row: Row) -> Offer:
        return cls(
            id=row["id"],
            entry_id=row["entry_id"],
            patient_id=row["patient_id"],
            business_id=row["business_id"],
            practitioner=row["practitioner"],
            starts_at=from_epoch(row["starts_at"]),
            ends_at=from_epoch(row["ends_at"]),
            created_at=from_epoch(row["created_at"]),
            expires_at=from_epoch(row["expires_at"]),
            ended_at=from_epoch_or_none(row["ended_at"]),
            outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        )


def _time(text: str | None) -> time | None:
    return time.fromisoformat(text) if text else None


def _time_text(moment: time | None) -> str | None:
    return moment.strftime("%H:%M") if moment else None


@dataclass(frozen=True)
class NewOffer:
    entry_id: int
    practitioner: str
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


# What an offer owes its patient, worked out from the offer as written: pure.
TellOffer = Callable[[Offer], Iterable[Owed]]

_HOLDING_SQL = ", ".join(f"'{s}'" for s in HOLDING)
_OVERLAP = "business_id = ? AND practitioner = ? AND starts_at < ? AND ends_at > ?"
_OFFERS = """SELECT o.*, e.patient_id FROM waitlist_offers o
             JOIN waitlist_entries e ON e.id = o.entry_id"""


class Waitlist:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def join(self, new: NewEntry, *, now: datetime) -> tuple[Entry, bool]:
        """The patient waits for ``new``; the same wish again is the entry already there.
        Returns the entry and whether it is new."""
        async with self._db.transaction() as db:
            # The one-wish index decides, in the statement: a wish already there is kept.
            cursor = await db.execute(
                """INSERT INTO waitlist_entries (business_id, patient_id, service, day_from,
                       day_to, time_from, time_to, practitioner, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id""",
                (*_wish(new), to_epoch(now)),
            )
            row = await cursor.fetchone()
            if row is None:
                return await _same_wish(db, new), False
            return await _entry(db, row[0]), True

    async def entry(self, entry_id: int) -> Entry | None:
        row = await self._db.fetch_one("SELECT * FROM waitlist_entries WHERE id = ?", (entry_id,))
        return Entry.from_row(row) if row else None

    async def active(self) -> list[Entry]:
        """Every entry still waiting, in the order the patients joined."""
        rows = await self._db.fetch_all(
            "SELECT * FROM waitlist_entries WHERE ended_at IS NULL ORDER BY created_at, id"
        )
        return [Entry.from_row(row) for row in rows]

    async def of_patient(self, patient_id: int) -> list[Entry]:
        rows = await self._db.fetch_all(
            """SELECT * FROM waitlist_entries WHERE patient_id = ? AND ended_at IS NULL
               ORDER BY day_from, created_at, id""",
            (patient_id,),
        )
        return [Entry.from_row(row) for row in rows]

    async def offer(self, offer_id: int) -> Offer | None:
        row = await self._db.fetch_one(f"{_OFFERS} WHERE o.id = ?", (offer_id,))
        return Offer.from_row(row) if row else None

    async def open_offers(self) -> list[Offer]:
        rows = await self._db.fetch_all(f"{_OFFERS} WHERE o.ended_at IS NULL ORDER BY o.id")
        return [Offer.from_row(row) for row in rows]

    async def declined_starts(self) -> dict[int, set[tuple[datetime, str]]]:
        """For each active entry, the slots its patient said no to or let lapse: not asked
        about again."""
        rows = await self._db.fetch_all(
            """SELECT o.entry_id, o.starts_at, o.practitioner FROM waitlist_offers o
               JOIN waitlist_entries e ON e.id = o.entry_id
               WHERE e.ended_at IS NULL AND o.outcome IN ('refused', 'lapsed')"""
        )
        found: dict[int, set[tuple[datetime, str]]] = {}
        for row in rows:
            found.setdefault(row["entry_id"], set()).add(
                (from_epoch(row["starts_at"]), row["practitioner"])
            )
        return found

    async def make_offer(self, new: NewOffer, *, now: datetime, tell: TellOffer) -> Offer | None:
        """Offer a slot to an entry's patient, with the message that asks them, in one
        transaction; None (nothing written) when the world moved since it was chosen: the
        entry ended, its patient has an open offer, the time is offered to someone else or
        held by an appointment."""
        async with self._db.transaction() as db:
            entry = await _entry(db, new.entry_id)
            if entry is None or entry.ended_at is not None:
                return None
            starts, ends = to_epoch(new.starts_at), to_epoch(new.ends_at)
            checks = (
                (
                    f"""{_OFFERS} WHERE o.ended_at IS NULL AND e.patient_id = ?""",
                    (entry.patient_id,),
                ),
                (
                    f"""SELECT 1 FROM waitlist_offers WHERE ended_at IS NULL AND {_OVERLAP}""",
                    (entry.business_id, new.practitioner, ends, starts),
                ),
                (
                    f"""SELECT 1 FROM appointments
                        WHERE status IN ({_HOLDING_SQL}) AND {_OVERLAP}""",
                    (entry.business_id, new.practitioner, ends, starts),
                ),
            )
            for sql, parameters in checks:
                async with db.execute(f"{sql} LIMIT 1", parameters) as cursor:
                    if await cursor.fetchone() is not None:
                        return None
            cursor = await db.execute(
                """INSERT INTO waitlist_offers (entry_id, business_id, practitioner, starts_at,
                       ends_at, created_at, expires_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    entry.id,
                    entry.business_id,
                    new.practitioner,
                    starts,
                    ends,
                    to_epoch(now),
                    to_epoch(new.expires_at),
                ),
            )
            made = await _offer(db, await new_id(cursor))
            await self._outbox.write(db, tell(made), now)
            return made

    async def end_offer(self, offer_id: int, outcome: Outcome, *, now: datetime) -> bool:
        """Close an open offer; False when it was closed already (answered, lapsed)."""
        async with self._db.transaction() as db:
            return await _end_offer(db, offer_id, outcome, now)

    async def take(self, offer_id: int, *, now: datetime) -> None:
        """The offer was taken (its request written): the offer and its entry are over."""
        async with self._db.transaction() as db:
            offer = await _offer(db, offer_id)
            await _end_offer(db, offer_id, Outcome.TAKEN, now)
            await _end_entry(db, offer.entry_id, Ended.TAKEN, now)

    async def end_entry(self, entry_id: int, why: Ended, *, now: datetime) -> bool:
        """The entry is over, and its open offer if any; False when it was over already."""
        async with self._db.transaction() as db:
            return await _end_entry(db, entry_id, why, now)


async def _end_offer(db: Connection, offer_id: int, outcome: Outcome, now: datetime) -> bool:
    cursor = await db.execute(
        """UPDATE waitlist_offers SET ended_at = ?, outcome = ?
           WHERE id = ? AND ended_at IS NULL""",
        (to_epoch(now), outcome, offer_id),
    )
    return cursor.rowcount == 1


async def _end_entry(db: Connection, entry_id: int, why: Ended, now: datetime) -> bool:
    cursor = await db.execute(
        """UPDATE waitlist_entries SET ended_at = ?, ended_why = ?
           WHERE id = ? AND ended_at IS NULL""",
        (to_epoch(now), why, entry_id),
    )
    await db.execute(
        """UPDATE waitlist_offers SET ended_at = ?, outcome = 'left'
           WHERE entry_id = ? AND ended_at IS NULL""",
        (to_epoch(now), entry_id),
    )
    return cursor.rowcount == 1


async def _entry(db: Connection, entry_id: int) -> Entry | None:
    async with db.execute("SELECT * FROM waitlist_entries WHERE id = ?", (entry_id,)) as cursor:
        row = await cursor.fetchone()
    return Entry.from_row(row) if row else None


def _wish(new: NewEntry) -> tuple[object, ...]:
    """What makes a wish the same as another, in the columns' order."""
    return (
        new.business_id,
        new.patient_id,
        new.service,
        new.day_from.isoformat(),
        new.day_to.isoformat(),
        _time_text(new.time_from),
        _time_text(new.time_to),
        new.practitioner,
    )


async def _same_wish(db: Connection, new: NewEntry) -> Entry:
    async with db.execute(
        """SELECT * FROM waitlist_entries
           WHERE ended_at IS NULL AND business_id = ? AND patient_id = ? AND service = ?
             AND day_from = ? AND day_to = ? AND time_from IS NOT DISTINCT FROM ?
             AND time_to IS NOT DISTINCT FROM ? AND practitioner IS NOT DISTINCT FROM ?""",
        _wish(new),
    ) as cursor:
        return Entry.from_row(await cursor.fetchone())


async def _offer(db: Connection, offer_id: int) -> Offer | None:
    async with db.execute(f"{_OFFERS} WHERE o.id = ?", (offer_id,)) as cursor:
        row = await cursor.fetchone()
    return Offer.from_row(row) if row else None
