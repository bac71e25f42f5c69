"""The write-ahead log is copied back by the store's own thread, not in a commit."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from storage import Store
from storage.checkpoint import EVERY
from tests.conftest import MONDAY_9AM


async def test_the_log_is_copied_back_and_started_over_without_a_commit_doing_it(
    tmp_path: Path,
):
    path = tmp_path / "secretary.sqlite3"
    store = await Store.open(path)
    try:
        (autocheckpoint,) = await store.db.fetch_one("PRAGMA wal_autocheckpoint")
        assert autocheckpoint == 0
        wal = path.with_name(path.name + "-wal")
        for number in range(20 * EVERY):
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
        with closing(sqlite3.connect(path)) as raw:
            _, frames, _ = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        # Each write above added pages to the log: had it never been copied back and started
        # over, it would hold more pages than there were writes.
        assert frames < 20 * EVERY
    finally:
        await store.close()
    assert not wal.exists()  # the last connection closed copied what was left, as SQLite does
