"""People who talk to the bot, and the businesses synced from config."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Database, Row, from_epoch, to_epoch

# Ids bound in one IN (...): well under SQLite's limit on a statement's variables.
_BATCH = 500


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
    last_seen_at: datetime

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @classmethod
    def from_row(cls, row: Row) -> Person:
        return cls(
            telegram_id=row["telegram_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            username=row["username"],
            language=row["language"],
            phone=row["phone"],
            business_id=row["business_id"],
            created_at=from_epoch(row["created_at"]),
            last_seen_at=from_epoch(row["last_seen_at"]),
        )


# How stale a person's last_seen_at may get before a message of theirs refreshes it: one
# write a day per person at most, however much they write.
SEEN_PRECISION = timedelta(days=1)
# Visitors forgotten by one call of purge_visitors.
PURGE_BATCH = 500


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
        business_id: int | None = None,
    ) -> Person:
        """Create or refresh a person; a known person keeps the language they have.
        ``business_id``, when given, binds them to that business in the same write (a
        business's link followed).

        Called for every update: it reads, and writes only for a newcomer, a changed name or
        username, a new binding, or a last visit older than ``SEEN_PRECISION``.
        """
        known = await self.get(telegram_id)
        if (
            known is not None
            and (known.first_name, known.last_name, known.username)
            == (first_name, last_name, username)
            and now - known.last_seen_at < SEEN_PRECISION
            and business_id in (None, known.business_id)
        ):
            return known
        moment = to_epoch(now)
        values = (telegram_id, first_name, last_name, username, language, business_id)
        async with (
            self._db.transaction() as db,
            db.execute(
                """INSERT INTO people (telegram_id, first_name, last_name, username, language,
                                       business_id, created_at, last_seen_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (telegram_id) DO UPDATE SET
                       first_name = excluded.first_name,
                       last_name = excluded.last_name,
                       username = excluded.username,
                       business_id = coalesce(excluded.business_id, people.business_id),
                       last_seen_at = CASE WHEN people.last_seen_at > excluded.last_seen_at
                           THEN people.last_seen_at ELSE excluded.last_seen_at END
                   RETURNING *""",
                (*values, moment, moment),
            ) as cursor,
        ):
            return Person.from_row(await cursor.fetchone())

    async def purge_visitors(
        self, *, before: datetime, keep: Iterable[int] = (), limit: int = PURGE_BATCH
    ) -> int:
        """Forget people last seen before ``before`` who never were patients (no appointment,
        no mail merge sent to them: ``people.patient``, which triggers keep) and are not in
        ``keep`` (the staff, who are in config). Their kept conversation data goes with them.
        Returns how many were forgotten: at most ``limit``, so that one call never holds the
        database for long."""
        kept = set(keep)
        # Any other row naming a person keeps them too: a table added later cannot turn
        # the purge into a foreign key error, nor lose what it holds.
        guards = "".join(
            f" AND NOT EXISTS (SELECT 1 FROM {table} WHERE {column} = p.telegram_id)"
            for table, column in await self._db.references("people")
            if table not in _FLAGGED
        )
        async with self._db.transaction() as db:
            async with db.execute(
                f"""SELECT telegram_id FROM people p
                    WHERE patient = 0 AND last_seen_at < ?{guards}
                    ORDER BY last_seen_at LIMIT ?""",
                (to_epoch(before), limit + len(kept)),
            ) as cursor:
                found = [row[0] for row in await cursor.fetchall() if row[0] not in kept]
            gone = [(telegram_id,) for telegram_id in found[:limit]]
            await db.executemany("DELETE FROM user_sessions WHERE user_id = ?", gone)
            await db.executemany("DELETE FROM people WHERE telegram_id = ?", gone)
        return len(gone)

    async def get(self, telegram_id: int) -> Person | None:
        row = await self._db.fetch_one("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))
        return Person.from_row(row) if row else None

    async def many(self, telegram_ids: Iterable[int]) -> dict[int, Person]:
        """The people among ``telegram_ids`` the store knows, by id, in one read a batch."""
        wanted = sorted(set(telegram_ids))
        found: dict[int, Person] = {}
        for first in range(0, len(wanted), _BATCH):
            batch = wanted[first : first + _BATCH]
            rows = await self._db.fetch_all(
                f"SELECT * FROM people WHERE telegram_id IN ({', '.join('?' * len(batch))})",
                batch,
            )
            found.update((row["telegram_id"], Person.from_row(row)) for row in rows)
        return found

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


# Tables whose rows set people.patient (migration 008's triggers): nobody they name is a
# visitor, so the purge need not look at them.
_FLAGGED = frozenset({"appointments", "mail_merge_recipients"})


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
