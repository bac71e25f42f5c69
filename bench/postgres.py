"""The bot on PostgreSQL: bookings per second from one and three workers, and the free-slot
search at a million appointments.

It runs on the server SECRETARY_BOT_TEST_POSTGRES names, in databases of its own, dropped
after. Unset, it runs itself again under ``.ci/postgres run --durable``: a throwaway cluster
that, unlike the tests' one, keeps fsync and synchronous commits on, so that a commit costs
what it costs in production. Without any server, one line says the figures were skipped.

- bookings per second (``bench.bookings``): one worker, then three, each its own process;
  SQLite's figure with one worker beside them;
- free-slot search (``Booking.offer``) for a day, a week and an exact time, and booking, at
  1,000,000 appointments of 100 businesses over two years (``bench.dataset``, as
  ``bench.growth`` times them on SQLite), loaded with COPY, the indexes built after, then
  ANALYZE: p50 / p99;
- the plan PostgreSQL makes of every distinct statement they ran: a large table read whole
  (a sequential scan) is flagged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench import bookings
from bench.dataset import Span, appointment_rows
from bench.growth import (
    NOW,
    RUNS,
    SEARCH_TARGET_MS,
    START,
    WITH_HISTORY,
    line,
    settings_for,
    show_plans,
)
from bot.agenda import Wanted
from bot.booking import Booking
from bot.clock import ManualClock
from storage import Store
from storage.appointments import SlotTaken
from storage.plans import recorded

SERVER = "SECRETARY_BOT_TEST_POSTGRES"
CLUSTER = Path(__file__).resolve().parents[1] / ".ci" / "postgres"
BUSINESSES = 100
APPOINTMENTS = 1_000_000
DAYS = 730
PATIENTS = 20_000
WORKERS = (1, 3)
ROUNDS = 3

_APPOINTMENT_COLUMNS = (
    "business_id, practitioner, service, starts_at, ends_at, status, source, patient_id, "
    "created_at, updated_at, scheduled_at"
)
# What a bulk load of appointments builds once at the end rather than row by row: every
# index but the primary key's, the exclusion constraint and the foreign keys.
_LATER = """
    SELECT 'ALTER TABLE appointments ADD CONSTRAINT ' || quote_ident(conname) || ' '
               || pg_get_constraintdef(oid),
           'ALTER TABLE appointments DROP CONSTRAINT ' || quote_ident(conname)
    FROM pg_constraint
    WHERE conrelid = 'appointments'::regclass AND contype IN ('f', 'x')
    UNION ALL
    SELECT pg_get_indexdef(i.indexrelid), 'DROP INDEX ' || i.indexrelid::regclass::text
    FROM pg_index i
    WHERE i.indrelid = 'appointments'::regclass AND NOT EXISTS (
        SELECT 1 FROM pg_constraint c
        WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
"""


def load(url: str, spans: list[Span], now: datetime, *, limit: int | None, patients: int) -> int:
    """Write ``patients`` people and the appointments of ``spans`` (``limit`` at most in the
    first), as ``bench.dataset.fill`` does on SQLite; returns how many appointments."""
    written = 0
    with psycopg.connect(url) as connection:
        connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
        later = connection.execute(_LATER).fetchall()
        for _, drop in later:
            connection.execute(drop)
        # The trigger marks people patients, which every one of these is already.
        connection.execute("ALTER TABLE appointments DISABLE TRIGGER USER")
        with connection.cursor() as cursor:
            with cursor.copy(
                """COPY people (telegram_id, first_name, language, created_at, last_seen_at,
                       patient) FROM STDIN"""
            ) as copy:
                for number in range(1, patients + 1):
                    copy.write_row((number, f"Patient{number}", "fr", 0, 0, 1))
            with cursor.copy(f"COPY appointments ({_APPOINTMENT_COLUMNS}) FROM STDIN") as copy:
                for index, span in enumerate(spans):
                    rows = appointment_rows(
                        span, now, limit=limit if index == 0 else None, patients=patients
                    )
                    for row in rows:
                        copy.write_row(row)
                        written += 1
        connection.execute("ALTER TABLE appointments ENABLE TRIGGER USER")
        for create, _ in later:
            connection.execute(create)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")
    return written


def _url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


@contextmanager
def _database(server: str, label: str) -> Iterator[str]:
    """A new database on ``server``, dropped after."""
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _server_cpu(server: str) -> Callable[[], float] | None:
    """The CPU seconds the server's processes (the postmaster, its backends and background
    workers, those gone) have used so far, read in /proc; None when the server does not run
    on this machine."""
    with psycopg.connect(server) as connection:
        data = connection.execute("SHOW data_directory").fetchone()[0]
    try:
        postmaster = int((Path(data) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pid, rest = stat.read_text().split(" ", 1)
            except OSError:
                continue  # gone meanwhile: its parent counts it now
            # After the command: state, parent, ... user and system time (fields 14, 15),
            # then those of the children waited for (16, 17).
            fields = rest.rsplit(")", 1)[1].split()
            if int(pid) == postmaster:
                ticks += sum(int(field) for field in fields[11:15])
            elif int(fields[1]) == postmaster:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / tick

    return used


def _median(runs: list[bookings.Run]) -> str:
    """The median run's line, and the spread: on a machine others share, one run says
    little."""
    ordered = sorted(runs, key=lambda run: run.per_second)
    spread = f"{ordered[0].per_second:.0f}-{ordered[-1].per_second:.0f}"
    return f"{bookings.line(ordered[len(ordered) // 2])}   [{spread}/s over {len(runs)} runs]"


def _bookings(server: str) -> None:
    print(
        f"bookings per second: each worker {bookings.BOOKINGS} bookings through "
        f"Booking.request, one in {bookings.CONTENDED_EVERY} on a time every worker asks for; "
        f"the median of {ROUNDS} runs, each on a new database"
    )
    server_cpu = _server_cpu(server)
    for workers in WORKERS:
        runs = []
        for round_ in range(ROUNDS):
            with _database(server, f"bookings{workers}_{round_}") as url:
                runs.append(bookings.run(url, workers, server_cpu))
        print(_median(runs))
    with tempfile.TemporaryDirectory(prefix="bench-postgres-") as folder:
        runs = [bookings.run(str(Path(folder) / f"{n}.sqlite3"), 1) for n in range(ROUNDS)]
        print(f"{_median(runs)}   (reference)")
    print("  (SQLite in WAL with synchronous = NORMAL syncs at checkpoints, not at each commit)")


async def _timed_searches(booking: Booking, settings) -> None:
    """The free-slot searches and the booking bench.growth times on SQLite, on this server."""
    rng = random.Random(11)
    service = settings.businesses[0].service("consultation")
    wanted_by_kind = {
        "free-slot search, a day": lambda day: Wanted(day, day),
        "free-slot search, a week": lambda day: Wanted(day, day + timedelta(days=6)),
        "free-slot search, an exact time": lambda day: Wanted(
            day, day, clock_time(15, 0), clock_time(15, 0)
        ),
    }
    today = booking.today(settings.businesses[0])
    for label, wanted in wanted_by_kind.items():
        timings = []
        for _ in range(RUNS):
            business = settings.businesses[rng.randrange(WITH_HISTORY)]
            asked = wanted(today + timedelta(days=rng.randrange(1, 60)))
            started = time.perf_counter()
            await booking.offer(business, service, asked)
            timings.append((time.perf_counter() - started) * 1000)
        print(line(label, timings, SEARCH_TARGET_MS))
    timings = []
    for number in range(RUNS):
        business = settings.businesses[rng.randrange(WITH_HISTORY)]
        day = today + timedelta(days=rng.randrange(1, 60))
        slot = (await booking.offer(business, service, Wanted(day, day))).slots[0]
        started = time.perf_counter()
        with contextlib.suppress(SlotTaken):
            await booking.request(
                business, service, slot.start, slot.practitioner, patient_id=number + 1
            )
        timings.append((time.perf_counter() - started) * 1000)
    print(line("booking with its overlap check", timings, SEARCH_TARGET_MS))


async def _searches(url: str) -> None:
    settings = settings_for(url, businesses=BUSINESSES)
    businesses = [(b.slug, b.name) for b in settings.businesses]
    await (await Store.open(url, businesses)).close()
    per_day = APPOINTMENTS // (BUSINESSES * DAYS) + 1
    started = time.perf_counter()
    stored = await asyncio.to_thread(
        load,
        url,
        [Span(1, BUSINESSES, START, DAYS, per_day)],
        NOW,
        limit=APPOINTMENTS,
        patients=PATIENTS,
    )
    print(
        f"loaded {stored:,} appointments of {BUSINESSES} businesses over two years and "
        f"{PATIENTS:,} patients (COPY, indexes and constraints built after, ANALYZE) in "
        f"{time.perf_counter() - started:.1f} s; no history rows (the search reads none)"
    )
    store = await Store.open(url, businesses)
    try:
        if store.business_ids["business-1"] != 1:
            raise SystemExit("the dataset expects businesses numbered from 1 in config order")
        async with recorded(store.db) as statements:
            await _timed_searches(Booking(settings, store, ManualClock(NOW)), settings)
        await show_plans(store.db, statements)
    finally:
        await store.close()


def _measure(server: str) -> None:
    with psycopg.connect(server, autocommit=True) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        fsync = connection.execute("SHOW fsync").fetchone()[0]
        commit = connection.execute("SHOW synchronous_commit").fetchone()[0]
    print(
        f"PostgreSQL {version}, fsync {fsync}, synchronous_commit {commit}; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the runs"
    )
    if fsync != "on" or commit != "on":
        print("  (a server without durable commits: the bookings per second are flattered)")
    _bookings(server)
    with _database(server, "search") as url:
        asyncio.run(_searches(url))


def _under_throwaway_cluster() -> None:
    """This bench again, on a durable cluster of its own that ``.ci/postgres`` starts."""
    sys.stdout.flush()  # what was printed before comes before what the cluster's run prints
    try:
        completed = subprocess.run(
            [str(CLUSTER), "run", "--durable", sys.executable, "-m", "bench.postgres"],
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    except OSError as error:
        print(f"PostgreSQL figures skipped: {CLUSTER} cannot be run ({error.strerror})")
        return
    sys.stderr.write(completed.stderr)
    if completed.returncode:
        said = completed.stderr.strip().splitlines()
        why = said[-1] if said else f"exit status {completed.returncode}"
        print(f"PostgreSQL figures skipped: .ci/postgres run --durable failed ({why})")


def main() -> None:
    server = os.environ.get(SERVER)
    if not server:
        _under_throwaway_cluster()
        return
    try:
        psycopg.connect(server, connect_timeout=10).close()
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        print(f"PostgreSQL figures skipped: no server at {SERVER} ({reason})")
        return
    _measure(server)


if __name__ == "__main__":
    main()
