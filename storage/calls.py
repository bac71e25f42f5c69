"""Call messages: what a caller asked the secretary to pass on to a business."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row, from_epoch, to_epoch
from storage.outbox import Outbox, Owed


@dataclass(frozen=True)
class NewCall:
    business_id: int
    caller_name: str
    caller_phone: str | None
    message: str
    urgent: bool = False


@dataclass(frozen=True)
class Call:
    id: int
    business_id: int
    caller_name: str
    caller_phone: str | None
    message: str
    urgent: bool
    taken_by: int  # the secretary's Telegram id
    taken_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Call:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            caller_name=row["caller_name"],
            caller_phone=row["caller_phone"],
            message=row["message"],
            urgent=bool(row["urgent"]),
            taken_by=row["taken_by"],
            taken_at=from_epoch(row["taken_at"]),
        )


class Calls:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def add(
        self,
        new: NewCall,
        *,
        actor: int,
        now: datetime,
        tell: Callable[[Call], Iterable[Owed]] = lambda _: (),
    ) -> Call:
        """Keep the call; ``tell`` says who is owed it, written in the same transaction."""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO calls (business_id, caller_name, caller_phone, message, urgent,
                                      taken_by, taken_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *""",
                (
                    new.business_id,
                    new.caller_name,
                    new.caller_phone,
                    new.message,
                    int(new.urgent),
                    actor,
                    to_epoch(now),
                ),
            )
            call = Call.from_row(await cursor.fetchone())
            await self._outbox.write(db, tell(call), now)
            return call

    async def get(self, call_id: int) -> Call | None:
        row = await self._db.fetch_one("SELECT * FROM calls WHERE id = ?", (call_id,))
        return Call.from_row(row) if row else None

    async def on_day(self, business_id: int, first: datetime, last: datetime) -> list[Call]:
        """The business's calls taken in [first, last), oldest first.

        The daily summary passes the local day's bounds: midnight to the next midnight.
        """
        rows = await self._db.fetch_all(
            """SELECT * FROM calls WHERE business_id = ? AND taken_at >= ? AND taken_at < ?
               ORDER BY taken_at, id""",
            (business_id, to_epoch(first), to_epoch(last)),
        )
        return [Call.from_row(row) for row in rows]
