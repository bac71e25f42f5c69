"""The reminder sweep's query over 1,000,000 stored appointments, a handful due.

100 businesses, two practitioners each, two years of appointments; the sweep runs in the
middle of them. Every appointment in the next 48 hours already had its reminder but for a
handful, as in steady state. Prints the sweep's time and the query plan.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    """Bulk-insert through plain sqlite3: the schema comes from the store's migrations."""
    random.seed(7)
    per_business_day = APPOINTMENTS // (BUSINESSES * DAYS) + 1
    now = int(NOW.timestamp())
    rows = []
    for business in range(1, BUSINESSES + 1):
        for day in range(DAYS):
            opening = int((START + timedelta(days=day, hours=8)).timestamp())
            for slot in range(per_business_day):
                if len(rows) == APPOINTMENTS:
                    break
                start = opening + (slot // 2) * 1800
                status = "done" if start < now else random.choice(("confirmed", "requested"))
                rows.append(
                    (
                        business,
                        ("A", "B")[slot % 2],
                        "consultation",
                        start,
                        start + 1800,
                        status,
                        "patient",
                        1,
                        start - 86400 * 7,
                        start - 86400 * 7,
                        start - 86400 * 7,
                    )
                )
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO people (telegram_id, first_name, language, created_at) "
            "VALUES (1, 'Bench', 'fr', 0)"
        )
        db.executemany(
            """INSERT INTO appointments (business_id, practitioner, service, starts_at, ends_at,
                   status, source, patient_id, created_at, updated_at, scheduled_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        window = db.execute(
            """SELECT id, starts_at FROM appointments WHERE status = 'confirmed'
               AND starts_at > ? AND starts_at <= ? ORDER BY id""",
            (now, now + 48 * 3600),
        ).fetchall()
        reminded = window[DUE:]
        db.executemany(
            """INSERT INTO reminders_sent (appointment_id, offset_minutes, starts_at, claimed_at,
                   sent_at) VALUES (?, ?, ?, ?, ?)""",
            [(i, 2880 if s > now + 7200 else 120, s, now, now) for i, s in reminded],
        )
    return len(rows), len(window)


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
