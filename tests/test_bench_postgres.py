"""What bench.postgres stands on: its bulk loader writes what the bot reads and leaves the
appointments' indexes, constraints and triggers as the migrations made them; the query plans
of what the store ran are PostgreSQL's own, a table read whole flagged."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bench.dataset import Span
from bench.postgres import _LATER, load
from storage.db import Duplicate
from storage.plans import explain, recorded

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

START = datetime(2027, 1, 4, tzinfo=UTC)
NOW = START + timedelta(days=2, hours=12)


def _schema(url: str) -> tuple[list[tuple], list[tuple]]:
    with psycopg.connect(url) as connection:
        later = connection.execute(_LATER).fetchall()
        triggers = connection.execute(
            """SELECT tgname, tgenabled FROM pg_trigger
               WHERE tgrelid = 'appointments'::regclass AND NOT tgisinternal ORDER BY 1"""
        ).fetchall()
    return sorted(later), triggers


async def test_the_loader_writes_the_dataset_and_leaves_the_schema_whole(store, settings):
    before = _schema(settings.database)
    first, second = store.business_ids.values()
    spans = [Span(first, second, START, 5, 4)]

    written = load(settings.database, spans, NOW, limit=None, patients=3)

    assert written == 2 * 5 * 4
    assert _schema(settings.database) == before
    rows = await store.db.fetch_all(
        "SELECT business_id, status, patient_id FROM appointments ORDER BY id"
    )
    assert len(rows) == written
    assert {row["business_id"] for row in rows} == {first, second}
    assert {row["status"] for row in rows} <= {"done", "confirmed", "requested"}
    assert "done" in {row["status"] for row in rows}
    people = await store.db.fetch_all("SELECT telegram_id, patient FROM people ORDER BY 1")
    assert [tuple(person) for person in people] == [(1, 1), (2, 1), (3, 1)]
    # The search reads what was loaded: two practitioners side by side, half-hour slots.
    busy = await store.busy.overlapping(first, START + timedelta(days=4), START + timedelta(days=5))
    assert len(busy) == 4

    # The exclusion constraint is back: a held time loaded is refused by the database itself.
    held = await store.db.fetch_one(
        """SELECT practitioner, starts_at, ends_at FROM appointments
           WHERE status IN ('requested', 'confirmed') ORDER BY id LIMIT 1"""
    )
    with pytest.raises(Duplicate):
        async with store.db.transaction() as db:
            await db.execute(
                """INSERT INTO appointments (business_id, practitioner, service, starts_at,
                       ends_at, status, source, created_at, updated_at)
                   VALUES (?, ?, 'consultation', ?, ?, 'confirmed', 'phone', 0, 0)""",
                (first, held["practitioner"], held["starts_at"] + 60, held["ends_at"] + 60),
            )
    # ANALYZE ran: the planner knows how many rows there are.
    with psycopg.connect(settings.database) as connection:
        counted = connection.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'appointments'::regclass"
        ).fetchone()
    assert counted == (written,)


async def test_the_plans_of_what_the_store_ran_come_from_the_server(store):
    """Whether the planner reads a table this small by an index is its own choice: only
    the statement counted without one is sure to be read whole."""
    async with recorded(store.db) as statements:
        await store.appointments.get(7)
        await store.appointments.get(8)
        await store.db.fetch_all(
            "SELECT COUNT(*) FROM appointments WHERE status = ? AND service = ?",
            ("done", "consultation"),
        )
    assert ("SELECT * FROM appointments WHERE id = ?", (7,)) in statements
    assert store.db.counts.tracing is None

    plans = await explain(store.db, statements)

    # One plan for each shape, its values shown as ``?``; read by an index or not.
    by_id, count = plans
    assert by_id.sql == "SELECT * FROM appointments WHERE id = ?"
    assert count.sql == "SELECT COUNT(*) FROM appointments WHERE status = ? AND service = ?"
    assert any("Seq Scan on appointments" in step for step in count.steps)
    assert count.scans() != []
    assert "on appointments" in by_id.steps[0]
