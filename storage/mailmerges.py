"""Mail merges: one text to many patients, each copy sent exactly once.

The run, its mission, each recipient's text and one outbox row per recipient (kind
``COPY_KIND``) are written in one transaction; the deliverer (``handlers.delivery``) sends
the copies, and what became of each is its outbox row's status. The kind's policy never
sends again a copy whose answer never came, nor one a stopped bot was sending: it is
``uncertain``, counted and shown as such. So nobody ever gets two copies; at worst the few
being sent at the instant of a crash may get none. The primary key (merge, patient) makes a
second recipient row for the same patient impossible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.db import Connection, Database, Row, from_epoch, from_epoch_or_none, to_epoch
from storage.missions import MissionStatus, NewMission, insert_mission
from storage.outbox import Outbox, Owed

# The outbox kind of a recipient's copy (bot.outbox gives it its policy).
COPY_KIND = "mail_merge"


class RecipientStatus(StrEnum):
    """A copy's outbox status, as the secretary is told it."""

    PENDING = "pending"
    CLAIMED = "claimed"  # being sent
    SENT = "sent"
    BLOCKED = "blocked"  # the patient blocked the bot: skipped
    FAILED = "failed"  # refused for good (no such chat, ...), or too old to send
    UNKNOWN = "unknown"  # the answer never came: maybe arrived, never sent again


# The outbox records every refusal as 'failed' with Telegram's description; only a 403's
# begins "Forbidden:" (the patient blocked the bot or is gone), a skip rather than a failure.
_RECIPIENT_STATUS = """CASE o.status WHEN 'pending' THEN 'pending'
                                     WHEN 'sending' THEN 'claimed'
                                     WHEN 'sent' THEN 'sent'
                                     WHEN 'uncertain' THEN 'unknown'
                                     WHEN 'failed' THEN
                                         CASE WHEN o.error LIKE 'Forbidden:%' THEN 'blocked'
                                              ELSE 'failed' END
                                     ELSE 'failed' END"""


@dataclass(frozen=True)
class Recipient:
    """Someone a mail merge may write to, and what its placeholders say about them."""

    patient_id: int
    first_name: str
    starts_at: datetime | None = None  # the appointment {date} and {heure} name


@dataclass(frozen=True)
class MailMerge:
    id: int
    business_id: int
    mission_id: int
    audience: str
    template: str
    language: str
    status: str
    created_by: int
    created_at: datetime
    finished_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> MailMerge:
        return cls(
            id=row["id"],
            business_id=row["business_id"],
            mission_id=row["mission_id"],
            audience=row["audience"],
            template=row["template"],
            language=row["language"],
            status=row["status"],
            created_by=row["created_by"],
            created_at=from_epoch(row["created_at"]),
            finished_at=from_epoch_or_none(row["finished_at"]),
            progress_chat_id=row["progress_chat_id"],
            progress_message_id=row["progress_message_id"],
        )


@dataclass(frozen=True)
class Counts:
    pending: int = 0
    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0

    @property
    def left(self) -> int:
        return self.pending + self.claimed


# Appointments that count as a visit, and as "an appointment on that day".
_SEEN = "('confirmed', 'done')"
_BOOKED = "('requested', 'confirmed', 'done')"


class MailMerges:
    def __init__(self, db: Database, outbox: Outbox):
        self._db = db
        self._outbox = outbox

    # -- audiences -------------------------------------------------------------------------

    async def everyone(self, business_id: int) -> list[Recipient]:
        """Patients bound to the business by its link, or who had an appointment there."""
        rows = await self._db.fetch_all(
            # A UNION, not an OR: each half reads its own index instead of every person.
            """SELECT telegram_id, first_name FROM people WHERE business_id = ?1
               UNION
               SELECT telegram_id, first_name FROM people WHERE telegram_id IN (
                   SELECT patient_id FROM appointments
                   WHERE business_id = ?1 AND patient_id IS NOT NULL)
               ORDER BY telegram_id""",
            (business_id,),
        )
        return [Recipient(row[0], row[1]) for row in rows]

    async def booked_between(
        self, business_id: int, first: datetime, last: datetime
    ) -> list[Recipient]:
        """Patients with an appointment starting in [first, last), with their first one."""
        return await self._with_appointment(business_id, first, last, _BOOKED, "MIN")

    async def seen_between(
        self, business_id: int, first: datetime, last: datetime
    ) -> list[Recipient]:
        """Patients who came in [first, last), with their last visit."""
        return await self._with_appointment(business_id, first, last, _SEEN, "MAX")

    async def _with_appointment(
        self, business_id: int, first: datetime, last: datetime, statuses: str, pick: str
    ) -> list[Recipient]:
        rows = await self._db.fetch_all(
            f"""SELECT p.telegram_id, p.first_name, {pick}(a.starts_at)
                FROM appointments a JOIN people p ON p.telegram_id = a.patient_id
                WHERE a.business_id = ? AND a.status IN {statuses}
                  AND a.starts_at >= ? AND a.starts_at < ?
                GROUP BY p.telegram_id ORDER BY p.telegram_id""",
            (business_id, to_epoch(first), to_epoch(last)),
        )
        return [Recipient(row[0], row[1], from_epoch(row[2])) for row in rows]

    # -- runs ------------------------------------------------------------------------------

    async def create(
        self,
        *,
        business_id: int,
        audience: str,
        template: str,
        language: str,
        texts: Sequence[tuple[int, str]],
        mission: NewMission,
        now: datetime,
        actor: int,
    ) -> MailMerge:
        """A run with its recipients' texts, recorded as a started mission, and each
        recipient's copy owed in the outbox, all at once."""
        async with self._db.transaction() as db:
            recorded = await insert_mission(db, mission, MissionStatus.STARTED, now, actor)
            cursor = await db.execute(
                """INSERT INTO mail_merges (business_id, mission_id, audience, template, language,
                                            status, created_by, created_at)
                   VALUES (?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id""",
                (business_id, recorded.id, audience, template, language, actor, to_epoch(now)),
            )
            (merge_id,) = await cursor.fetchone()
            async with db.execute("SELECT coalesce(max(id), 0) FROM outbox") as cursor:
                (last,) = await cursor.fetchone()
            copies = [
                Owed(COPY_KIND, patient_id, payload={"merge_id": merge_id}, bulk=True)
                for patient_id, _ in texts
            ]
            await self._outbox.write(db, copies, now)
            # The rows after the last that name this run are ours, in the order written
            # (another worker's rows may be interleaved on a server: theirs name their run).
            async with db.execute(
                "SELECT id FROM outbox WHERE id > ? AND kind = ? AND payload = ? ORDER BY id",
                (last, COPY_KIND, copies[0].payload_text() if copies else ""),
            ) as cursor:
                outbox_ids = [row[0] for row in await cursor.fetchall()]
            await db.executemany(
                """INSERT INTO mail_merge_recipients (merge_id, patient_id, position, text,
                                                      outbox_id)
                   VALUES (?, ?, ?, ?, ?)""",
                [
                    (merge_id, patient_id, position, text, outbox_id)
                    for outbox_id, (position, (patient_id, text)) in zip(
                        outbox_ids, enumerate(texts), strict=True
                    )
                ],
            )
            return await _fetch_merge(db, merge_id)

    async def get(self, merge_id: int) -> MailMerge | None:
        row = await self._db.fetch_one("SELECT * FROM mail_merges WHERE id = ?", (merge_id,))
        return MailMerge.from_row(row) if row else None

    async def running(self) -> list[MailMerge]:
        rows = await self._db.fetch_all(
            "SELECT * FROM mail_merges WHERE status = 'running' ORDER BY id"
        )
        return [MailMerge.from_row(row) for row in rows]

    async def set_progress_message(self, merge_id: int, chat_id: int, message_id: int) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                """UPDATE mail_merges SET progress_chat_id = ?, progress_message_id = ?
                   WHERE id = ?""",
                (chat_id, message_id, merge_id),
            )

    async def text(self, merge_id: int, patient_id: int) -> str | None:
        """The text previewed for this recipient, sent as their copy."""
        row = await self._db.fetch_one(
            "SELECT text FROM mail_merge_recipients WHERE merge_id = ? AND patient_id = ?",
            (merge_id, patient_id),
        )
        return row["text"] if row else None

    async def counts(self, merge_id: int) -> Counts:
        rows = await self._db.fetch_all(
            f"""SELECT {_RECIPIENT_STATUS} AS status, COUNT(*)
                FROM mail_merge_recipients r JOIN outbox o ON o.id = r.outbox_id
                WHERE r.merge_id = ? GROUP BY 1""",
            (merge_id,),
        )
        return Counts(**{row[0]: row[1] for row in rows})

    async def statuses(self, merge_id: int) -> dict[int, RecipientStatus]:
        rows = await self._db.fetch_all(
            f"""SELECT r.patient_id, {_RECIPIENT_STATUS}
                FROM mail_merge_recipients r JOIN outbox o ON o.id = r.outbox_id
                WHERE r.merge_id = ?""",
            (merge_id,),
        )
        return {row[0]: RecipientStatus(row[1]) for row in rows}

    async def finish(self, merge_id: int, *, now: datetime) -> bool:
        """Close a run whose copies are all delivered or final, and its mission is done.

        Returns False (and changes nothing) while a copy is still owed.
        """
        async with self._db.transaction() as db:
            async with db.execute(
                """SELECT 1 FROM mail_merge_recipients r JOIN outbox o ON o.id = r.outbox_id
                   WHERE r.merge_id = ? AND o.status IN ('pending', 'sending') LIMIT 1""",
                (merge_id,),
            ) as cursor:
                if await cursor.fetchone():
                    return False
            merge = await _fetch_merge(db, merge_id)
            if merge.status == "finished":
                return True
            stamp = to_epoch(now)
            await db.execute(
                "UPDATE mail_merges SET status = 'finished', finished_at = ? WHERE id = ?",
                (stamp, merge_id),
            )
            await db.execute(
                """UPDATE missions SET status = 'done', done_at = ?
                   WHERE id = ? AND status IN ('open', 'started')""",
                (stamp, merge.mission_id),
            )
            return True


async def _fetch_merge(db: Connection, merge_id: int) -> MailMerge:
    async with db.execute("SELECT * FROM mail_merges WHERE id = ?", (merge_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise LookupError(f"no mail merge {merge_id}")
    return MailMerge.from_row(row)
