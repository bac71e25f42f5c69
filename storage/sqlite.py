"""The SQLite backend: pragmas, migrations, and serialised transactions."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path

import aiosqlite

from storage.checkpoint import BACKSTOP, Checkpointer
from storage.db import Counts, Duplicate, Refused, Statement, migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# The longest the bot's statements keep the event loop without letting other chats in.
TURN = 0.002
MIGRATIONS = "storage.migrations"


class SqliteDatabase:
    """One aiosqlite connection shared by the whole bot.

    Coroutines share the connection, so a multi-statement transaction must not interleave
    with another coroutine's statements: every access goes through one asyncio lock.
    Other processes on the same file are kept out by ``BEGIN IMMEDIATE`` and waited for
    through ``busy_timeout``.
    """

    dialect = "sqlite"
    skip_locked = ""

    def __init__(
        self,
        connection: aiosqlite.Connection,
        counts: _Counts,
        checkpointer: Checkpointer | None = None,
    ):
        self._connection = connection
        self._bound = _Bound(connection)
        self._lock = asyncio.Lock()
        self._turned_at = 0.0
        self.counts = counts
        self._checkpointer = checkpointer

    @classmethod
    async def open(cls, path: str | Path) -> SqliteDatabase:
        """Open (creating it if need be) the database; the file, its -wal and -shm and its
        folder are the owner's alone, whatever they were: the file holds patients' names and
        numbers."""
        on_disk = str(path) != ":memory:"
        if on_disk:
            path = Path(path)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _owner_only(path.parent)
            # Created before SQLite opens it, so it never exists with the umask's mode even
            # for a moment; SQLite gives the -wal and -shm it creates the file's own mode.
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
            _owner_only(path)
        counts = _Counts()
        connection = await _connect(path, counts)
        connection.row_factory = aiosqlite.Row
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        checkpointer = None
        if on_disk:
            # Copied back into the file by a thread of its own (storage.checkpoint).
            await connection.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP}")
            checkpointer = Checkpointer(path)
            # Left by an older version, or made by another process with its own umask.
            for suffix in ("-wal", "-shm"):
                companion = path.with_name(path.name + suffix)
                if companion.exists():
                    _owner_only(companion)
        database = cls(connection, counts, checkpointer)
        await database._migrate()
        return database

    async def checkpointed(self) -> None:
        """Once the copy of the write-ahead log running, if any, is over."""
        if self._checkpointer is not None:
            await self._checkpointer.idle()

    async def close(self) -> None:
        if self._checkpointer is not None:
            await self._checkpointer.close()
        await self._connection.close()

    async def _migrate(self) -> None:
        async with self.transaction() as connection:
            async with connection.execute("PRAGMA user_version") as cursor:
                (version,) = await cursor.fetchone()
            for number, name, script in migrations(MIGRATIONS):
                if number <= version:
                    continue
                log.info("applying migration %s", name)
                for statement in _statements(script):
                    await connection.execute(statement)
                await connection.execute(f"PRAGMA user_version = {number}")

    async def version(self) -> int:
        (version,) = await self.fetch_one("PRAGMA user_version")
        return version

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Bound]:
        """A write transaction: taken at once, so the reads in it stay true until commit."""
        await self._turn()
        async with self._lock:
            self.counts.write_transactions += 1
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._bound
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")
        if self._checkpointer is not None:
            self._checkpointer.committed()

    async def _turn(self) -> None:
        """Let the other tasks run, as aiosqlite's thread did on every call, once the loop
        has been ours for ``TURN`` seconds: a yield a statement cost a loop round each."""
        if time.monotonic() - self._turned_at >= TURN:
            await asyncio.sleep(0)
            self._turned_at = time.monotonic()

    # Reads take the lock too, so they never see another coroutine's half-done transaction.

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[sqlite3.Row]:
        await self._turn()
        async with self._lock, self._bound.execute(sql, parameters) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Sequence[object] = ()) -> sqlite3.Row | None:
        await self._turn()
        async with self._lock, self._bound.execute(sql, parameters) as cursor:
            return await cursor.fetchone()

    async def references(self, table: str) -> list[tuple[str, str]]:
        rows = await self.fetch_all(
            """SELECT m.name, f."from" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
               WHERE m.type = 'table' AND f."table" = ? ORDER BY 1, 2""",
            (table,),
        )
        return [(row[0], row[1]) for row in rows]

    async def tables(self) -> frozenset[str]:
        rows = await self.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return frozenset(row[0] for row in rows)

    def json_integer(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def leader(self, name: str) -> _Alone:
        return _Alone()


class _Alone:
    """One process serves one SQLite file: it does all the work there is."""

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class _Bound:
    """The connection as a transaction hands it out: SQLite's constraint errors become the
    store's own."""

    def __init__(self, connection: aiosqlite.Connection):
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Statement:
        return Statement(self._run(self._connection.execute, sql, parameters))

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        cursor = await self._run(self._connection.executemany, sql, rows)
        await cursor.close()

    def attempt(self) -> AbstractAsyncContextManager[None]:
        return nullcontext()

    def on_commit(self, callback: Callable[[], None]) -> None:
        # At once: every reader waits on Database's lock, so none reads before the commit.
        callback()

    @staticmethod
    async def _run(method, sql, parameters) -> aiosqlite.Cursor:
        try:
            return await method(sql, parameters)
        except sqlite3.IntegrityError as error:
            if error.sqlite_errorname in _DUPLICATE:
                raise Duplicate(str(error)) from error
            raise Refused(str(error)) from error


_DUPLICATE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


class _InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, its calls made in the event loop's own thread.

    aiosqlite hands every call (an execute, a fetch, a cursor's close) to its thread and
    wakes the event loop with the answer: about 300 µs a call on a busy machine, against a
    few µs for the call itself on this local file (WAL, ``synchronous = NORMAL``: a commit
    does not wait for the disk). Every call is made under ``Database``'s lock, one at a
    time, so the connection is never used by two threads at once; the thread only opens it.
    ``Database`` lets the other tasks run before a read or a transaction once its statements
    have held the loop for ``TURN``, as the thread's answers did on every call: a loop of
    writes does not keep every chat waiting. What this gives
    up: a write lock held by another process (none while the bot runs alone; a backup only
    reads) would hold the event loop for up to ``busy_timeout``.
    """

    async def _execute(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)


class _Counts(Counts):
    """Counted from SQLite's trace of each statement it runs."""

    def traced(self, statement: str) -> None:
        # A trigger's statements come traced as "-- TRIGGER ...": part of their statement.
        if not statement.startswith("--"):
            self.statements += 1


async def _connect(path: str | Path, counts: _Counts) -> _InlineConnection:
    def connector() -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves, so the transaction kind is ours.
        connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        connection.set_trace_callback(counts.traced)
        return connection

    return await _InlineConnection(connector, iter_chunk_size=64)


def _owner_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"migration ends inside a statement: {current.strip()[:60]!r}")
    return statements
