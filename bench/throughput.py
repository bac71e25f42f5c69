"""The whole bot over HTTP: secretary-bot's booking conversation beside a bare echo bot.

Each bot runs in its own process (``bench.botproc``) and polls its own simulator in this
process, the same code with the same settings; the bench drives them the same way: each
patient opens the practice's link, asks in words and taps the first button the answer
shows, and waits for the bot to be done with each step before the next (updates are handled
one at a time). The echo bot echoes both texts with one button and answers the tap: what
python-telegram-bot and httpx alone cost; a second echo bot makes its calls with aiohttp, as
secretary-bot does (``bot.transport``), to show the booking bot against the floor of its own
transport too. The bots take turns, round after round, so that
the machine's load falls on all alike; the figures are the medians of the rounds.

The booking bot keeps its database from round to round: after the last one it holds every
booking made, and its peak RSS is read then. Its CPU time, SQL round trips (calls handed to
SQLite's thread) and write transactions are counted in its own process, per update.

Telegram lets a bot send about 30 messages a second, and the bot paces itself under that
(``telegram.max_messages_per_second``): the bench lifts the pacing to measure the bot's own
work, then prints what the real limit allows.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.botproc import NOW
from bot.simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3
PATIENTS = 334  # a round; the three make 1,002 bookings
REQUESTS = [
    "un détartrage mardi vers {hour}h",
    "une consultation mercredi à {hour}h svp",
    "détartrage jeudi {hour}h",
]
STEPS = ("start", "words", "tap")
SECRETARY = 111111111  # config.example.yaml's
# The figures (2 cores, before the speed-up), and what must be reached.
REFERENCE = {"echo": 259, "booking": 82, "cpu_ms": 13.0, "round_trips": 16.4, "writes": 2.34}
TARGET_RATIO = 0.5


class BotProcess:
    """A bot in its own process, polling ``tg``."""

    def __init__(self, kind: str, tg: Simulator, folder: Path, *arguments: str):
        self.kind, self.tg, self.folder, self.arguments = kind, tg, folder, arguments
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.botproc",
            self.kind,
            self.tg.base_url,
            self.tg.token,
            str(self.folder),
            *self.arguments,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        await self._expect("ready")
        self.tg.add_idle_waiter(self.idle)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._process.stdin.close()
        await asyncio.wait_for(self._process.wait(), timeout=30)

    async def idle(self) -> None:
        """Every update the bot fetched has been handled."""
        await self._ask("idle")

    async def stats(self) -> dict[str, float]:
        return json.loads(await self._ask("stats"))

    async def _ask(self, command: str) -> str:
        self._process.stdin.write(f"{command}\n".encode())
        await self._process.stdin.drain()
        return await self._expect()

    async def _expect(self, word: str | None = None) -> str:
        line = (await self._process.stdout.readline()).decode().strip()
        if not line or (word is not None and line != word):
            raise SystemExit(f"the {self.kind} bot said {line!r}, not {word or 'an answer'}")
        return line


@dataclass
class Run:
    updates_per_s: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    last: dict[str, float] = field(default_factory=dict)


async def _round(bot: BotProcess, run: Run, first_patient: int, patients: int = PATIENTS) -> None:
    before = await bot.stats()
    started = time.perf_counter()
    for number in range(first_patient, first_patient + patients):
        patient = bot.tg.user(10_000 + number, f"Patient{number}", language="fr")
        text = REQUESTS[number % len(REQUESTS)].format(hour=8 + number % 10)
        for step, action in (
            ("start", lambda p=patient: p.send("/start cabinet-dupont")),
            ("words", lambda p=patient, t=text: p.send(t)),
            ("tap", lambda p=patient: p.tap(p.last.buttons[0][0])),
        ):
            began = time.perf_counter()
            await action()
            run.steps[step].append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    after = await bot.stats()
    updates = patients * len(STEPS)
    run.updates_per_s.append(updates / elapsed)
    run.cpu_ms.append((after["cpu"] - before["cpu"]) * 1000 / updates)
    if "round_trips" in after:
        run.round_trips.append((after["round_trips"] - before["round_trips"]) / updates)
        run.writes.append((after["transactions"] - before["transactions"]) / updates)
    run.last = after


async def _measure(folder: Path) -> tuple[Run, Run, Run, Simulator]:
    echo, echo_aiohttp, booking = Run(), Run(), Run()
    clock = lambda: NOW  # noqa: E731 - the booking bot's own clock stands still too
    async with (
        Simulator("4242:ECHO", clock=clock) as echo_tg,
        Simulator("4343:ECHO", clock=clock) as echo_aiohttp_tg,
        Simulator(clock=clock) as tg,
    ):
        tg.user(SECRETARY, "Claire")
        async with (
            BotProcess("echo", echo_tg, folder) as echo_bot,
            BotProcess("echo-aiohttp", echo_aiohttp_tg, folder) as echo_aiohttp_bot,
            BotProcess("booking", tg, folder) as booking_bot,
        ):
            for number in range(ROUNDS):
                await _round(echo_bot, echo, number * PATIENTS)
                await _round(echo_aiohttp_bot, echo_aiohttp, number * PATIENTS)
                await _round(booking_bot, booking, number * PATIENTS)
    return echo, echo_aiohttp, booking, tg


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[int(len(ordered) * 0.95) - 1]


def report(echo: Run, echo_aiohttp: Run, booking: Run, tg: Simulator) -> None:
    med = statistics.median
    updates = PATIENTS * len(STEPS)
    ratio = med(booking.updates_per_s) / med(echo.updates_per_s)
    like_for_like = med(booking.updates_per_s) / med(echo_aiohttp.updates_per_s)
    print(f"{ROUNDS} rounds of {PATIENTS} patients, {updates} updates each; medians, reference:")
    print(
        f"  echo bot (bare PTB)      {med(echo.updates_per_s):6.0f} updates/s   "
        f"ref {REFERENCE['echo']}   CPU {med(echo.cpu_ms):5.1f} ms/update"
    )
    print(
        f"  echo bot on aiohttp      {med(echo_aiohttp.updates_per_s):6.0f} updates/s   "
        f"        CPU {med(echo_aiohttp.cpu_ms):5.1f} ms/update   (the booking bot's transport)"
    )
    print(
        f"  booking conversation     {med(booking.updates_per_s):6.0f} updates/s   "
        f"ref {REFERENCE['booking']}   CPU {med(booking.cpu_ms):5.1f} ms/update   "
        f"ref {REFERENCE['cpu_ms']}"
    )
    print(
        f"  booking / echo           {ratio:6.0%}              ref "
        f"{REFERENCE['booking'] / REFERENCE['echo']:.0%}   target ≥ {TARGET_RATIO:.0%}   "
        f"{'ok' if ratio >= TARGET_RATIO else 'MISSED'}"
    )
    print(f"  booking / echo on aiohttp {like_for_like:5.0%}              (both on one transport)")
    print(
        f"  per update: {med(booking.round_trips):.1f} SQL round trips "
        f"(ref {REFERENCE['round_trips']}), {med(booking.writes):.2f} write transactions "
        f"(ref {REFERENCE['writes']})"
    )
    print(
        f"  rounds, updates/s: echo {', '.join(f'{r:.0f}' for r in echo.updates_per_s)}; "
        f"on aiohttp {', '.join(f'{r:.0f}' for r in echo_aiohttp.updates_per_s)}; "
        f"booking {', '.join(f'{r:.0f}' for r in booking.updates_per_s)}"
    )
    print(
        f"  booking bot's peak RSS after {ROUNDS * PATIENTS:,} bookings: "
        f"{booking.last['peak_rss_kib'] / 1024:.0f} MiB (echo bot: "
        f"{echo.last['peak_rss_kib'] / 1024:.0f} MiB)"
    )
    sent = sum(1 for r in tg.requests if r.method in ("sendMessage", "editMessageText"))
    bookings = ROUNDS * PATIENTS
    print(
        f"  Telegram's ~30 messages/s allow about {30 * bookings / sent:.0f} bookings/s "
        f"({sent / bookings:.1f} messages each)"
    )
    for step, timings in booking.steps.items():
        print(f"  {step:5}  p50 {med(timings):6.1f} ms   p95 {_p95(timings):6.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as folder:
        report(*asyncio.run(_measure(Path(folder))))


if __name__ == "__main__":
    main()
