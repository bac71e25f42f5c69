"""The write-ahead log is copied back by the store's own thread, not in a commit."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from storage import Store
from storage.checkpoint import BACKSTOP, EVERY
from tests.conftest import MONDAY_9AM


async def test_the_log_is_copied_back_by_the_stores_thread_not_by_a_commit(tmp_path: Path):
    path = tmp_path / "secretary.sqlite3"
    store = await Store.open(path)
    written = 20 * EVERY
    try:
        (autocheckpoint,) = await store.db.fetch_one("PRAGMA wal_autocheckpoint")
        assert autocheckpoint == BACKSTOP  # far more pages than these writes make
        for number in range(written):
            if number % EVERY == 0:
                # A pause between bursts of updates: the copy started last ends in it.
                await store.db.checkpointed()
            await store.people.seen(
                10_000 + number,
                first_name=f"Visitor{number}",
                last_name=None,
                username=None,
                language="fr",
                now=MONDAY_9AM + timedelta(minutes=number),
            )
        await store.db.checkpointed()
        # The database file itself, as if there were no log: what the copies put in it.
        with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as raw:
            (copied,) = raw.execute("SELECT count(*) FROM people").fetchone()
        # Everything but what was written after the last copy started.
        assert written - EVERY <= copied <= written
    finally:
        await store.close()
    assert not path.with_name(path.name + "-wal").exists()  # closed: SQLite copied the rest
