"""A consistent copy of the database, taken while the bot keeps writing to it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from storage.sqlite import BUSY_TIMEOUT_MS


def backup_database(source: Path, destination: Path) -> None:
    """Copy ``source`` to ``destination`` (mode 0600) with SQLite's online backup.

    The copy is made in one step, that is inside one read transaction: in WAL mode the bot's
    writes go on meanwhile, and the copy is the database as it was when the step began. (A
    copy made a few pages at a time would start over at every write of the bot, and might
    never end on a busy day.) It is written next to ``destination`` and renamed over it, so
    ``destination`` is always either the previous backup or a whole new one.
    """
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)  # left by a backup that was killed
    # The copy holds what the database holds: nobody else may read it, not even while it is
    # being written. SQLite gives its journal the file's own mode.
    os.close(os.open(partial, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with (
            contextlib.closing(
                # mode=rw: a mistyped path is an error, not a new empty database.
                sqlite3.connect(
                    f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
                )
            ) as origin,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            origin.backup(copy)
            # A WAL database opens read-only only beside its -shm: a backup is a plain file,
            # readable as it is from a read-only disk or by `sqlite3 -readonly`.
            copy.execute("PRAGMA journal_mode = DELETE")
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
