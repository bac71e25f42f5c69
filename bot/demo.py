"""``secretary-bot demo``: the real bot against the local simulator, in a scripted scene.

Time stands still on an ordinary Monday morning so the scene reads the same every run; the
database lives in a temporary folder and is gone afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from telegram.ext import Application, CallbackContext

from bot.app import build_application, running
from bot.clock import ManualClock
from bot.config import Settings, TelegramSettings
from bot.simulator import Simulator, find_spec
from handlers import delivery, scheduled
from storage import Store

SCENE_START = "2027-01-11T09:00"


async def play(settings: Settings, write: Callable[[str], object]) -> int:
    """Play the scene, writing the chat as it happens; 0 when every request was valid."""
    with tempfile.TemporaryDirectory(prefix="secretary-demo-") as folder:
        async with Simulator(spec_path=find_spec()) as tg:
            settings = settings.model_copy(
                update={
                    "telegram": TelegramSettings(
                        base_url=tg.base_url, base_file_url=tg.base_file_url
                    ),
                    "database": Path(folder) / "demo.sqlite3",
                }
            )
            clinic = settings.businesses[0]
            zone = settings.zone(clinic)
            clock = ManualClock(datetime.fromisoformat(SCENE_START).replace(tzinfo=zone))
            store = await Store.open(
                settings.database, [(b.slug, b.name) for b in settings.businesses]
            )
            # The scene runs the minute's scheduled work itself, at the moments it shows.
            application = build_application(
                settings, store, clock, token=tg.token, sweep_every=None
            )
            tg.on_event = lambda line: write(f"{line}\n")
            try:
                async with running(application):
                    # A step of the scene is over once every message it owed was delivered.
                    tg.add_idle_waiter(application.update_queue.join)
                    tg.add_idle_waiter(delivery.deliverer(application).idle)
                    write(f"— {clock.now():%A %d %B %Y, %H:%M} ({zone.key}) —\n")
                    await _scene(tg, settings, tg.on_event)
                    await _later(tg, settings, clock, application, tg.on_event)
            finally:
                await store.close()
        if tg.violations:
            write("\nRequests the Bot API would refuse:\n")
            for violation in tg.violations:
                write(f"  {violation}\n")
            return 1
    return 0


async def _scene(tg: Simulator, settings: Settings, say: Callable[[str], object]) -> None:
    secretary = settings.secretaries[0]
    claire = tg.user(secretary.telegram_id, secretary.name, language=secretary.language)
    clinic, *others = settings.businesses

    say(f"\n# A patient of {clinic.name} asks in plain words; the secretary confirms.")
    alice = tg.user(5001, "Alice", last_name="Martin", language="fr")
    await alice.send(f"/start {clinic.slug}")
    await alice.send("Bonjour, je voudrais un détartrage mardi prochain vers 10h svp")
    await alice.tap(alice.last.buttons[0][0])
    await alice.share_contact("+33 6 12 34 56 78")
    await claire.tap(claire.last.buttons[0][0], in_message=claire.last)

    say("\n# Another patient books with buttons only; the secretary declines.")
    chloe = tg.user(5002, "Chloé", language="fr")
    await chloe.send(f"/start {clinic.slug}")
    await chloe.tap(chloe.last.buttons[0][0])  # book
    await chloe.tap(chloe.last.buttons[0][0])  # the first service
    await chloe.tap(chloe.last.buttons[1][0])  # the second day offered
    await chloe.tap(chloe.last.buttons[0][0])  # the first time
    await claire.tap(claire.last.buttons[0][1], in_message=claire.last)

    if others:
        institute = others[0]
        say(f"\n# An English-speaking client of {institute.name}, booked at once.")
        bob = tg.user(5003, "Bob", language="en")
        await bob.send(f"/start {institute.slug}")
        await bob.send("a massage on Friday afternoon please")
        await bob.tap(bob.last.buttons[0][0])


async def _later(
    tg: Simulator,
    settings: Settings,
    clock: ManualClock,
    application: Application,
    say: Callable[[str], object],
) -> None:
    """The bot on its own: the evening summary, the morning digest, a reminder."""
    clinic = settings.businesses[0]
    zone = settings.zone(clinic)
    for employer in clinic.employers:
        tg.user(employer, "Dr Dupont", language=settings.language)
    evening = datetime.combine(clock.now().date(), clinic.daily_summary_at, tzinfo=zone)
    clock.set(evening)
    say(f"\n# {evening:%H:%M}: the employer's daily summary.")
    await _sweep(application)

    morning = (evening + timedelta(days=1)).replace(hour=8, minute=0)
    clock.set(morning)
    say(f"\n# Next morning, {morning:%H:%M}: the secretary's digest and Alice's reminder.")
    await _sweep(application)
    alice = tg.user(5001, "Alice", last_name="Martin", language="fr")
    await alice.tap(alice.last.buttons[0][0])


async def _sweep(application: Application) -> None:
    """The minute's scheduled work, and what it owed delivered."""
    await scheduled.sweep(CallbackContext(application))
    await delivery.deliverer(application).idle()
