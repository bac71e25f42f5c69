"""The audit log: every secretary action, who did it, when, and the state before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from storage.db import Connection, Database, Row, from_epoch, to_epoch


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: int
    action: str
    target: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_plain)


def _plain(value: object) -> str:
    """Instants in UTC, ISO 8601: the log reads the same whatever zone the caller used."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} does not belong in the audit log")


# An entry's business is its target's row's: see ``AuditLog.of_business``.
OF_BUSINESS = """
WITH entries AS (
    SELECT *,
           substr(target, 1, instr(target, ':') - 1) AS kind,
           CAST(substr(target, instr(target, ':') + 1) AS INTEGER) AS target_id
    FROM audit_log
    WHERE at >= ? AND at < ? AND target IS NOT NULL
)
SELECT entries.* FROM entries
LEFT JOIN appointments a ON entries.kind = 'appointment' AND a.id = target_id
LEFT JOIN blocks b ON entries.kind = 'block' AND b.id = target_id
LEFT JOIN calls c ON entries.kind = 'call' AND c.id = target_id
LEFT JOIN missions m ON entries.kind = 'mission' AND m.id = target_id
WHERE coalesce(a.business_id, b.business_id, c.business_id, m.business_id) = ?
ORDER BY entries.at, entries.id
"""
# PostgreSQL has no instr, and its CAST refuses a target whose id is not a number.
OF_BUSINESS_POSTGRES = OF_BUSINESS.replace(
    "substr(target, 1, instr(target, ':') - 1)", "split_part(target, ':', 1)"
).replace(
    "CAST(substr(target, instr(target, ':') + 1) AS INTEGER)",
    "CASE WHEN split_part(target, ':', 2) ~ '^[0-9]{1,18}$'"
    " THEN CAST(split_part(target, ':', 2) AS BIGINT) END",
)


class AuditLog:
    def __init__(self, db: Database):
        self._db = db

    async def record(
        self,
        actor: int,
        action: str,
        target: str | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """``action`` such as ``appointment.confirm``; ``target`` such as ``appointment:12``."""
        async with self._db.transaction() as db:
            await self.write(db, actor, action, target, before, after, now)

    async def write(
        self,
        connection: Connection,
        actor: int,
        action: str,
        target: str | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """An entry inside the caller's transaction: it commits with the change it records."""
        await connection.execute(
            """INSERT INTO audit_log (at, actor, action, target, before, after)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (to_epoch(now), actor, action, target, _json(before), _json(after)),
        )

    async def entries(self, *, target: str | None = None) -> list[AuditEntry]:
        """The log, oldest first; only the entries about ``target`` if given."""
        where, parameters = ("WHERE target = ?", (target,)) if target is not None else ("", ())
        rows = await self._db.fetch_all(f"SELECT * FROM audit_log {where} ORDER BY id", parameters)
        return [_entry(row) for row in rows]

    async def about(self, actor: int, targets: list[str]) -> list[AuditEntry]:
        """The entries ``actor`` made or that are about one of ``targets``, oldest first."""
        marks = ", ".join("?" * len(targets)) or "NULL"
        rows = await self._db.fetch_all(
            f"SELECT * FROM audit_log WHERE actor = ? OR target IN ({marks}) ORDER BY id",
            (actor, *targets),
        )
        return [_entry(row) for row in rows]

    async def of_business(
        self, business_id: int, start: datetime, end: datetime
    ) -> list[AuditEntry]:
        """What was done for one business in [start, end), oldest first.

        An entry names its business only through its target (``appointment:12``,
        ``block:3``, ``call:7``, ``mission:5``), whose row holds the business: joined here on
        the primary key, so no entry has to repeat it and the older ones need no back-fill.
        The time range is read through ``audit_log_by_time``.
        """
        sql = OF_BUSINESS_POSTGRES if self._db.dialect == "postgres" else OF_BUSINESS
        rows = await self._db.fetch_all(sql, (to_epoch(start), to_epoch(end), business_id))
        return [_entry(row) for row in rows]


def _entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=from_epoch(row["at"]),
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        before=json.loads(row["before"]) if row["before"] else None,
        after=json.loads(row["after"]) if row["after"] else None,
    )
