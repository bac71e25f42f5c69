"""What the repositories see of a database, whichever backend holds it.

The repositories write their SQL once, in the dialect SQLite 3.40 and PostgreSQL 15 both
accept (``?`` and ``?N`` placeholders, ``ON CONFLICT``, ``RETURNING``, ``IS DISTINCT FROM``);
each backend (storage.sqlite, storage.postgres) binds it, maps its errors to the ones below,
and runs transactions its own way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the store only takes aware datetimes")
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def from_epoch_or_none(seconds: int | None) -> datetime | None:
    """A column that stays NULL until something happens (cancelled, closed, ended...)."""
    return from_epoch(seconds) if seconds is not None else None


def is_postgres(where: str | Path) -> bool:
    return isinstance(where, str) and where.startswith(POSTGRES_SCHEMES)


class Refused(Exception):
    """The database refused a change: a constraint, a foreign key, a trigger."""


class Duplicate(Refused):
    """A unique index or an exclusion constraint refused the row: it is there already, or
    something else holds what it wanted."""


class Row(Protocol):
    """A result row: by column name or position, like sqlite3.Row."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    rowcount: int

    async def fetchone(self) -> Row | None: ...

    async def fetchall(self) -> Iterable[Row]: ...


class Statement:
    """A statement being run: awaited for its cursor, or entered (``async with``) to have
    the cursor closed after."""

    def __init__(self, run: Awaitable[Any]):
        self._run = run
        self._cursor: Any = None

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run.__await__()

    async def __aenter__(self) -> Cursor:
        self._cursor = await self._run
        return self._cursor

    async def __aexit__(self, *_: object) -> None:
        await self._cursor.close()


class Connection(Protocol):
    """One transaction's connection, as ``Database.transaction`` hands it out."""

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Statement: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...

    def attempt(self) -> AbstractAsyncContextManager[None]:
        """A statement that may be refused (``Duplicate``) while the transaction goes on:
        on PostgreSQL a refused statement spoils the transaction unless inside a savepoint;
        SQLite undoes the statement alone anyway."""
        ...

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once what this transaction wrote can be read by others."""
        ...


class Counts:
    """What the bench reports per update: statements run, write transactions; and, while
    ``tracing`` is a list (storage.plans on a server), each statement with its parameters."""

    def __init__(self) -> None:
        self.statements = 0
        self.write_transactions = 0
        self.tracing: list[tuple[str, Sequence[object]]] | None = None


class Database(Protocol):
    counts: Counts
    dialect: str  # "sqlite" or "postgres", for the rare statement written twice
    # Appended to a SELECT that picks rows to claim: on a server, a row another worker is
    # claiming is passed over instead of waited for (SQLite has one writer at a time).
    skip_locked: str

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, parameters: Sequence[object] = ()) -> Row | None: ...

    async def references(self, table: str) -> list[tuple[str, str]]:
        """(table, column) of every foreign key that points at ``table``."""
        ...

    async def tables(self) -> frozenset[str]: ...

    def json_integer(self, column: str, key: str) -> str:
        """SQL for the integer at ``key`` of the JSON object in ``column``."""
        ...

    def leader(self, name: str) -> Leadership:
        """Who of the workers sharing this database does the work called ``name``."""
        ...

    async def close(self) -> None: ...


class Leadership(Protocol):
    async def held(self) -> bool:
        """Whether this worker does the work now: taken when free, kept while this worker
        lives, and taken over by another once it dies."""
        ...

    async def release(self) -> None:
        """Let another worker take it."""
        ...


def migrations(folder: str) -> list[tuple[int, str, str]]:
    """The numbered scripts (NNN_name.sql) of one backend, in order.

    One numbering for both backends (storage.migrations for SQLite, its postgres folder for
    PostgreSQL, which starts whole at 019): a change is one script in each, the same number,
    and a test checks both end at the same version with the same tables and columns. Each
    backend applies its own inside one transaction (yoyo-migrations would do both, but it
    keeps its own table, so every SQLite database already recorded in ``user_version`` would
    need adopting, and it migrates through a second, synchronous driver at start-up).
    """
    found = []
    for entry in resources.files(folder).iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def open_database(where: str | Path) -> Database:
    """A SQLite file (a path) or a PostgreSQL database (a postgresql:// URL)."""
    if is_postgres(where):
        from storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(str(where))
    from storage.sqlite import SqliteDatabase

    return await SqliteDatabase.open(where)


async def new_id(cursor: Cursor) -> int:
    """The id that ``INSERT ... RETURNING id`` gave its row."""
    row = await cursor.fetchone()
    return row[0]
