"""Growth with data: the bot at a million appointments and five hundred businesses.

One database, built once in a temp dir (``bench.dataset``): 500 businesses; the first 100
with two years of appointments, 1,000,000 in all, now in the middle of them; the other 400
with the two months around now. 20,000 patients; every appointment's booking is in its
history; every reminder due is sent already. Now is a Tuesday at 19:33 in Paris, after the
employers' summaries are due.

- free-slot search (``Booking.offer``) for a day, a week and an exact time, and booking with
  its overlap check (``Booking.request``), in a business of the first 100 on a day of the
  next two months: p50 / p99;
- CPU per update: the whole bot over HTTP against the simulator (``/start``, a request in
  words, a tap on the time offered), the process's CPU time (bot and simulator, every
  thread) divided by the updates, on an empty database and on the full one;
- the 500 employers' daily summaries, in all;
- the minute sweep with nothing due (the summaries already owed);
- the plan of every distinct statement run by all of the above: a large table read whole is
  flagged.
"""

from __future__ import annotations

import asyncio
import copy
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import yaml
from telegram.ext import CallbackContext

from bench.dataset import Span, fill, remind_all_but
from bot.agenda import Wanted
from bot.app import build_application, running
from bot.booking import Booking
from bot.clock import ManualClock
from bot.config import Settings, parse_settings
from bot.i18n import I18n
from bot.simulator import Simulator
from bot.summaries import Summaries
from handlers import delivery, scheduled
from storage import Store
from storage.appointments import SlotTaken
from storage.db import Database
from storage.plans import explain, partial_indexes, recorded

BUSINESSES = 500
WITH_HISTORY = 100
APPOINTMENTS = 1_000_000
DAYS = 730
PATIENTS = 20_000
START = datetime(2026, 1, 5, tzinfo=UTC)
NOW = START + timedelta(days=DAYS // 2, hours=18, minutes=33)
RUNS = 200
BOT_PATIENTS = 40
SWEEPS = 20
EMPLOYERS = 900_000_000
EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.yaml"
SEARCH_TARGET_MS = 5.0
CPU_TARGET = 1.2  # times the empty database's
SUMMARIES_TARGET_S = 5.0
SWEEP_TARGET_MS = 50.0


def settings_for(
    database: Path | str, businesses: int = BUSINESSES, practitioners: tuple[str, ...] = ("A", "B")
) -> Settings:
    """The example config with ``businesses`` copies of its first business, numbered from 1."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    template = data["businesses"][0]
    data["database"] = str(database)
    data["businesses"] = [
        copy.deepcopy(template)
        | {
            "slug": f"business-{number}",
            "name": f"Cabinet {number}",
            "employers": [EMPLOYERS + number],
            "practitioners": list(practitioners),
        }
        for number in range(1, businesses + 1)
    ]
    return parse_settings(data)


async def _open(settings: Settings) -> Store:
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    if store.business_ids["business-1"] != 1:
        raise SystemExit("the dataset expects businesses numbered from 1 in config order")
    return store


def _fill(settings: Settings) -> None:
    path = Path(settings.database)
    per_day = APPOINTMENTS // (WITH_HISTORY * DAYS) + 1
    month = NOW.replace(hour=0, minute=0) - timedelta(days=30)
    spans = [
        Span(1, WITH_HISTORY, START, DAYS, per_day),
        Span(WITH_HISTORY + 1, BUSINESSES, month, 60, per_day),
    ]
    started = time.perf_counter()
    stored = fill(path, spans, NOW, limit=APPOINTMENTS, patients=PATIENTS, history=True)
    remind_all_but(path, NOW, 0)
    print(
        f"filled {stored:,} appointments of {BUSINESSES} businesses "
        f"({APPOINTMENTS:,} in the first {WITH_HISTORY}, two years), {PATIENTS:,} patients "
        f"and the history, in {time.perf_counter() - started:.1f} s"
    )


def _percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def line(label: str, timings: list[float], target: float) -> str:
    p50, p99 = _percentiles(timings)
    verdict = "ok" if p99 <= target else "OVER"
    return (
        f"  {label:32} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
        f"(target p99 <= {target:g} ms) {verdict}"
    )


async def _timed(action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await action()
    return (time.perf_counter() - started) * 1000, result


async def searches(booking: Booking, settings: Settings) -> None:
    rng = random.Random(11)
    service = settings.businesses[0].service("consultation")
    wanted_by_kind: dict[str, Callable[[Any], Wanted]] = {
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
            day = today + timedelta(days=rng.randrange(1, 60))
            asked = wanted(day)
            spent, _ = await _timed(lambda b=business, w=asked: booking.offer(b, service, w))
            timings.append(spent)
        print(line(label, timings, SEARCH_TARGET_MS))
    timings = []
    for number in range(RUNS):
        business = settings.businesses[rng.randrange(WITH_HISTORY)]
        day = today + timedelta(days=rng.randrange(1, 60))
        offer = await booking.offer(business, service, Wanted(day, day))
        slot = offer.slots[0]

        async def book(b=business, s=slot, patient=number + 1):
            try:
                return await booking.request(
                    b, service, s.start, s.practitioner, patient_id=patient
                )
            except SlotTaken:
                return None

        spent, _ = await _timed(book)
        timings.append(spent)
    print(line("booking with its overlap check", timings, SEARCH_TARGET_MS))


async def _summaries(booking: Booking, settings: Settings, store: Store) -> None:
    summaries = Summaries(booking, store, I18n())
    today = booking.today(settings.businesses[0])
    started = time.perf_counter()
    for business in settings.businesses:
        await summaries.employer_summary("fr", business, today)
    spent = time.perf_counter() - started
    verdict = "ok" if spent <= SUMMARIES_TARGET_S else "OVER"
    print(
        f"  {BUSINESSES} employers' daily summaries     {spent:6.2f} s in all, "
        f"{spent * 1000 / BUSINESSES:.1f} ms each   (target <= {SUMMARIES_TARGET_S:g} s) {verdict}"
    )
    merges = store.missions.mail_merges
    month = NOW - timedelta(days=30)
    await merges.everyone(1)
    await merges.booked_between(1, NOW, NOW + timedelta(days=30))
    await merges.seen_between(1, month, NOW)


async def _bot(settings: Settings, store: Store, *, sweeps: bool) -> float:
    """CPU seconds per update of patients booking through the bot; with ``sweeps``, the
    minute sweep with nothing due is measured after them."""
    clock = ManualClock(NOW)
    async with Simulator(clock=clock.now) as tg:
        telegram = settings.telegram.model_copy(
            update={
                "base_url": tg.base_url,
                "base_file_url": tg.base_file_url,
                "max_messages_per_second": 100_000,
            }
        )
        application = build_application(
            settings.model_copy(update={"telegram": telegram}),
            store,
            clock,
            token=tg.token,
            sweep_every=None,
        )
        tg.user(settings.secretaries[0].telegram_id, settings.secretaries[0].name)
        for business in settings.businesses:
            for employer in business.employers:
                tg.user(employer, f"Employer{employer}")
        async with running(application):
            idle = delivery.deliverer(application).idle
            tg.add_idle_waiter(application.update_queue.join)
            tg.add_idle_waiter(idle)
            await idle()  # what the bookings above owed the secretary: not counted
            started = time.process_time()
            for number in range(BOT_PATIENTS):
                patient = tg.user(10_000_000 + number, f"Visitor{number}", language="fr")
                await patient.send(f"/start business-{1 + number % WITH_HISTORY}")
                await patient.send(f"une consultation mardi vers {14 + number % 4}h")
                await patient.tap(patient.last.buttons[0][0])
            per_update = (time.process_time() - started) / (BOT_PATIENTS * 3)
            if sweeps:
                context = CallbackContext(application)
                await scheduled.sweep(context)  # owes the 500 summaries: not counted
                await idle()
                timings = []
                for _ in range(SWEEPS):
                    spent, _ = await _timed(lambda: scheduled.sweep(context))
                    timings.append(spent)
                print(line("the minute sweep, nothing due", timings, SWEEP_TARGET_MS))
    return per_update


async def _measure(folder: Path) -> None:
    empty = settings_for(folder / "empty.sqlite3")
    store = await _open(empty)
    empty_cpu = await _bot(empty, store, sweeps=False)
    await store.close()

    settings = settings_for(folder / "full.sqlite3")
    await (await _open(settings)).close()
    _fill(settings)
    store = await _open(settings)
    booking = Booking(settings, store, ManualClock(NOW))
    async with recorded(store.db) as statements:
        await searches(booking, settings)
        await _summaries(booking, settings, store)
        full_cpu = await _bot(settings, store, sweeps=True)
    ratio = full_cpu / empty_cpu
    verdict = "ok" if ratio <= CPU_TARGET else "OVER"
    print(
        f"  CPU per update                   {empty_cpu * 1000:.1f} ms empty, "
        f"{full_cpu * 1000:.1f} ms at {APPOINTMENTS:,}: x{ratio:.2f}   "
        f"(target <= x{CPU_TARGET:g}) {verdict}"
    )
    await show_plans(store.db, statements)
    await store.close()


async def show_plans(database: Database, statements: list[Any]) -> None:
    """The plan of each of ``statements``, a large table read whole flagged."""
    plans = await explain(database, statements)
    partial = await partial_indexes(database)
    scanning = [plan for plan in plans if plan.scans(partial)]
    print(
        f"query plans: {len(plans)} distinct statements, "
        f"{len(scanning)} reading a large table whole"
    )
    for plan in plans:
        flag = "SCAN " if plan.scans(partial) else "     "
        print(f"  {flag}{plan.sql[:150]}")
        for step in plan.steps:
            print(f"           {step}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as folder:
        asyncio.run(_measure(Path(folder)))


if __name__ == "__main__":
    main()
