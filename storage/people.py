"""People who talk to the bot, and the businesses synced from config."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, from_epoch, to_epoch


@dataclass(frozen=True)
class Person:
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str
    phone: str | None
    business_id: int | None
    created_at: datetime

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Person:
        return cls(
            telegram_id=row["telegram_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            username=row["username"],
            language=row["language"],
            phone=row["phone"],
            business_id=row["business_id"],
            created_at=from_epoch(row["created_at"]),
        )


class People:
    def __init__(self, db: Database):
        self._db = db

    async def seen(
        self,
        telegram_id: int,
        *,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language: str,
        now: datetime,
    ) -> Person:
        """Create or refresh a person; a known person keeps the language they have."""
        async with self._db.transaction() as db:
            await db.execute(
                """INSERT INTO people (telegram_id, first_name, last_name, username, language,
                                       created_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (telegram_id) DO UPDATE SET
                       first_name = excluded.first_name,
                       last_name = excluded.last_name,
                       username = excluded.username""",
                (telegram_id, first_name, last_name, username, language, to_epoch(now)),
            )
            return await _fetch(db, telegram_id)

    async def get(self, telegram_id: int) -> Person | None:
        row = await self._db.fetch_one("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))
        return Person.from_row(row) if row else None

    async def bind(self, telegram_id: int, business_id: int) -> None:
        await self._update(telegram_id, "business_id", business_id)

    async def set_phone(self, telegram_id: int, phone: str) -> None:
        await self._update(telegram_id, "phone", phone)

    async def set_language(self, telegram_id: int, language: str) -> None:
        await self._update(telegram_id, "language", language)

    async def _update(self, telegram_id: int, column: str, value: object) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                f"UPDATE people SET {column} = ? WHERE telegram_id = ?", (value, telegram_id)
            )


async def _fetch(db: aiosqlite.Connection, telegram_id: int) -> Person | None:
    async with db.execute("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)) as cursor:
        row = await cursor.fetchone()
    return Person.from_row(row) if row else None


async def sync_businesses(db: Database, businesses: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Make the table match config's (slug, name) pairs; returns slug -> id.

    Businesses dropped from config stay in the table: their appointments keep their history.
    """
    async with db.transaction() as connection:
        for slug, name in businesses:
            await connection.execute(
                """INSERT INTO businesses (slug, name) VALUES (?, ?)
                   ON CONFLICT (slug) DO UPDATE SET name = excluded.name""",
                (slug, name),
            )
        async with connection.execute("SELECT slug, id FROM businesses") as cursor:
            return {row["slug"]: row["id"] async for row in cursor}
