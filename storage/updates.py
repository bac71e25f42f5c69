"""The updates already handled, by Telegram's ``update_id``, whichever worker handled them."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, to_epoch


class HandledUpdates:
    def __init__(self, db: Database):
        self._db = db

    async def seen(self, update_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM handled_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def record(self, update_id: int, now: datetime) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                """INSERT INTO handled_updates (update_id, handled_at) VALUES (?, ?)
                   ON CONFLICT (update_id) DO NOTHING""",
                (update_id, to_epoch(now)),
            )

    async def forget(self, *, before: datetime) -> int:
        """Forget the ids handled before ``before``: how many."""
        async with (
            self._db.transaction() as connection,
            connection.execute(
                "DELETE FROM handled_updates WHERE handled_at < ?", (to_epoch(before),)
            ) as cursor,
        ):
            return cursor.rowcount
