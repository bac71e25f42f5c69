"""The PostgreSQL backend: a pool of connections, each transaction on one of them.

Nothing here serialises writers: what SQLite's one writer at a time gave, the server gives
by its constraints (the exclusion constraint on held appointments), by counters updated in
the transaction that uses them, by claims that are single statements (``ON CONFLICT DO
NOTHING``, ``FOR UPDATE SKIP LOCKED``), and by an advisory lock for work only one worker
does at a time (``leader``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors
from psycopg.adapt import Loader
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from storage.db import Counts, Duplicate, Refused, Statement, migrations

log = logging.getLogger(__name__)

MIGRATIONS = "storage.migrations.postgres"
POOL_SIZE = 10
# Taken by the transaction that migrates: workers started together migrate one at a time.
_MIGRATION_LOCK = 0x5EC7E7A7


class PostgresDatabase:
    dialect = "postgres"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, pool: AsyncConnectionPool):
        self._url = url
        self._pool = pool
        self._leaders: list[_Lead] = []
        self.counts = Counts()

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            kwargs={"autocommit": True},
            configure=_configure,
            open=False,
        )
        await pool.open(wait=True)
        database = cls(url, pool)
        try:
            await database._migrate()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        for lead in self._leaders:
            await lead.close()
        await self._pool.close()

    async def _migrate(self) -> None:
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await connection.execute(
                """CREATE TABLE IF NOT EXISTS schema_version (
                       version INTEGER NOT NULL, only_row BOOLEAN PRIMARY KEY DEFAULT TRUE
                           CHECK (only_row))"""
            )
            cursor = await connection.execute("SELECT version FROM schema_version")
            row = await cursor.fetchone()
            version = row[0] if row else 0
            for number, name, script in migrations(MIGRATIONS):
                if number <= version:
                    continue
                log.info("applying migration %s", name)
                # No parameters: the script goes as one simple query, all its statements.
                await connection.execute(script)
                await connection.execute(
                    """INSERT INTO schema_version (version) VALUES (%s)
                       ON CONFLICT (only_row) DO UPDATE SET version = excluded.version""",
                    (number,),
                )

    async def version(self) -> int:
        row = await self.fetch_one("SELECT version FROM schema_version")
        return row[0] if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Bound]:
        """A write transaction on a connection of its own (read committed): what must hold
        against concurrent writers is held by constraints and single-statement claims."""
        self.counts.write_transactions += 1
        async with self._pool.connection() as connection:
            bound = _Bound(connection, self.counts)
            async with connection.transaction():
                yield bound
            for callback in bound.committed:
                callback()

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[_Row]:
        async with (
            self._pool.connection() as connection,
            _Bound(connection, self.counts).execute(sql, parameters) as cursor,
        ):
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Sequence[object] = ()) -> _Row | None:
        async with (
            self._pool.connection() as connection,
            _Bound(connection, self.counts).execute(sql, parameters) as cursor,
        ):
            return await cursor.fetchone()

    async def references(self, table: str) -> list[tuple[str, str]]:
        rows = await self.fetch_all(
            """SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
               WHERE c.contype = 'f' AND c.confrelid = ?::regclass
               ORDER BY 1, 2""",
            (table,),
        )
        return [(row[0], row[1]) for row in rows]

    async def tables(self) -> frozenset[str]:
        rows = await self.fetch_all(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return frozenset(row[0] for row in rows) - {"schema_version"}

    def json_integer(self, column: str, key: str) -> str:
        return f"CAST({column}::jsonb ->> '{key}' AS BIGINT)"

    def leader(self, name: str) -> _Lead:
        lead = _Lead(self._url, name)
        self._leaders.append(lead)
        return lead


class _Lead:
    """A session advisory lock on a connection of its own: held while this worker lives,
    released by the server when the connection goes, whatever killed the worker."""

    def __init__(self, url: str, name: str):
        self._url = url
        self._name = f"secretary-bot:{name}"
        self._connection: psycopg.AsyncConnection | None = None

    async def held(self) -> bool:
        if self._connection is not None:
            try:
                await self._connection.execute("SELECT 1")
                return True
            except psycopg.OperationalError:
                # The server dropped the session, and the lock with it: take it again.
                await self.release()
        connection = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
        cursor = await connection.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s))", (self._name,)
        )
        (taken,) = await cursor.fetchone()
        if taken:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    close = release


class _Bound:
    """One connection as the repositories use it: their ``?`` SQL bound as PostgreSQL's
    ``$n``, the server's constraint errors become the store's own."""

    def __init__(self, connection: psycopg.AsyncConnection, counts: Counts):
        self._connection = connection
        self._counts = counts
        self.committed: list[Callable[[], None]] = []

    def attempt(self) -> AbstractAsyncContextManager[Any]:
        return self._connection.transaction()  # nested: a savepoint

    def on_commit(self, callback: Callable[[], None]) -> None:
        self.committed.append(callback)

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Statement:
        return Statement(self._execute(sql, parameters))

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        rows = [_values(row) for row in rows]
        self._counts.statements += len(rows)
        async with _RawCursor(self._connection) as cursor, _mapped():
            await cursor.executemany(_placeholders(sql), rows)

    async def _execute(self, sql: str, parameters: Sequence[object]) -> _RawCursor:
        self._counts.statements += 1
        if self._counts.tracing is not None:
            self._counts.tracing.append((sql, parameters))
        cursor = _RawCursor(self._connection)
        try:
            async with _mapped():
                await cursor.execute(_placeholders(sql), _values(parameters))
        except BaseException:
            await cursor.close()
            raise
        return cursor


class _RawCursor(psycopg.AsyncRawCursor):
    """PostgreSQL's own ``$n`` placeholders (the SQL is never read for ``%s``), rows like
    sqlite3.Row."""

    def __init__(self, connection: psycopg.AsyncConnection):
        super().__init__(connection, row_factory=_rows)


@asynccontextmanager
async def _mapped() -> AsyncIterator[None]:
    try:
        yield
    except (errors.UniqueViolation, errors.ExclusionViolation) as error:
        raise Duplicate(str(error)) from error
    except errors.DeadlockDetected as error:
        # Two bookings each waiting to learn whether the other's overlapping slot holds: the
        # server gives up one, and the other's slot then holds. The same as slot taken.
        if "exclusion constraint" in (error.diag.context or ""):
            raise Duplicate(str(error)) from error
        raise
    except (psycopg.IntegrityError, errors.RaiseException) as error:
        raise Refused(str(error)) from error


def _values(parameters: Sequence[object]) -> list[object]:
    # Flags are INTEGER 0/1 columns, as in SQLite; Python's bools would go as boolean.
    return [int(value) if isinstance(value, bool) else value for value in parameters]


_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\?(\d*)""")


@lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    """``?N`` becomes ``$N``; a bare ``?`` takes the number after the largest so far, as
    SQLite numbers it. Quoted text and comments are left alone."""
    largest = 0

    def bind(found: re.Match[str]) -> str:
        nonlocal largest
        if not found[0].startswith("?"):
            return found[0]
        number = int(found[1]) if found[1] else largest + 1
        largest = max(largest, number)
        return f"${number}"

    return _TOKENS.sub(bind, sql)


class _Row(tuple):
    """A row by position or by column name (the first of that name), as sqlite3.Row."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> _Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _rows(cursor: psycopg.AsyncRawCursor) -> RowMaker[_Row]:
    names: dict[str, int] = {}
    for index, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, index)
    return lambda values: _Row(values, names)


class _Number(Loader):
    """numeric as SQLite gives it back: SUM of integers is an integer, not a Decimal."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


async def _configure(connection: psycopg.AsyncConnection) -> None:
    connection.adapters.register_loader("numeric", _Number)
