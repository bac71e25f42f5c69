"""The record that an old request was flagged to its business's employers, once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from storage.db import Database, to_epoch
from storage.outbox import Outbox, Owed


class Escalations:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def claim(self, flags: Iterable[tuple[int, Iterable[Owed]]], now: datetime) -> list[int]:
        """Of these (request, messages to the employers), the requests never flagged before:
        recorded as flagged, their messages owed in the same transaction."""
        claimed = []
        async with self._db.transaction() as db:
            for appointment_id, owed in flags:
                cursor = await db.execute(
                    """INSERT INTO escalations (appointment_id, sent_at) VALUES (?, ?)
                       ON CONFLICT DO NOTHING RETURNING appointment_id""",
                    (appointment_id, to_epoch(now)),
                )
                if await cursor.fetchone() is not None:
                    claimed.append(appointment_id)
                    await self._outbox.write(db, owed, now)
        return claimed
