"""Sessions: what each person is in the middle of, as bytes the bot serialised.

Read for each update of that person and written when it changed, so that whichever worker
handles their next update goes on from there.
"""

from __future__ import annotations

from storage.db import Database


class Sessions:
    def __init__(self, db: Database):
        self._db = db

    async def get(self, user_id: int) -> bytes | None:
        row = await self._db.fetch_one(
            "SELECT value FROM user_sessions WHERE user_id = ?", (user_id,)
        )
        return row["value"] if row is not None else None

    async def put(self, user_id: int, value: bytes | None) -> None:
        """Keep ``value`` for the user; None forgets them."""
        async with self._db.transaction() as db:
            if value is None:
                await db.execute("DELETE FROM user_sessions WHERE user_id = ?", (user_id,))
            else:
                await db.execute(
                    """INSERT INTO user_sessions (user_id, value) VALUES (?, ?)
                       ON CONFLICT (user_id) DO UPDATE SET value = excluded.value""",
                    (user_id, value),
                )
