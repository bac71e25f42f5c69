"""A patient's rights over what the store holds about them: everything gathered for an export,
erasure in one transaction, and the retention purge of what is older than config keeps.

Tables are named here on purpose: erasure must reach every row that names a person, and a
table added later that names one is found through its foreign key (``_other_references``)
rather than forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from storage.appointments import HOLDING, Appointment, HistoryEntry, Status, record_history
from storage.audit import AuditEntry, AuditLog
from storage.db import Connection, Database, Row, from_epoch, from_epoch_or_none, to_epoch
from storage.outbox import Message, Outbox, Owed
from storage.people import Person
from storage.threads import Thread, ThreadMessage
from storage.waitlist import Entry

# What erasure writes in a cancelled appointment's history, and the audit log's action.
ERASED_NOTE = "erased at the patient's request"
ERASE_ACTION = "person.erase"
# Appointments, thread messages forgotten by one retention pass at most: one pass never holds
# the database for long, the next minute's goes on.
PURGE_BATCH = 500

_HOLDING_SQL = ", ".join(f"'{s}'" for s in HOLDING)
# Tables erasure and the purge deal with by name; any other table that names a person or an
# appointment is handled generically (see ``erase`` and ``purge``).
_PERSON_TABLES = frozenset({"appointments", "threads", "mail_merge_recipients"})
_APPOINTMENT_TABLES = frozenset(
    {"appointment_history", "inbox_messages", "reminders_sent", "escalations", "outbox"}
)


@dataclass(frozen=True)
class Booked:
    """One of the patient's appointments, with its history and the reminders it was sent."""

    appointment: Appointment
    history: list[HistoryEntry]
    reminders: list[tuple[int, datetime | None]]  # (minutes before, sent at)


@dataclass(frozen=True)
class Conversation:
    """A thread with the office and its messages."""

    thread: Thread
    messages: list[ThreadMessage]


@dataclass(frozen=True)
class MailCopy:
    """A mail merge's copy addressed to the patient."""

    merge_id: int
    business_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class PatientData:
    """Everything the store holds about one Telegram user (``person`` None: nothing kept)."""

    telegram_id: int
    person: Person | None
    appointments: list[Booked]
    conversations: list[Conversation]
    mail: list[MailCopy]
    messages_owed: list[Message]  # what the bot owed them, sent or not
    audit: list[AuditEntry]  # entries about them or their appointments
    waitlist: list[Entry]  # what they wait for, and what they waited for
    session: bool  # something half done is kept for them (a draft, a question asked)


@dataclass(frozen=True)
class Erased:
    cancelled: list[Appointment]  # future appointments freed, the office told
    anonymised: int  # appointments kept for the business's records, without them
    messages: int  # thread messages deleted


@dataclass(frozen=True)
class Purged:
    appointments: int
    messages: int
    threads: int


# What erasing a future appointment owes (the office told which time is free again).
Tell = Callable[[Appointment], Iterable[Owed]]


class Privacy:
    def __init__(self, db: Database, outbox: Outbox, audit: AuditLog):
        self._db = db
        self._outbox = outbox
        self._audit = audit

    async def gather(self, telegram_id: int) -> PatientData:
        """Everything about ``telegram_id``, and nothing about anyone else."""
        person = await self._db.fetch_one(
            "SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)
        )
        appointments = [
            Appointment.from_row(row)
            for row in await self._db.fetch_all(
                "SELECT * FROM appointments WHERE patient_id = ? ORDER BY starts_at, id",
                (telegram_id,),
            )
        ]
        ids = [a.id for a in appointments]
        history = await self._by_appointment(
            ids,
            """SELECT appointment_id, at, actor, from_status, to_status, note
               FROM appointment_history WHERE appointment_id IN ({}) ORDER BY id""",
        )
        reminders = await self._by_appointment(
            ids,
            """SELECT appointment_id, offset_minutes, sent_at FROM reminders_sent
               WHERE appointment_id IN ({}) AND skipped = 0 ORDER BY claimed_at""",
        )
        booked = [
            Booked(
                appointment,
                [HistoryEntry.from_row(row) for row in history.get(appointment.id, [])],
                [
                    (row["offset_minutes"], from_epoch_or_none(row["sent_at"]))
                    for row in reminders.get(appointment.id, [])
                ],
            )
            for appointment in appointments
        ]
        conversations = []
        for row in await self._db.fetch_all(
            "SELECT * FROM threads WHERE patient_id = ? ORDER BY id", (telegram_id,)
        ):
            messages = await self._db.fetch_all(
                "SELECT * FROM thread_messages WHERE thread_id = ? ORDER BY id", (row["id"],)
            )
            conversations.append(
                Conversation(Thread.from_row(row), [ThreadMessage.from_row(m) for m in messages])
            )
        mail = [
            MailCopy(row["merge_id"], row["business_id"], row["text"], from_epoch(row["at"]))
            for row in await self._db.fetch_all(
                """SELECT r.merge_id, m.business_id, r.text, m.created_at AS at
                   FROM mail_merge_recipients r JOIN mail_merges m ON m.id = r.merge_id
                   WHERE r.patient_id = ? ORDER BY r.merge_id""",
                (telegram_id,),
            )
        ]
        owed = [
            Message.from_row(row)
            for row in await self._db.fetch_all(
                "SELECT * FROM outbox WHERE chat_id = ? ORDER BY id", (telegram_id,)
            )
        ]
        targets = [f"person:{telegram_id}", *(f"appointment:{i}" for i in ids)]
        audit = await self._audit.about(telegram_id, targets)
        session = await self._db.fetch_one(
            "SELECT 1 FROM user_sessions WHERE user_id = ?", (telegram_id,)
        )
        waitlist = [
            Entry.from_row(row)
            for row in await self._db.fetch_all(
                "SELECT * FROM waitlist_entries WHERE patient_id = ? ORDER BY id", (telegram_id,)
            )
        ]
        return PatientData(
            telegram_id=telegram_id,
            person=Person.from_row(person) if person else None,
            appointments=booked,
            conversations=conversations,
            mail=mail,
            messages_owed=owed,
            audit=audit,
            waitlist=waitlist,
            session=session is not None,
        )

    async def _by_appointment(self, ids: list[int], sql: str) -> dict[int, list[Row]]:
        if not ids:
            return {}
        rows = await self._db.fetch_all(sql.format(", ".join("?" * len(ids))), ids)
        found: dict[int, list[Row]] = {}
        for row in rows:
            found.setdefault(row["appointment_id"], []).append(row)
        return found

    async def erase(self, telegram_id: int, *, now: datetime, tell: Tell) -> Erased:
        """Forget the person, in one transaction.

        Future appointments that hold a slot are cancelled (what ``tell`` owes is written with
        them); every appointment of theirs stays for the business's records without the link
        to them, their name or number; their threads, messages, mail-merge copies, what the bot
        owed them and their kept session go; one audit entry (ids only) says it was done.
        Erasing someone the store does not know changes nothing but that entry.
        """
        stamp = to_epoch(now)
        others = await _other_references(self._db, "people", _PERSON_TABLES)
        async with self._db.transaction() as db:
            cancelled = await _cancel_future(db, telegram_id, stamp)
            async with db.execute(
                "SELECT id FROM appointments WHERE patient_id = ? ORDER BY id", (telegram_id,)
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
            marks = ", ".join("?" * len(ids))
            if ids:
                # The patient's own steps (booked, cancelled) named them as the actor.
                await db.execute(
                    f"""UPDATE appointment_history SET actor = NULL
                        WHERE actor = ? AND appointment_id IN ({marks})""",
                    (telegram_id, *ids),
                )
            await db.execute(
                """UPDATE appointments SET patient_id = NULL, caller_name = NULL,
                       caller_phone = NULL
                   WHERE patient_id = ?""",
                (telegram_id,),
            )
            messages = await _delete_threads(
                self._db, db, "SELECT id FROM threads WHERE patient_id = ?", (telegram_id,)
            )
            await db.execute(
                "DELETE FROM mail_merge_recipients WHERE patient_id = ?", (telegram_id,)
            )
            # What was owed to them, sent or not, and what told the office about them.
            await db.execute("DELETE FROM outbox WHERE chat_id = ?", (telegram_id,))
            await db.execute(
                f"DELETE FROM outbox WHERE {self._db.json_integer('payload', 'patient_id')} = ?",
                (telegram_id,),
            )
            await db.execute("DELETE FROM user_sessions WHERE user_id = ?", (telegram_id,))
            # A table added later that names a person (a waitlist): its rows are theirs.
            for table, column in others:
                await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (telegram_id,))
            await db.execute("DELETE FROM people WHERE telegram_id = ?", (telegram_id,))
            await self._outbox.write(db, [o for a in cancelled for o in tell(a)], now)
            await self._audit.write(
                db,
                telegram_id,
                ERASE_ACTION,
                f"person:{telegram_id}",
                None,
                {"cancelled": [a.id for a in cancelled], "anonymised": ids},
                now,
            )
        return Erased(cancelled, len(ids), messages)

    async def purge(
        self,
        *,
        appointments_before: datetime,
        messages_before: datetime,
        limit: int = PURGE_BATCH,
    ) -> Purged:
        """Forget appointments that ended before ``appointments_before`` (with their history
        and what was owed about them) and thread messages written before ``messages_before``
        (a thread left with none goes too). A patient left with nothing becomes a visitor
        again, forgotten by ``People.purge_visitors`` once unseen for long enough."""
        guards = "".join(
            f" AND NOT EXISTS (SELECT 1 FROM {table} WHERE {column} = a.id)"
            for table, column in await _other_references(
                self._db, "appointments", _APPOINTMENT_TABLES
            )
        )
        async with self._db.transaction() as db:
            async with db.execute(
                f"""SELECT id, patient_id FROM appointments a
                    WHERE ends_at < ?{guards}
                    ORDER BY ends_at LIMIT ?""",
                (to_epoch(appointments_before), limit),
            ) as cursor:
                rows = await cursor.fetchall()
            gone = [(row["id"],) for row in rows]
            for table in sorted(_APPOINTMENT_TABLES):
                await db.executemany(f"DELETE FROM {table} WHERE appointment_id = ?", gone)
            await db.executemany("DELETE FROM appointments WHERE id = ?", gone)
            cursor = await db.execute(
                """DELETE FROM thread_messages WHERE id IN (
                        SELECT id FROM thread_messages WHERE created_at < ?
                        ORDER BY created_at, id LIMIT ?)""",
                (to_epoch(messages_before), limit),
            )
            messages = cursor.rowcount
            threads = await _delete_empty_threads(self._db, db)
            patients = {row["patient_id"] for row in rows if row["patient_id"] is not None}
            await db.executemany(
                """UPDATE people SET patient = 0 WHERE telegram_id = ?
                   AND NOT EXISTS (SELECT 1 FROM appointments WHERE patient_id = telegram_id)
                   AND NOT EXISTS (
                       SELECT 1 FROM mail_merge_recipients WHERE patient_id = telegram_id)""",
                [(patient,) for patient in patients],
            )
        return Purged(len(gone), messages, threads)


async def _cancel_future(db: Connection, telegram_id: int, stamp: int) -> list[Appointment]:
    async with db.execute(
        f"""SELECT * FROM appointments
            WHERE patient_id = ? AND starts_at > ? AND status IN ({_HOLDING_SQL})
            ORDER BY starts_at""",
        (telegram_id, stamp),
    ) as cursor:
        future = [Appointment.from_row(row) for row in await cursor.fetchall()]
    for appointment in future:
        await db.execute(
            "UPDATE appointments SET status = ?, updated_at = ? WHERE id = ?",
            (Status.CANCELLED, stamp, appointment.id),
        )
        await record_history(
            db, appointment.id, stamp, None, appointment.status, Status.CANCELLED, ERASED_NOTE
        )
    # As the office will read them once this commits: without the patient.
    return [
        replace(
            a,
            status=Status.CANCELLED,
            patient_id=None,
            caller_name=None,
            caller_phone=None,
            updated_at=from_epoch(stamp),
        )
        for a in future
    ]


async def _delete_threads(
    database: Database, db: Connection, which: str, parameters: tuple[Any, ...]
) -> int:
    """Delete the threads ``which`` selects, their messages, and the messages that told the
    office of them (a secretary replying to one afterwards finds nothing to answer)."""
    async with db.execute(which, parameters) as cursor:
        threads = [(row[0],) for row in await cursor.fetchall()]
    deleted = 0
    for (thread_id,) in threads:
        cursor = await db.execute("DELETE FROM thread_messages WHERE thread_id = ?", (thread_id,))
        deleted += cursor.rowcount
    await db.executemany(
        f"DELETE FROM outbox WHERE {database.json_integer('payload', 'thread_id')} = ?", threads
    )
    await db.executemany("DELETE FROM threads WHERE id = ?", threads)
    return deleted


async def _delete_empty_threads(database: Database, db: Connection) -> int:
    """Closed threads whose every message the retention purge took."""
    which = """SELECT id FROM threads t WHERE closed_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM thread_messages m WHERE m.thread_id = t.id)"""
    async with db.execute(f"SELECT count(*) FROM ({which}) AS empty") as cursor:
        (count,) = await cursor.fetchone()
    await _delete_threads(database, db, which, ())
    return count


async def _other_references(
    database: Database, table: str, known: frozenset[str]
) -> list[tuple[str, str]]:
    """Every (table, column) whose foreign key names a row of ``table``, but ``known``."""
    return [found for found in await database.references(table) if found[0] not in known]
