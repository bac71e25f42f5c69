"""Blocked time: hours a whole business, or one practitioner, cannot be booked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Connection, Database, Row, from_epoch, from_epoch_or_none, new_id, to_epoch


@dataclass(frozen=True)
class NewBlock:
    business_id: int
    starts_at: datetime
    ends_at: datetime
    practitioner: str | None = None  # None: the whole business
    reason: str | None = None


@dataclass(frozen=True)
class Block:
    id: int
    business_id: int
    practitioner: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    created_by: int
    created_at: datetime
    removed_at: datetime | None
    series: int | None = None  # one of a block a day over several days: the first's id

    @classmethod
    def from_row(cls, row: Row) -> Block:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            practitioner=row["practitioner"],
            starts_at=from_epoch(row["starts_at"]),
            ends_at=from_epoch(row["ends_at"]),
            reason=row["reason"],
            created_by=row["created_by"],
            created_at=from_epoch(row["created_at"]),
            removed_at=from_epoch_or_none(row["removed_at"]),
            series=row["series"],
        )


class Blocks:
    def __init__(self, db: Database):
        self._db = db

    async def add(self, new: NewBlock, *, actor: int, now: datetime) -> Block:
        (added,) = await self.add_series([new], actor=actor, now=now)
        return added

    async def add_series(self, news: list[NewBlock], *, actor: int, now: datetime) -> list[Block]:
        """Blocks added together (the same hours on several days): one series, in one
        transaction; a single block has no series."""
        if not news or any(new.ends_at <= new.starts_at for new in news):
            raise ValueError("a block ends after it starts")
        added: list[Block] = []
        async with self._db.transaction() as db:
            for new in news:
                cursor = await db.execute(
                    """INSERT INTO blocks (business_id, practitioner, starts_at, ends_at, reason,
                                           created_by, created_at, series)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                    (
                        new.business_id,
                        new.practitioner,
                        to_epoch(new.starts_at),
                        to_epoch(new.ends_at),
                        new.reason,
                        actor,
                        to_epoch(now),
                        added[0].id if added else None,
                    ),
                )
                block_id = await new_id(cursor)
                if not added and len(news) > 1:
                    await db.execute("UPDATE blocks SET series = id WHERE id = ?", (block_id,))
                added.append(await _fetch(db, block_id))
        return added

    async def series(self, block: Block) -> list[Block]:
        """The block and those added with it, by start (the block alone if it has none)."""
        if block.series is None:
            return [block]
        rows = await self._db.fetch_all(
            "SELECT * FROM blocks WHERE series = ? ORDER BY starts_at, id", (block.series,)
        )
        return [Block.from_row(row) for row in rows]

    async def get(self, block_id: int) -> Block | None:
        row = await self._db.fetch_one("SELECT * FROM blocks WHERE id = ?", (block_id,))
        return Block.from_row(row) if row else None

    async def remove(self, block_id: int, *, now: datetime) -> Block | None:
        """Lift a block, and the rest of its series; returns it as it was, or None if it was
        lifted already or unknown."""
        async with self._db.transaction() as db:
            current = await _fetch(db, block_id)
            if current is None or current.removed_at is not None:
                return None
            await db.execute(
                """UPDATE blocks SET removed_at = ?
                   WHERE removed_at IS NULL AND (id = ? OR series IS NOT NULL AND series = ?)""",
                (to_epoch(now), block_id, current.series),
            )
            return current

    async def overlapping(self, business_id: int, start: datetime, end: datetime) -> list[Block]:
        """A business's blocks in force that overlap [start, end), by start."""
        rows = await self._db.fetch_all(
            # A block overlapping [start, end) starts after start minus the business's
            # longest block (one index seek): the range of starts read is bounded both sides.
            """SELECT * FROM blocks
               WHERE business_id = ?1 AND removed_at IS NULL
                 AND starts_at > ?2 - (
                     SELECT COALESCE(MAX(ends_at - starts_at), 0) FROM blocks
                     WHERE business_id = ?1 AND removed_at IS NULL)
                 AND starts_at < ?3 AND ends_at > ?2
               ORDER BY starts_at, id""",
            (business_id, to_epoch(start), to_epoch(end)),
        )
        return [Block.from_row(row) for row in rows]


async def _fetch(db: Connection, block_id: int) -> Block | None:
    async with db.execute("SELECT * FROM blocks WHERE id = ?", (block_id,)) as cursor:
        row = await cursor.fetchone()
    return Block.from_row(row) if row else None
