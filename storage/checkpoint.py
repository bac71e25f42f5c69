"""The write-ahead log copied back into the database file in a thread of its own.

SQLite does it by itself, in the commit that finds the log past 1,000 pages: on a large file
that commit writes and syncs megabytes, about 10 ms while the event loop waits, once every few
dozen bookings. Here a thread does it instead: every ``EVERY`` write transactions (about as
many pages as SQLite waits for: a booking writes some twenty), a connection of its own
checkpoints in PASSIVE mode, which never waits for nor blocks the bot's readers and writers.
SQLite lets the log grow meanwhile, and starts it over at the first write that finds all of
it copied back: a checkpoint that left some behind (what was committed while it ran) is
followed at once by another, which has only that little to copy, until one leaves nothing
(``ROUNDS`` at most). Should the log still not be started over (a write at each instant),
SQLite's own checkpoint in the commit stays as a backstop, at ``BACKSTOP`` pages instead of
1,000: by then most of the log is copied already. The log file keeps its largest size once
reached, so its size would not tell when one is due.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)

EVERY = 50
ROUNDS = 10
BACKSTOP = 10_000


class Checkpointer:
    def __init__(self, path: Path):
        self._path = path
        self._commits = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Future[None] | None = None

    def committed(self) -> None:
        """After each commit: a checkpoint started when one is due and none is running."""
        self._commits += 1
        if self._commits < EVERY or (self._running is not None and not self._running.done()):
            return
        self._commits = 0
        self._running = asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    str(self._path), isolation_level=None, check_same_thread=False
                )
            for _ in range(ROUNDS):
                busy, frames, copied = self._connection.execute(
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).fetchall()[0]
                if not busy and copied >= frames:
                    return
        except sqlite3.Error:
            # Tried again EVERY write transactions later; the log only grows meanwhile.
            log.exception("checkpoint of the write-ahead log failed")

    async def idle(self) -> None:
        """Once the checkpoint running, if any, is over."""
        if self._running is not None:
            await self._running

    async def close(self) -> None:
        await self.idle()
        if self._connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._connection.close)
        self._thread.shutdown(wait=True)
