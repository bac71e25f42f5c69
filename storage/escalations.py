"""The record that an old request was flagged to its business's employers, once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from storage.db import Database, to_epoch


class Escalations:
    def __init__(self, db: Database):
        self._db = db

    async def claim(self, appointment_ids: Iterable[int], now: datetime) -> list[int]:
        """Of these requests, the ones never flagged before, now recorded as flagged.

        Claimed before the message goes out: a crash in between loses one flag rather than
        sending it twice.
        """
        claimed = []
        async with self._db.transaction() as db:
            for appointment_id in appointment_ids:
                cursor = await db.execute(
                    "INSERT OR IGNORE INTO escalations (appointment_id, sent_at) VALUES (?, ?)",
                    (appointment_id, to_epoch(now)),
                )
                if cursor.rowcount == 1:
                    claimed.append(appointment_id)
        return claimed
