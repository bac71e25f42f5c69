"""The reminder sweep's query over 1,000,000 stored appointments, a handful due.

100 businesses, two practitioners each, two years of appointments; the sweep runs in the
middle of them. Every appointment in the next 48 hours already had its reminder but for a
handful, as in steady state. Prints the sweep's time and the query plan.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.dataset import Span, fill, remind_all_but
from storage import Store
from storage.reminders import ReminderPlan

APPOINTMENTS = 1_000_000
BUSINESSES = 100
DAYS = 730
DUE = 5
OFFSETS = (timedelta(hours=48), timedelta(hours=2))
START = datetime(2026, 1, 5, tzinfo=UTC)
NOW = START + timedelta(days=DAYS // 2, hours=9, minutes=3)


def _fill(path: Path) -> tuple[int, int]:
    span = Span(1, BUSINESSES, START, DAYS, APPOINTMENTS // (BUSINESSES * DAYS) + 1)
    stored = fill(path, [span], NOW, limit=APPOINTMENTS)
    return stored, remind_all_but(path, NOW, DUE)


async def _measure(path: Path) -> None:
    store = await Store.open(path, [(f"business-{i}", f"Business {i}") for i in range(1, 101)])
    await store.close()
    started = time.perf_counter()
    stored, window = _fill(path)
    print(
        f"filled {stored:,} appointments ({window:,} confirmed in the next 48 h) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    store = await Store.open(path)
    plans = [ReminderPlan(OFFSETS)]
    due = await store.reminders.due(NOW, plans)
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        due = await store.reminders.due(NOW, plans)
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"sweep query: {len(due)} due; median {statistics.median(timings):.2f} ms, "
        f"max {max(timings):.2f} ms over {len(timings)} runs (target <= 50 ms)"
    )
    await store.close()

    with sqlite3.connect(path) as db:
        plan = db.execute(
            """EXPLAIN QUERY PLAN SELECT a.* FROM appointments a
               WHERE a.status = 'confirmed' AND a.starts_at > ? AND a.starts_at <= ?
                 AND a.patient_id IS NOT NULL AND a.scheduled_at <= a.starts_at - ?
                 AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.appointment_id = a.id
                                 AND r.starts_at = a.starts_at AND r.offset_minutes <= ?)
               ORDER BY a.starts_at""",
            (0, 0, 0, 0),
        ).fetchall()
    print("query plan:")
    for row in plan:
        print(f"  {row[-1]}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as folder:
        asyncio.run(_measure(Path(folder) / "bench.sqlite3"))


if __name__ == "__main__":
    main()
