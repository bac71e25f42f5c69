"""A business's busy time as the free-slot search reads it: when, and for whom.

An offer reads every appointment that holds its slot and every block in force over the
booking horizon, hundreds of rows on a full agenda: one query for both, three columns a
row, rather than whole appointments and blocks it would not look at.
"""

from __future__ import annotations

from datetime import datetime

from storage.appointments import _LATEST_START_SQL, HOLDING
from storage.db import Database, Row, to_epoch

_HOLDING = ", ".join(f"'{status}'" for status in HOLDING)
# As for appointments: a block overlapping [start, end) started after start minus the
# business's longest block, so the starts read are bounded on both sides.
_BLOCK_LATEST_START_SQL = """starts_at > ?2 - (
    SELECT COALESCE(MAX(ends_at - starts_at), 0) FROM blocks
    WHERE business_id = ?1 AND removed_at IS NULL)"""


class BusyTimes:
    def __init__(self, db: Database):
        self._db = db

    async def overlapping(self, business_id: int, start: datetime, end: datetime) -> list[Row]:
        """What holds time in [start, end): the appointments ``Appointments.holding`` gives
        and the blocks ``Blocks.overlapping`` gives, in no order. Each row unpacks as
        (starts_at, ends_at, practitioner) in UTC epoch seconds, as stored, practitioner
        None for a block of the whole business: the search compares numbers, and a thousand
        rows turned into objects and datetimes and back cost more than the search itself."""
        return await self._db.fetch_all(
            f"""SELECT starts_at, ends_at, practitioner FROM appointments
                WHERE business_id = ?1 AND status IN ({_HOLDING})
                  AND {_LATEST_START_SQL} AND starts_at < ?3 AND ends_at > ?2
                UNION ALL
                SELECT starts_at, ends_at, practitioner FROM blocks
                WHERE business_id = ?1 AND removed_at IS NULL
                  AND {_BLOCK_LATEST_START_SQL} AND starts_at < ?3 AND ends_at > ?2""",
            (business_id, to_epoch(start), to_epoch(end)),
        )
