"""The outbox: every message the bot owes someone, written in the transaction of the change
that owes it, and what became of each once the deliverer tried.

A row is ``pending`` until a deliverer claims it (``sending``), then ``sent``; or ``pending``
again with a later ``not_before`` (a transient failure); or final: ``failed`` (Telegram
refused for good), ``expired`` (not delivered before its deadline), ``uncertain`` (the answer
never came and a second copy is worse than none), ``moot`` (no longer worth saying).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.db import Connection, Database, Row, from_epoch, to_epoch


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    UNCERTAIN = "uncertain"
    MOOT = "moot"


FINAL = (Status.SENT, Status.FAILED, Status.EXPIRED, Status.UNCERTAIN, Status.MOOT)


@dataclass(frozen=True)
class Owed:
    """A message owed: its kind says how it is worded and delivered, the payload what it
    needs beyond the appointment."""

    kind: str
    chat_id: int
    appointment_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    # One of many (a mail merge's copies): sent after everything else that is due, so a
    # confirmation owed in the middle of a mailing does not wait for its end.
    bulk: bool = False

    def payload_text(self) -> str:
        """The payload as the outbox row holds it."""
        return json.dumps(dict(self.payload), sort_keys=True)


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    chat_id: int
    appointment_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    status: Status
    attempts: int
    parts_sent: int
    message_id: int | None
    error: str | None
    # Which deliverer took it for sending, and when (wall-clock seconds), if one did.
    claimed_by: str | None = None
    claimed_at: float | None = None

    @classmethod
    def from_row(cls, row: Row) -> Message:
        return cls(
            id=row["id"],
            kind=row["kind"],
            chat_id=row["chat_id"],
            appointment_id=row["appointment_id"],
            payload=json.loads(row["payload"]),
            created_at=from_epoch(row["created_at"]),
            status=Status(row["status"]),
            attempts=row["attempts"],
            parts_sent=row["parts_sent"],
            message_id=row["message_id"],
            error=row["error"],
            claimed_by=row["claimed_by"],
            claimed_at=row["claimed_at"],
        )


class Outbox:
    def __init__(self, db: Database):
        self._db = db
        # Set whenever something is owed, so the deliverer need not poll to hear of it.
        self.changed = asyncio.Event()

    async def write(self, connection: Connection, owed: Iterable[Owed], now: datetime) -> None:
        """Record ``owed`` inside the caller's transaction: it commits with the change,
        and the deliverer is woken once it can read it."""
        rows = [
            (
                message.kind,
                message.chat_id,
                message.appointment_id,
                message.payload_text(),
                to_epoch(now),
                int(message.bulk),
            )
            for message in owed
        ]
        if not rows:
            return
        await connection.executemany(
            """INSERT INTO outbox (kind, chat_id, appointment_id, payload, created_at, bulk)
               VALUES (?, ?, ?, ?, ?, ?)""",
            rows,
        )
        connection.on_commit(self.changed.set)

    async def add(self, owed: Iterable[Owed], now: datetime) -> None:
        """Owed messages that are the whole change (a call message, a notice)."""
        async with self._db.transaction() as connection:
            await self.write(connection, owed, now)

    async def claim(self, worker: str, *, wall: float, limit: int) -> list[Message]:
        """Take the due messages for sending: per chat only the oldest still owed, so a chat
        reads its messages in the order they were owed."""
        # Looked at first without a write transaction: after each batch the deliverer asks
        # again, and nearly always nothing more is due.
        due = await self._db.fetch_one(
            "SELECT 1 FROM outbox WHERE status = 'pending' AND not_before <= ? LIMIT 1", (wall,)
        )
        if due is None:
            return []
        # Several deliverers may claim at once on a server: each passes over the rows another
        # is claiming, and a row is taken only while still pending, so it goes out once.
        async with (
            self._db.transaction() as connection,
            connection.execute(
                f"""UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?,
                          attempts = attempts + 1
                   WHERE status = 'pending' AND id IN (
                       SELECT o.id FROM outbox o
                       WHERE o.status = 'pending' AND o.not_before <= ?
                         AND NOT EXISTS (
                             SELECT 1 FROM outbox e
                             WHERE e.chat_id = o.chat_id AND e.id < o.id
                               AND e.status IN ('pending', 'sending'))
                       ORDER BY o.bulk, o.id LIMIT ?{self._db.skip_locked})
                   RETURNING *""",
                (worker, wall, wall, limit),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return sorted((Message.from_row(row) for row in rows), key=lambda m: m.id)

    async def claimed_elsewhere(self, worker: str) -> list[Message]:
        """Messages another deliverer claimed and has not finished: it is sending them, or
        it died while sending. Their ``claimed_at`` tells which (``Deliverer``'s lease)."""
        rows = await self._db.fetch_all(
            """SELECT * FROM outbox WHERE status = 'sending' AND claimed_by IS DISTINCT FROM ?
               ORDER BY id""",
            (worker,),
        )
        return [Message.from_row(row) for row in rows]

    async def still_claimed(self, worker: str, message_ids: Sequence[int], *, wall: float) -> None:
        """``worker`` is alive and still sending these: their claims are renewed."""
        marks = ", ".join("?" * len(message_ids))
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET claimed_at = ?
                    WHERE claimed_by = ? AND status = 'sending' AND id IN ({marks})""",
                (wall, worker, *message_ids),
            )

    async def take_back(self, message: Message, *, resend: bool, now: datetime) -> bool:
        """A dead deliverer's claim, as ``claimed_elsewhere`` read it: made pending again
        (``resend``) or final as uncertain — unless it was renewed or taken back since."""
        if resend:
            assignment = "status = 'pending', not_before = 0, claimed_by = NULL"
            values: tuple[object, ...] = ()
        else:
            assignment = "status = 'uncertain', finished_at = ?"
            values = (to_epoch(now),)
        async with (
            self._db.transaction() as connection,
            connection.execute(
                f"""UPDATE outbox SET {assignment}, error = 'died while sending'
                    WHERE id = ? AND status = 'sending' AND claimed_by = ? AND claimed_at = ?""",
                (*values, message.id, message.claimed_by, message.claimed_at),
            ) as cursor,
        ):
            return cursor.rowcount == 1

    async def part_sent(self, message_id: int, parts_sent: int) -> None:
        """A long text goes in several messages: what went already is never sent again."""
        await self._set(message_id, "parts_sent = ?", (parts_sent,))

    async def delivered(
        self, message_id: int, telegram_id: int, now: datetime, *, inbox_copy: bool = False
    ) -> None:
        """Sent as ``telegram_id``; ``inbox_copy``: that message is its appointment's copy in
        the reader's inbox, the one refreshed once someone answers, recorded in the same
        transaction (unless the appointment is gone meanwhile)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """UPDATE outbox SET status = 'sent', message_id = ?, finished_at = ?,
                          error = NULL
                   WHERE id = ?""",
                (telegram_id, to_epoch(now), message_id),
            )
            if inbox_copy:
                await connection.execute(
                    """INSERT INTO inbox_messages (appointment_id, chat_id, message_id)
                       SELECT o.appointment_id, o.chat_id, o.message_id FROM outbox o
                       JOIN appointments a ON a.id = o.appointment_id
                       WHERE o.id = ?
                       ON CONFLICT (appointment_id, chat_id)
                       DO UPDATE SET message_id = excluded.message_id""",
                    (message_id,),
                )

    async def retry(self, message_id: int, *, not_before: float, error: str) -> None:
        await self._set(
            message_id,
            "status = 'pending', not_before = ?, error = ?, claimed_by = NULL",
            (not_before, error),
        )

    async def finish(
        self,
        message_id: int,
        status: Status,
        now: datetime,
        error: str | None = None,
        *,
        owed: Iterable[Owed] = (),
    ) -> None:
        """A final outcome; ``owed``, what it owes in turn (the office told of a patient who
        could not be reached), in the same transaction."""
        if status not in FINAL:
            raise ValueError(f"{status} is not a final status")
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE outbox SET status = ?, finished_at = ?, error = ? WHERE id = ?",
                (status, to_epoch(now), error, message_id),
            )
            await self.write(connection, owed, now)

    async def sent_as(self, chat_id: int, message_id: int) -> Message | None:
        """The owed message Telegram delivered to that chat as that message."""
        row = await self._db.fetch_one(
            """SELECT * FROM outbox WHERE chat_id = ? AND message_id = ? AND status = 'sent'
               ORDER BY id DESC LIMIT 1""",
            (chat_id, message_id),
        )
        return Message.from_row(row) if row else None

    async def next_attempt(self) -> float | None:
        """When the soonest message that may go next in its chat is due (wall-clock seconds);
        one behind another of its chat waits for that one."""
        row = await self._db.fetch_one(
            """SELECT min(o.not_before) AS due FROM outbox o
               WHERE o.status = 'pending'
                 AND NOT EXISTS (
                     SELECT 1 FROM outbox e
                     WHERE e.chat_id = o.chat_id AND e.id < o.id
                       AND e.status IN ('pending', 'sending'))"""
        )
        return row["due"]

    async def open_count(self) -> int:
        """Messages still owed: waiting, retrying, or being sent."""
        row = await self._db.fetch_one(
            "SELECT count(*) AS n FROM outbox WHERE status IN ('pending', 'sending')"
        )
        return row["n"]

    async def counts(self) -> dict[Status, int]:
        rows = await self._db.fetch_all(
            "SELECT status, count(*) AS n FROM outbox GROUP BY status ORDER BY status"
        )
        return {Status(row["status"]): row["n"] for row in rows}

    async def messages(
        self, *, kind: str | None = None, appointment_id: int | None = None
    ) -> list[Message]:
        """What was owed, oldest first: of a kind, about an appointment, or all."""
        rows = await self._db.fetch_all(
            """SELECT * FROM outbox
               WHERE (kind = ?1 OR ?1 IS NULL) AND (appointment_id = ?2 OR ?2 IS NULL)
               ORDER BY id""",
            (kind, appointment_id),
        )
        return [Message.from_row(row) for row in rows]

    async def _set(self, message_id: int, assignment: str, values: tuple[object, ...]) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                f"UPDATE outbox SET {assignment} WHERE id = ?", (*values, message_id)
            )
