"""The query plans of what a piece of work asked the database: how the bench and the tests
show that no hot query reads a large table whole, whatever its size, on SQLite (``EXPLAIN
QUERY PLAN``) or PostgreSQL (``EXPLAIN``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from storage.db import Database

# Tables that grow with the years: reading one of them whole is what must never happen.
LARGE = frozenset(
    {
        "appointments",
        "appointment_history",
        "people",
        "outbox",
        "audit_log",
        "reminders_sent",
        "thread_messages",
        "calls",
        "mail_merge_recipients",
    }
)

_SOURCE = re.compile(r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)
_SCAN = re.compile(r"^SCAN (\w+)")
_SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\w+)")
# A range an index is searched by, as a plan shows it: "starts_at>?", "at<?".
_RANGE = re.compile(r"\b(\w+)([<>])\?")
# Indexes read "older than" whose rows in that range leave it soon: a request is answered or
# expires within a day, a visitor is forgotten, a thread closed, a message sent; what is past
# its retention is deleted by the very purge that reads it (handled updates after two days).
TRANSIENT = frozenset(
    {
        "appointments_requested_by_age",
        "appointments_requested_by_business",
        "people_visitors_by_last_seen",
        "threads_open_by_last",
        "outbox_due",
        "outbox_sending",
        "appointments_by_end",
        "thread_messages_by_time",
        "handled_updates_by_time",
    }
)
_READS = ("SELECT", "UPDATE", "DELETE", "WITH")
# A statement's shape: its values (bound when traced) and lists of them made alike.
_VALUES = re.compile(r"'(?:[^']|'')*'|-?\b\d+(?:\.\d+)?\b|\bNULL\b")
_LISTS = re.compile(r"\?(?:\s*,\s*\?)+")
_NUMBERED = re.compile(r"\?\d+")
_NOT_ALIASES = frozenset(
    {"WHERE", "ON", "SET", "JOIN", "CROSS", "LEFT", "INNER", "GROUP", "ORDER", "LIMIT", "UNION"}
)


@dataclass(frozen=True)
class Plan:
    sql: str
    steps: tuple[str, ...]

    def scans(self, partial: frozenset[str] = frozenset()) -> list[str]:
        """The steps that read a large table (or an index of one) from end to end; reading
        one of the ``partial`` indexes whole reads only the few rows it keeps (messages
        still owed, requests waiting), and is not one."""
        tables = {}
        for table, alias in _SOURCE.findall(self.sql):
            tables[table.lower()] = table.lower()
            if alias and alias.upper() not in _NOT_ALIASES:
                tables[alias.lower()] = table.lower()
        return [
            step
            for step in self.steps
            if (found := _SCAN.match(step) or _SEQ_SCAN.search(step))
            and tables.get(found[1].lower()) in LARGE
            and not ((index := _INDEX.search(step)) and index[1] in partial)
        ]

    def one_sided(self) -> list[str]:
        """The steps that search a range of times (a column ``at`` or ``..._at``) bounded on
        one side only: as the years go by, that side reads more and more, but through the
        ``TRANSIENT`` indexes."""
        found = []
        for step in self.steps:
            index = _INDEX.search(step)
            if not step.startswith("SEARCH") or (index and index[1] in TRANSIENT):
                continue
            bounds: dict[str, set[str]] = {}
            for column, side in _RANGE.findall(step):
                if column == "at" or column.endswith("_at"):
                    bounds.setdefault(column, set()).add(side)
            if any(len(sides) == 1 for sides in bounds.values()):
                found.append(step)
        return found


@asynccontextmanager
async def recorded(database: Database) -> AsyncIterator[list[Any]]:
    """Every statement run on ``database`` inside the block: on SQLite its text with its
    parameters bound, on a server (text, parameters)."""
    statements: list[Any] = []
    if database.dialect == "postgres":
        database.counts.tracing = statements
        try:
            yield statements
        finally:
            database.counts.tracing = None
        return
    connection = database._connection
    counts = database.counts

    def trace(statement: str) -> None:
        counts.traced(statement)
        statements.append(statement)

    await connection.set_trace_callback(trace)
    try:
        yield statements
    finally:
        await connection.set_trace_callback(counts.traced)


async def explain(database: Database, statements: list[Any]) -> list[Plan]:
    """The plan of each statement that reads tables, one for each shape, in the order first
    run (the statement shown with its values as ``?``)."""
    plans, done = [], set()
    server = database.dialect == "postgres"
    for statement in statements:
        sql, parameters = statement if server else (statement, ())
        text = " ".join(sql.split())
        upper = text.upper()
        reads = upper.startswith(_READS) or (upper.startswith("INSERT") and "SELECT" in upper)
        shape = _LISTS.sub("?", _VALUES.sub("?", _NUMBERED.sub("?", text)))
        if shape in done or not reads:
            continue
        done.add(shape)
        if server:
            rows = await database.fetch_all(f"EXPLAIN {text}", parameters)
            plans.append(Plan(shape, tuple(row[0] for row in rows)))
        else:
            rows = await database.fetch_all(f"EXPLAIN QUERY PLAN {text}")
            plans.append(Plan(shape, tuple(row[-1] for row in rows)))
    return plans


async def partial_indexes(database: Database) -> frozenset[str]:
    """The indexes that keep some rows only (``CREATE INDEX ... WHERE``)."""
    if database.dialect == "postgres":
        rows = await database.fetch_all(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
    else:
        rows = await database.fetch_all(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    return frozenset(row[0] for row in rows if " WHERE " in " ".join(row[1].upper().split()))
