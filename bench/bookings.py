"""Bookings per second from workers sharing one database: each worker its own OS process
with its own Store, booking through the bot's own path (``Booking.request``: the business's
hours, the blocks, the patient's and the practitioner's overlap checks, the appointment, its
history and the secretary's inbox copy in the outbox, one transaction).

Each worker books ``BOOKINGS`` times, each for a patient of its own. Four bookings in five
are in a business of the worker's own; every fifth is one of the ``contended`` times that
every worker asks for, in the same order, in a business shared by all. A bench business has
one practitioner, so a contended time has one winner: the others are told the slot is
taken, by the store's check or, when they race it, by the database's own constraint.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.growth import NOW, settings_for
from bot.agenda import OpeningRules, free_slots
from bot.booking import Booking
from bot.clock import ManualClock
from bot.config import Settings
from storage import Store
from storage.appointments import SlotTaken
from storage.db import is_postgres

BOOKINGS = 1000
CONTENDED_EVERY = 5
SERVICE = "consultation"


@dataclass(frozen=True)
class Result:
    booked: int
    taken: int
    seconds: float
    cpu: float  # the worker process's own CPU seconds, the server's not counted


@dataclass(frozen=True)
class Run:
    backend: str
    workers: int
    booked: int
    taken: int
    seconds: float  # from the start signal to the last worker done
    cpu: float  # the workers' CPU seconds, all together
    server_cpu: float | None  # the server's, when it runs here

    @property
    def per_second(self) -> float:
        return self.booked / self.seconds


def bench_settings(database: str | Path, workers: int) -> Settings:
    """``workers`` businesses of their own and the shared one, last, each one practitioner."""
    return settings_for(database, businesses=workers + 1, practitioners=("A",))


def _starts(settings: Settings, slug: str, count: int) -> list[datetime]:
    """The first ``count`` starts ``slug`` offers from now, on an empty agenda, none
    overlapping the one before (starts come every slot step, shorter than a service)."""
    business = settings.business(slug)
    rules = OpeningRules(business, settings.zone(business), settings.horizon(business))
    service = business.service(SERVICE)
    length = timedelta(minutes=service.duration)
    slots = free_slots(
        rules,
        length,
        (),
        now=NOW,
        first_day=rules.today(NOW),
        last_day=rules.last_day(NOW),
    )
    starts: list[datetime] = []
    for slot in slots:
        start = slot.start.astimezone(UTC)
        if starts and start < starts[-1] + length:
            continue
        starts.append(start)
        if len(starts) == count:
            return starts
    raise SystemExit(f"{slug} offers fewer than {count} slots within its horizon")


def _plan(settings: Settings, worker: int, workers: int) -> list[tuple[str, datetime, int]]:
    """(business slug, start, patient) of each booking ``worker`` asks for, in order."""
    own = settings.businesses[worker].slug
    shared = settings.businesses[workers].slug
    contended = BOOKINGS // CONTENDED_EVERY
    mine = iter(_starts(settings, own, BOOKINGS - contended))
    theirs = iter(_starts(settings, shared, contended))
    plan = []
    for number in range(BOOKINGS):
        patient = worker * BOOKINGS + number + 1
        if number % CONTENDED_EVERY == CONTENDED_EVERY - 1:
            plan.append((shared, next(theirs), patient))
        else:
            plan.append((own, next(mine), patient))
    return plan


async def _book(database: str, worker: int, workers: int, events, go, counted) -> None:
    settings = bench_settings(database, workers)
    store = await Store.open(database, [(b.slug, b.name) for b in settings.businesses])
    try:
        booking = Booking(settings, store, ManualClock(NOW))
        plan = _plan(settings, worker, workers)
        service = settings.businesses[0].service(SERVICE)
        events.put(("ready", worker))
        await asyncio.to_thread(go.wait)
        booked = taken = 0
        started, cpu = time.perf_counter(), time.process_time()
        for slug, start, patient in plan:
            try:
                await booking.request(
                    settings.business(slug), service, start, "A", patient_id=patient
                )
                booked += 1
            except SlotTaken:
                taken += 1
        events.put(
            (
                "done",
                Result(booked, taken, time.perf_counter() - started, time.process_time() - cpu),
            )
        )
        # The server's CPU is read from its live processes: this one's stays until then.
        await asyncio.to_thread(counted.wait)
    finally:
        await store.close()


def _worker(database: str, worker: int, workers: int, events, go, counted) -> None:
    try:
        asyncio.run(_book(database, worker, workers, events, go, counted))
    except BaseException as error:
        events.put(("failed", f"worker {worker}: {error!r}"))
        raise


def _next(events, kind: str):
    happened, what = events.get(timeout=600)
    if happened == "failed":
        raise SystemExit(f"a booking worker failed: {what}")
    if happened != kind:
        raise SystemExit(f"a booking worker said {happened!r}, {kind!r} was expected")
    return what


async def _prepare(database: str, workers: int) -> None:
    """The schema, the businesses and every patient, before any worker starts."""
    settings = bench_settings(database, workers)
    store = await Store.open(database, [(b.slug, b.name) for b in settings.businesses])
    try:
        async with store.db.transaction() as db:
            await db.executemany(
                """INSERT INTO people (telegram_id, first_name, language, created_at,
                       last_seen_at) VALUES (?, ?, 'fr', 0, 0)""",
                [(number, f"Patient{number}") for number in range(1, workers * BOOKINGS + 1)],
            )
    finally:
        await store.close()


async def _written(database: str) -> tuple[int, int, int]:
    """Appointments held, their history lines and the outbox rows: what the runs wrote."""
    store = await Store.open(database)
    try:
        counts = []
        for sql in (
            "SELECT COUNT(*) FROM appointments WHERE status IN ('requested', 'confirmed')",
            "SELECT COUNT(*) FROM appointment_history",
            "SELECT COUNT(*) FROM outbox",
        ):
            row = await store.db.fetch_one(sql)
            counts.append(row[0])
        return counts[0], counts[1], counts[2]
    finally:
        await store.close()


def run(database: str, workers: int, server_cpu: Callable[[], float] | None = None) -> Run:
    """``workers`` processes booking on ``database`` (a new one) at once; ``server_cpu``
    tells the CPU seconds the database server has used so far."""
    asyncio.run(_prepare(database, workers))
    # Spawned, not forked: nothing of this process's event loop or connections is shared.
    context = multiprocessing.get_context("spawn")
    events, go, counted = context.Queue(), context.Event(), context.Event()
    processes = [
        context.Process(target=_worker, args=(database, worker, workers, events, go, counted))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            _next(events, "ready")
        served = server_cpu() if server_cpu else 0.0
        go.set()
        done = [_next(events, "done") for _ in processes]
        served = server_cpu() - served if server_cpu else None
    finally:
        go.set()
        counted.set()
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    result = Run(
        "PostgreSQL" if is_postgres(database) else "SQLite",
        workers,
        sum(r.booked for r in done),
        sum(r.taken for r in done),
        max(r.seconds for r in done),
        sum(r.cpu for r in done),
        served,
    )
    # Each booking is one appointment held, one history line and the secretary's inbox copy.
    held, history, owed = asyncio.run(_written(database))
    if not held == history == owed == result.booked:
        raise SystemExit(
            f"{result.booked} bookings told booked, but {held} appointments held, "
            f"{history} history lines, {owed} outbox rows"
        )
    return result


def line(result: Run) -> str:
    attempts = result.booked + result.taken
    return (
        f"  {result.backend:10} {result.workers} worker{'s' if result.workers > 1 else ' '}  "
        f"{result.per_second:7.1f} bookings/s   ({result.booked} booked, "
        f"{result.taken} told 'slot taken', of {attempts} asked, in {result.seconds:.2f} s; "
        f"CPU a booking: workers' {result.cpu * 1000 / attempts:.2f} ms"
        + (
            f", server's {result.server_cpu * 1000 / attempts:.2f} ms)"
            if result.server_cpu is not None
            else ")"
        )
    )
