"""A real bot process killed with SIGKILL in the middle of a reminder sweep, then restarted.

Reminders are decided once in SQLite and owed to the outbox; the kill lands while Telegram
(the simulator) is answering reminders it already delivered. Those few are sent again (a
reminder twice is better than none, DESIGN.md); every other patient gets exactly one.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta

import yaml

from storage import Store
from storage.appointments import NewAppointment, Source, Status
from storage.reminders import ReminderPlan
from tests.conftest import run_bot

TOKEN = "424242:RESTART-TEST"
PATIENTS = 24


async def start_bot(config) -> asyncio.subprocess.Process:
    return await run_bot(config, TOKEN)


async def wait_for(condition) -> None:
    """Poll: the bot runs in another process, so there is no event to wait on."""
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def _reminders_owed(database) -> bool:
    store = await Store.open(database)
    try:
        return any(m.status != "sent" for m in await store.outbox.messages(kind="reminder"))
    finally:
        await store.close()


def reminders(user) -> int:
    return sum(m.text.startswith("⏰") for m in user.messages)


async def test_sigkill_during_a_sweep_loses_nothing_and_sends_nothing_twice(
    config_data, tmp_path, tg
):
    tg.token = TOKEN
    config_data["telegram"]["base_url"] = tg.base_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    booked = now - timedelta(days=3)
    store = await Store.open(config_data["database"], [("cabinet-dupont", "Cabinet Dupont")])
    patients = []
    for i in range(PATIENTS):
        patient = tg.user(7000 + i, f"Patient{i}", language="fr")
        patients.append(patient)
        await store.people.seen(
            patient.id,
            first_name=patient.first_name,
            last_name=None,
            username=None,
            language="fr",
            now=booked,
        )
        start = now + timedelta(hours=3, minutes=30 * (i // 2))  # due for the 48 h reminder
        await store.appointments.book(
            NewAppointment(
                business_id=store.business_ids["cabinet-dupont"],
                practitioner=("Dr Dupont", "Dr Martin")[i % 2],
                service="detartrage",
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                status=Status.CONFIRMED,
                source=Source.PATIENT,
                patient_id=patient.id,
            ),
            now=booked,
        )
    await store.close()

    tg.slow_down("sendMessage", 0.3)
    first = await start_bot(config)
    try:
        await wait_for(lambda: sum(reminders(p) for p in patients) >= 5)
        # Kill while the simulator holds back its answer to a reminder it has delivered.
        await wait_for(
            lambda: any(r.method == "sendMessage" and r.status == 0 for r in tg.requests)
        )
        await asyncio.sleep(0.05)
        unanswered = {
            int(r.params["chat_id"])
            for r in tg.requests
            if r.method == "sendMessage" and r.status == 0
        }
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    delivered_before = sum(reminders(p) for p in patients)
    assert 5 <= delivered_before < PATIENTS

    tg.slow_down("sendMessage", 0)
    second = await start_bot(config)
    try:
        await wait_for(lambda: all(reminders(p) >= 1 for p in patients))
        # What the dead process was sending is taken back once its claims run out
        # (Deliverer.LEASE): until then the new one cannot tell it from a live worker's.
        async with asyncio.timeout(30):
            while await _reminders_owed(config_data["database"]):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), timeout=30)
    # A second copy only for a reminder whose answer the dead process never heard.
    twice = {p.id for p in patients if reminders(p) == 2}
    assert twice <= unanswered
    assert all(reminders(p) in (1, 2) for p in patients)

    store = await Store.open(config_data["database"])
    # Nothing is left owed, and no later sweep finds a reminder left to decide.
    # (Only reminders: a summary or digest may fall due too, at whatever hour the test runs.)
    reminders_owed = await store.outbox.messages(kind="reminder")
    assert [m.status for m in reminders_owed] == ["sent"] * PATIENTS
    assert (
        await store.reminders.due(
            datetime.now(UTC), [ReminderPlan((timedelta(hours=48), timedelta(hours=2)))]
        )
        == []
    )
    await store.close()
