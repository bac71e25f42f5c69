"""Sessions: what each person was in the middle of, as bytes the bot serialised."""

from __future__ import annotations

from storage.db import Database


class Sessions:
    def __init__(self, db: Database):
        self._db = db

    async def user_data(self) -> dict[int, bytes]:
        rows = await self._db.fetch_all("SELECT user_id, value FROM user_sessions")
        return {row["user_id"]: row["value"] for row in rows}

    async def put_user_data(self, user_id: int, value: bytes | None) -> None:
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

    async def conversations(self, name: str) -> dict[str, bytes]:
        rows = await self._db.fetch_all(
            "SELECT key, state FROM conversation_states WHERE name = ?", (name,)
        )
        return {row["key"]: row["state"] for row in rows}

    async def put_conversation(self, name: str, key: str, state: bytes | None) -> None:
        """Keep a conversation's state; None ends it."""
        async with self._db.transaction() as db:
            if state is None:
                await db.execute(
                    "DELETE FROM conversation_states WHERE name = ? AND key = ?", (name, key)
                )
            else:
                await db.execute(
                    """INSERT INTO conversation_states (name, key, state) VALUES (?, ?, ?)
                       ON CONFLICT (name, key) DO UPDATE SET state = excluded.state""",
                    (name, key, state),
                )
