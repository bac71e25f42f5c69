"""The whole bot over HTTP: how many patient updates a second one process answers.

The real application polls the local simulator, as in the end-to-end tests. Each patient
opens the practice's link, asks in words and taps the time offered; the time from an update
sent to the bot's answer is measured for every step. Patients take turns, as updates are
handled one at a time.

Telegram lets a bot send about 30 messages a second, and the bot paces itself under that
(``telegram.max_messages_per_second``): with that pacing, a booking's three answers alone take
100 ms. The bench lifts the pacing to measure the bot's own work, then prints what the real
limit allows.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.app import build_application, running
from bot.clock import ManualClock
from bot.config import parse_settings
from bot.simulator import Simulator
from storage import Store

PATIENTS = 150
EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.yaml"
REQUESTS = [
    "un détartrage mardi vers {hour}h",
    "une consultation mercredi à {hour}h svp",
    "détartrage jeudi {hour}h",
]


async def _measure(folder: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["database"] = str(folder / "bench.sqlite3")
    settings = parse_settings(data)
    clock = ManualClock(datetime(2027, 1, 11, 7, 0, tzinfo=ZoneInfo("Europe/Paris")))
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    steps: dict[str, list[float]] = {"start": [], "words": [], "tap": []}
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
        async with running(application):
            tg.add_idle_waiter(application.update_queue.join)
            started = time.perf_counter()
            for number in range(PATIENTS):
                patient = tg.user(10_000 + number, f"Patient{number}", language="fr")
                text = REQUESTS[number % len(REQUESTS)].format(hour=8 + number % 10)
                for step, action in (
                    ("start", lambda p=patient: p.send("/start cabinet-dupont")),
                    ("words", lambda p=patient, t=text: p.send(t)),
                    ("tap", lambda p=patient: p.tap(p.last.buttons[0][0])),
                ):
                    began = time.perf_counter()
                    await action()
                    steps[step].append((time.perf_counter() - began) * 1000)
            elapsed = time.perf_counter() - started
    await store.close()
    updates = PATIENTS * len(steps)
    print(
        f"{PATIENTS} patients, {updates} updates in {elapsed:.1f} s: "
        f"{updates / elapsed:.0f} updates/s, {PATIENTS / elapsed:.1f} bookings/s, one at a time"
    )
    sent = sum(1 for r in tg.requests if r.method in ("sendMessage", "editMessageText"))
    print(
        f"  Telegram's ~30 messages/s allow about {30 * PATIENTS / sent:.0f} bookings/s "
        f"({sent / PATIENTS:.1f} messages each)"
    )
    for step, timings in steps.items():
        ordered = sorted(timings)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        print(f"  {step:5}  p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as folder:
        asyncio.run(_measure(Path(folder)))


if __name__ == "__main__":
    main()
