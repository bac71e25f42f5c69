"""A real ``secretary-bot run`` process, SIGKILLed again and again while Telegram fails one
call in ten: requests waiting for the secretary, her confirmations, reminders falling due.

When the killing stops, every request has reached the secretary, every confirmation and
reminder its patient, and a message arrives twice only where a process died, or Telegram lost
its answer, after Telegram had applied it. ``make soak`` runs it full size (KILLS, PATIENTS).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
from datetime import UTC, datetime, timedelta

import yaml

from bot import outbox
from bot.config import parse_settings
from bot.simulator import ALL_FAULTS, Fault
from storage import Store
from storage.appointments import NewAppointment, Source, Status
from tests.conftest import run_bot

log = logging.getLogger(__name__)

TOKEN = "424242:KILL-TEST"
KILLS = int(os.environ.get("KILLS", "4"))
PATIENTS = int(os.environ.get("PATIENTS", "8"))


def waiting(message) -> bool:
    """An inbox copy still waiting for a decision (a decided one may offer "Répéter…")."""
    return any("✅ Confirmer" in row for row in message.buttons)


async def start_bot(config) -> asyncio.subprocess.Process:
    return await run_bot(config, TOKEN)


async def _owes_nothing(database) -> bool:
    store = await Store.open(database)
    try:
        return set(await store.outbox.counts()) <= {"sent", "moot"}
    finally:
        await store.close()


def said(user, opening: str) -> int:
    return sum(1 for m in user.messages if m.from_bot and (m.text or "").startswith(opening))


async def test_sigkills_under_faults_lose_nothing(config_data, tmp_path, tg):
    tg.token = TOKEN
    tg.settle_timeout = 60  # updates wait while the bot is down
    config_data["telegram"]["base_url"] = tg.base_url
    config_data["telegram"]["timeout_seconds"] = 0.5
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    settings = parse_settings(config_data)

    # Requests made before the day starts: the bot owes each one to the secretary's inbox.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    made = now - timedelta(hours=1)
    dupont = settings.business("cabinet-dupont")
    patients = []
    for index in range(PATIENTS):
        patient = tg.user(8000 + index, f"Patient{index}", language="fr")
        patients.append(patient)
        await store.people.seen(
            patient.id,
            first_name=patient.first_name,
            last_name=None,
            username=None,
            language="fr",
            now=now,
        )
        # Made an hour ago for a time within two hours: its 2 h reminder is due once confirmed.
        start = now + timedelta(hours=1, minutes=2 + 3 * (index // 2))
        await store.appointments.book(
            _request(store, dupont, patient.id, start, index),
            now=made,
            tell=lambda request: outbox.to_inbox(settings, request),
        )
    await store.close()

    claire = tg.user(111111111, "Claire", language="fr")
    # The employers too: a summary may fall due, whatever time of day the test runs.
    for business in settings.businesses:
        for employer in business.employers:
            tg.user(employer, f"Employer {employer}", language="fr")
    tg.inject_faults(0.1, ALL_FAULTS, seed=3, retry_after=1, slow_seconds=1.0)
    rng = random.Random(5)
    process = await start_bot(config)
    kills = 0

    async def killer() -> None:
        nonlocal process, kills
        while kills < KILLS:
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
            process = await start_bot(config)

    killing = asyncio.create_task(killer())
    try:
        async with asyncio.timeout(120 + 10 * KILLS):
            # The secretary confirms each request as its copy reaches her inbox.
            confirmed: set[int] = set()
            while len(confirmed) < PATIENTS or not killing.done():
                for index, patient in enumerate(patients):
                    if patient.id in confirmed:
                        continue
                    copy = next(
                        (
                            m
                            for m in claire.messages
                            if f"Patient{index}\n" in (m.text or "") + "\n" and waiting(m)
                        ),
                        None,
                    )
                    if copy is not None:
                        await claire.tap("✅ Confirmer", in_message=copy)
                    if said(patient, "Votre rendez-vous est confirmé ✅"):
                        confirmed.add(patient.id)
                await asyncio.sleep(0.2)
            await killing
            # One last kill: the new process's first sweep, a second after it starts, owes
            # the reminders of what is confirmed now (instead of waiting for the minute).
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
            process = await start_bot(config)
            # The day goes on without killing until every reminder has arrived.
            while not all(said(p, "⏰ Rappel") for p in patients):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            # A reminder Telegram applied but whose answer it lost reaches the patient before
            # the bot's retry marks it sent: stopping in between would leave it pending.
            # Telegram is well again for that last stretch.
            faults = tg.fault_counts
            tg.clear_faults()
            while not await _owes_nothing(settings.database):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    finally:
        killing.cancel()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)

    store = await Store.open(settings.database)
    try:
        for patient in patients:
            (appointment,) = await store.appointments.of_patient(patient.id, now)
            assert appointment.status == Status.CONFIRMED
        counts = await store.outbox.counts()
        assert set(counts) <= {"sent", "moot"}, counts
    finally:
        await store.close()
    copies = [said(p, "Votre rendez-vous est confirmé ✅") for p in patients]
    reminders = [said(p, "⏰ Rappel") for p in patients]
    duplicates = sum(copies) + sum(reminders) - 2 * PATIENTS
    log.info(
        "kills %s, patients %s, faults %s, confirmations %s, reminders %s, duplicates %s",
        kills,
        PATIENTS,
        faults,
        sum(copies),
        sum(reminders),
        duplicates,
    )
    assert kills == KILLS + 1
    assert all(copies) and all(reminders)
    # A process killed mid-send resends what it had in flight (at most 4 at once).
    assert duplicates <= faults[Fault.SLOW_AFTER_APPLY] + faults[Fault.DROP_AFTER] + 4 * kills


def _request(store, business, patient_id, start, index) -> NewAppointment:
    return NewAppointment(
        business_id=store.business_ids[business.slug],
        practitioner=business.practitioners[index % 2],
        service="detartrage",
        starts_at=start,
        ends_at=start + timedelta(minutes=2),  # short, so that many fit within two hours
        status=Status.REQUESTED,
        source=Source.PATIENT,
        patient_id=patient_id,
    )
