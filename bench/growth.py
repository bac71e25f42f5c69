"""Growth with data: the bot at a million appointments and five hundred businesses.

One database, built once in a temp dir (``bench.dataset``): 500 businesses; the first 100
with two years of appointments, 1,000,000 in all, now in the middle of them; the other 400
with the two months around now. 20,000 patients; every appointment's booking is in its
history; every reminder due is sent already. Now is a Tuesday at 19:33 in Paris, after the
employers' summaries are due.

- the hot paths (``bench.hot``): free-slot search for a day, a week and an exact time, and
  booking with its overlap check, in a business of the first 100 on a day of the next two
  months: p50 / p99; the 500 employers' daily summaries, in all; the minute sweep with
  nothing due (the summaries already owed);
- CPU per update: the same booking conversations (``/start``, a request in words, a tap on
  the time offered) handled by a bot in its own process (``bench.botproc``) on the empty
  database and by another on the full one, turn about, round after round: the CPU time of
  each bot's process alone, per update, the medians of the rounds, and their ratio;
- the plan of every distinct statement the hot paths and a few conversations run in this
  process: a large table read whole, or a time range bounded on one side only, is flagged.
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
from pathlib import Path
from typing import Any

import yaml
from telegram.ext import Application, CallbackContext

from bench.dataset import Span, fill, remind_all_but
from bench.hot import (
    BOOKING,
    MAIL_MERGES,
    OFFER_DAY,
    OFFER_EXACT,
    OFFER_WEEK,
    SUMMARY,
    SWEEP,
    UPDATES_PER_CONVERSATION,
    Hot,
    converse,
)
from bench.throughput import BotProcess
from bot.app import build_application, running
from bot.clock import ManualClock
from bot.config import Settings, parse_settings
from bot.simulator import Simulator
from handlers import delivery
from handlers.common import deps
from storage import Store
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
# CPU per update: rounds of conversations, each bot (empty, full) in turn.
ROUNDS = 5
CONVERSATIONS = 40
SWEEPS = 20
EMPLOYERS = 900_000_000
EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.yaml"
SEARCH_TARGET_MS = 5.0
CPU_TARGET = 1.2  # times the empty database's
SUMMARIES_TARGET_S = 5.0
SWEEP_TARGET_MS = 50.0


def config_for(
    database: Path | str, businesses: int = BUSINESSES, practitioners: tuple[str, ...] = ("A", "B")
) -> dict[str, Any]:
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
    return data


def settings_for(database: Path | str, **shape: Any) -> Settings:
    return parse_settings(config_for(database, **shape))


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


async def _timed(action: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


def _users(tg: Simulator, settings: Settings) -> None:
    """The staff the bot writes to, known to the simulator."""
    tg.user(settings.secretaries[0].telegram_id, settings.secretaries[0].name)
    for business in settings.businesses:
        for employer in business.employers:
            tg.user(employer, f"Employer{employer}")


async def _cpu_per_update(folder: Path, empty: Path, full: Path) -> tuple[list[float], ...]:
    """CPU ms per update of each bot's process, round after round, the bots taking turns so
    that the machine's load falls on both alike."""
    figures: tuple[list[float], list[float]] = ([], [])
    clock = lambda: NOW  # noqa: E731 - both bots' clocks stand still too
    async with Simulator("4242:EMPTY", clock=clock) as empty_tg, Simulator(clock=clock) as tg:
        for simulator, config in ((empty_tg, empty), (tg, full)):
            _users(simulator, parse_settings(yaml.safe_load(config.read_text())))
        async with (
            BotProcess("booking", empty_tg, folder, str(empty), NOW.isoformat()) as empty_bot,
            BotProcess("booking", tg, folder, str(full), NOW.isoformat()) as full_bot,
        ):
            for number in range(ROUNDS + 1):
                for bot, cpu in zip((empty_bot, full_bot), figures, strict=True):
                    before = (await bot.stats())["cpu"]
                    for patient in range(number * CONVERSATIONS, (number + 1) * CONVERSATIONS):
                        slug = f"business-{1 + patient % WITH_HISTORY}"
                        await converse(bot.tg, 10_000_000 + patient, slug, 14 + patient % 4)
                    spent = (await bot.stats())["cpu"] - before
                    if number:  # the first round warms each bot up: not counted
                        cpu.append(spent * 1000 / (CONVERSATIONS * UPDATES_PER_CONVERSATION))
    return figures


def _application(settings: Settings, store: Store, tg: Simulator) -> Application:
    """The bot in this process, on a simulator: the hot paths are timed before it runs (its
    deliveries, and the simulator's answers, would be timed with them), the conversations
    and the sweeps while it does."""
    telegram = settings.telegram.model_copy(
        update={
            "base_url": tg.base_url,
            "base_file_url": tg.base_file_url,
            "max_messages_per_second": 100_000,
        }
    )
    _users(tg, settings)
    return build_application(
        settings.model_copy(update={"telegram": telegram}),
        store,
        ManualClock(NOW),
        token=tg.token,
        sweep_every=None,
    )


async def _hot(hot: Hot, context: CallbackContext, runs: int, rng: random.Random) -> list[float]:
    settings = deps(context).settings
    today = deps(context).booking.today(settings.businesses[0])
    timings = []
    for number in range(runs):
        business = settings.businesses[rng.randrange(WITH_HISTORY)]
        day = today + timedelta(days=rng.randrange(1, 60))
        action = await hot.ready(context, business, day, number + 1)
        timings.append(await _timed(action))
    return timings


async def _hot_paths(application: Application, tg: Simulator) -> None:
    context = CallbackContext(application)
    rng = random.Random(11)
    for hot in (OFFER_DAY, OFFER_WEEK, OFFER_EXACT, BOOKING):
        print(line(hot.name, await _hot(hot, context, RUNS, rng), SEARCH_TARGET_MS))
    settings = deps(context).settings
    started = time.perf_counter()
    for business in settings.businesses:
        await (await SUMMARY.ready(context, business, NOW.date(), 0))()
    spent = time.perf_counter() - started
    verdict = "ok" if spent <= SUMMARIES_TARGET_S else "OVER"
    print(
        f"  {BUSINESSES} employers' daily summaries     {spent:6.2f} s in all, "
        f"{spent * 1000 / BUSINESSES:.1f} ms each   (target <= {SUMMARIES_TARGET_S:g} s) {verdict}"
    )
    await (await MAIL_MERGES.ready(context, settings.businesses[0], NOW.date(), 0))()
    async with running(application):
        idle = delivery.deliverer(application).idle
        tg.add_idle_waiter(application.update_queue.join)
        tg.add_idle_waiter(idle)
        await idle()  # what the bookings above owed the secretary
        for patient in range(CONVERSATIONS):
            await converse(tg, 20_000_000 + patient, f"business-{1 + patient}", 14 + patient % 4)
        sweep = await SWEEP.ready(context, settings.businesses[0], NOW.date(), 0)
        await sweep()  # owes the 500 summaries: not counted
        await idle()
        timings = [await _timed(sweep) for _ in range(SWEEPS)]
    print(line("the minute sweep, nothing due", timings, SWEEP_TARGET_MS))


def _report_cpu(empty: list[float], full: list[float]) -> None:
    med = statistics.median
    ratio = med(full) / med(empty)
    verdict = "ok" if ratio <= CPU_TARGET else "OVER"
    print(
        f"  CPU per update (bot process)     {med(empty):.2f} ms empty, "
        f"{med(full):.2f} ms at {APPOINTMENTS:,}: x{ratio:.2f}   "
        f"(target <= x{CPU_TARGET:.2f}) {verdict}"
    )
    print(
        f"    medians of {ROUNDS} rounds of {CONVERSATIONS * UPDATES_PER_CONVERSATION} "
        f"updates; empty {', '.join(f'{r:.2f}' for r in empty)}; "
        f"full {', '.join(f'{r:.2f}' for r in full)}"
    )


async def _measure(folder: Path) -> None:
    configs = {}
    for name in ("empty", "full"):
        data = config_for(folder / f"{name}.sqlite3")
        configs[name] = folder / f"{name}.yaml"
        configs[name].write_text(yaml.safe_dump(data), encoding="utf-8")
        await (await _open(parse_settings(data))).close()
    settings = parse_settings(yaml.safe_load(configs["full"].read_text()))
    _fill(settings)
    _report_cpu(*await _cpu_per_update(folder, configs["empty"], configs["full"]))

    store = await _open(settings)
    async with recorded(store.db) as statements, Simulator(clock=lambda: NOW) as tg:
        await _hot_paths(_application(settings, store, tg), tg)
    await show_plans(store.db, statements)
    await store.close()


async def show_plans(database: Database, statements: list[Any]) -> None:
    """The plan of each of ``statements``: a large table read whole, or a time range bounded
    on one side, flagged."""
    plans = await explain(database, statements)
    partial = await partial_indexes(database)
    flagged = [plan for plan in plans if plan.scans(partial) or plan.one_sided()]
    print(
        f"query plans: {len(plans)} distinct statements, {len(flagged)} reading a large table "
        "whole or a time range bounded on one side"
    )
    for plan in plans:
        flag = "SCAN " if plan.scans(partial) else "HALF " if plan.one_sided() else "     "
        print(f"  {flag}{plan.sql[:150]}")
        for step in plan.steps:
            print(f"           {step}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as folder:
        asyncio.run(_measure(Path(folder)))


if __name__ == "__main__":
    main()
