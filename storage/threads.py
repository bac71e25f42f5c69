"""Threads: what the bot could not serve, passed to the office, and the office's answers.

A patient has at most one open thread; it stays open until a secretary closes it or it goes
quiet, and every message of it owes its copies (to the secretaries, or to the patient) in the
same transaction as it is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Connection, Database, Row, from_epoch, from_epoch_or_none, new_id, to_epoch
from storage.outbox import Outbox, Owed


@dataclass(frozen=True)
class Thread:
    id: int
    business_id: int
    patient_id: int
    opened_at: datetime
    last_at: datetime
    closed_at: datetime | None
    closed_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> Thread:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            patient_id=row["patient_id"],
            opened_at=from_epoch(row["opened_at"]),
            last_at=from_epoch(row["last_at"]),
            closed_at=from_epoch_or_none(row["closed_at"]),
            closed_by=row["closed_by"],
        )


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    thread_id: int
    author: int | None  # None: the patient
    content: str
    is_file: bool  # a voice note, photo, document: copied from where it is
    chat_id: int  # where the original message is
    message_id: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> ThreadMessage:
        return cls(
            id=row["id"],
            thread_id=row["thread_id"],
            author=row["author"],
            content=row["content"],
            is_file=bool(row["is_file"]),
            chat_id=row["chat_id"],
            message_id=row["message_id"],
            created_at=from_epoch(row["created_at"]),
        )


@dataclass(frozen=True)
class Said:
    """A message just recorded in a thread: the thread, the message, and whether it opened it."""

    thread: Thread
    message: ThreadMessage
    opened: bool


Tell = Callable[[Said], Iterable[Owed]]


class Threads:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    async def open_for(self, patient_id: int, *, now: datetime, quiet: timedelta) -> Thread | None:
        """The patient's thread still going on: open, and not quiet for ``quiet``."""
        row = await self._db.fetch_one(
            "SELECT * FROM threads WHERE patient_id = ? AND closed_at IS NULL AND last_at > ?",
            (patient_id, to_epoch(now - quiet)),
        )
        return Thread.from_row(row) if row else None

    async def get(self, thread_id: int) -> Thread | None:
        row = await self._db.fetch_one("SELECT * FROM threads WHERE id = ?", (thread_id,))
        return Thread.from_row(row) if row else None

    async def message(self, message_id: int) -> ThreadMessage | None:
        row = await self._db.fetch_one("SELECT * FROM thread_messages WHERE id = ?", (message_id,))
        return ThreadMessage.from_row(row) if row else None

    async def messages(self, thread_id: int) -> list[ThreadMessage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM thread_messages WHERE thread_id = ? ORDER BY id", (thread_id,)
        )
        return [ThreadMessage.from_row(row) for row in rows]

    async def from_patient(
        self,
        business_id: int,
        patient_id: int,
        *,
        content: str,
        is_file: bool,
        chat_id: int,
        message_id: int,
        now: datetime,
        quiet: timedelta,
        tell: Tell,
    ) -> Said:
        """A patient's message for the office: on their open thread, else on a new one."""
        stamp = to_epoch(now)
        async with self._db.transaction() as db:
            async with db.execute(
                "SELECT * FROM threads WHERE patient_id = ? AND closed_at IS NULL", (patient_id,)
            ) as cursor:
                row = await cursor.fetchone()
            current = Thread.from_row(row) if row else None
            if current is not None and current.last_at <= now - quiet:
                await _close(db, current.id, None, stamp)  # gone quiet: a new subject
                current = None
            if current is None:
                thread_id, opened = await _open(db, business_id, patient_id, stamp)
            else:
                thread_id, opened = current.id, False
            said = await self._add(
                db, thread_id, None, content, is_file, chat_id, message_id, stamp
            )
            said = Said(said.thread, said.message, opened)
            await self._outbox.write(db, tell(said), now)
            return said

    async def from_office(
        self,
        thread_id: int,
        author: int,
        *,
        content: str,
        is_file: bool,
        chat_id: int,
        message_id: int,
        now: datetime,
        tell: Tell,
    ) -> Said:
        """A secretary's answer: it reopens a thread closed meanwhile. Raises LookupError."""
        stamp = to_epoch(now)
        async with self._db.transaction() as db:
            async with db.execute("SELECT * FROM threads WHERE id = ?", (thread_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise LookupError(f"no thread {thread_id}")
            thread = Thread.from_row(row)
            if thread.closed_at is not None:
                # Another thread of the patient's may be open since: answer on the old one.
                async with db.execute(
                    "SELECT 1 FROM threads WHERE patient_id = ? AND closed_at IS NULL",
                    (thread.patient_id,),
                ) as cursor:
                    if await cursor.fetchone() is None:
                        await db.execute(
                            "UPDATE threads SET closed_at = NULL, closed_by = NULL WHERE id = ?",
                            (thread_id,),
                        )
            said = await self._add(
                db, thread_id, author, content, is_file, chat_id, message_id, stamp
            )
            await self._outbox.write(db, tell(said), now)
            return said

    async def from_office_first(
        self,
        business_id: int,
        patient_id: int,
        author: int,
        *,
        content: str,
        chat_id: int,
        message_id: int,
        now: datetime,
        tell: Tell,
    ) -> Said:
        """A secretary writes to a patient first (from the patient's card): on the patient's
        open thread, else on a new one, so that the patient's answer reaches the office."""
        stamp = to_epoch(now)
        async with self._db.transaction() as db:
            async with db.execute(
                "SELECT id FROM threads WHERE patient_id = ? AND closed_at IS NULL", (patient_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                thread_id, opened = row["id"], False
            else:
                thread_id, opened = await _open(db, business_id, patient_id, stamp)
            said = await self._add(
                db, thread_id, author, content, False, chat_id, message_id, stamp
            )
            said = Said(said.thread, said.message, opened)
            await self._outbox.write(db, tell(said), now)
            return said

    async def close(self, thread_id: int, *, by: int, now: datetime) -> Thread | None:
        """Closed by a secretary; None when it was closed already (or unknown)."""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                """UPDATE threads SET closed_at = ?, closed_by = ?
                   WHERE id = ? AND closed_at IS NULL""",
                (to_epoch(now), by, thread_id),
            )
            if cursor.rowcount == 0:
                return None
            return await _fetch(db, thread_id)

    async def close_quiet(self, *, now: datetime, quiet: timedelta) -> int:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE threads SET closed_at = ? WHERE closed_at IS NULL AND last_at <= ?",
                (to_epoch(now), to_epoch(now - quiet)),
            )
            return cursor.rowcount

    async def counts(self, business_id: int, start: datetime, end: datetime) -> tuple[int, int]:
        """Of a business's patients' messages passed on in [start, end): how many, and how
        many of their threads got an answer from the office."""
        row = await self._db.fetch_one(
            """SELECT
                   (SELECT count(*) FROM thread_messages m JOIN threads t ON t.id = m.thread_id
                    WHERE t.business_id = ? AND m.author IS NULL
                      AND m.created_at >= ? AND m.created_at < ?) AS passed,
                   (SELECT count(DISTINCT m.thread_id) FROM thread_messages m
                    JOIN threads t ON t.id = m.thread_id
                    WHERE t.business_id = ? AND m.author IS NOT NULL
                      AND m.created_at >= ? AND m.created_at < ?) AS answered""",
            (business_id, to_epoch(start), to_epoch(end)) * 2,
        )
        return row["passed"], row["answered"]

    async def _add(
        self,
        db: Connection,
        thread_id: int,
        author: int | None,
        content: str,
        is_file: bool,
        chat_id: int,
        message_id: int,
        stamp: int,
    ) -> Said:
        cursor = await db.execute(
            """INSERT INTO thread_messages
                   (thread_id, author, content, is_file, chat_id, message_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (thread_id, author, content, int(is_file), chat_id, message_id, stamp),
        )
        said_id = await new_id(cursor)
        await db.execute("UPDATE threads SET last_at = ? WHERE id = ?", (stamp, thread_id))
        async with db.execute("SELECT * FROM thread_messages WHERE id = ?", (said_id,)) as rows:
            message = ThreadMessage.from_row(await rows.fetchone())
        return Said(await _fetch(db, thread_id), message, False)


async def _open(db: Connection, business_id: int, patient_id: int, stamp: int) -> tuple[int, bool]:
    """The patient's open thread, opened now if there is none (True); of two workers opening
    it at once, the one-open-thread index lets one in and the other finds it."""
    cursor = await db.execute(
        """INSERT INTO threads (business_id, patient_id, opened_at, last_at)
           VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id""",
        (business_id, patient_id, stamp, stamp),
    )
    row = await cursor.fetchone()
    if row is not None:
        return row[0], True
    async with db.execute(
        "SELECT id FROM threads WHERE patient_id = ? AND closed_at IS NULL", (patient_id,)
    ) as cursor:
        (thread_id,) = await cursor.fetchone()
    return thread_id, False


async def _close(db: Connection, thread_id: int, by: int | None, stamp: int) -> None:
    await db.execute(
        "UPDATE threads SET closed_at = ?, closed_by = ? WHERE id = ?", (stamp, by, thread_id)
    )


async def _fetch(db: Connection, thread_id: int) -> Thread:
    async with db.execute("SELECT * FROM threads WHERE id = ?", (thread_id,)) as cursor:
        return Thread.from_row(await cursor.fetchone())
