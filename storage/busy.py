"""A business's busy time as the free-slot search reads it: when, and for whom.

An offer reads every appointment that holds its slot and every block in force over the
booking horizon, hundreds of rows on a full agenda: one query for both, three columns a
row, rather than whole appointments and blocks it would not look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.appointments import HOLDING
from storage.db import Database, to_epoch

_HOLDING = ", ".join(f"'{status}'" for status in HOLDING)


@dataclass(frozen=True, slots=True)
class BusySpan:
    """In UTC epoch seconds, as stored: the search compares numbers, and a thousand rows
    turned into datetimes and back cost more than it."""

    starts_at: int
    ends_at: int
    practitioner: str | None  # None: a block of the whole business


class BusyTimes:
    def __init__(self, db: Database):
        self._db = db

    async def overlapping(self, business_id: int, start: datetime, end: datetime) -> list[BusySpan]:
        """What holds time in [start, end): the appointments ``Appointments.holding`` gives
        and the blocks ``Blocks.overlapping`` gives, in no order."""
        window = (business_id, to_epoch(end), to_epoch(start))
        rows = await self._db.fetch_all(
            f"""SELECT starts_at, ends_at, practitioner FROM appointments
                WHERE business_id = ? AND starts_at < ? AND ends_at > ?
                  AND status IN ({_HOLDING})
                UNION ALL
                SELECT starts_at, ends_at, practitioner FROM blocks
                WHERE business_id = ? AND removed_at IS NULL AND starts_at < ? AND ends_at > ?""",
            window + window,
        )
        return [BusySpan(*row) for row in rows]
