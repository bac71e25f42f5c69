"""A busy day while Telegram fails one call in ten, every way it does in practice.

Thirty patients book in words and tap a time, retrying as a person would when the bot's
answer does not come; the secretary confirms or declines each request from her inbox; the
reminders fall due. Whatever fails, every request reaches the secretary, every outcome and
reminder reaches its patient, nobody holds two appointments, and a message arrives twice
only where Telegram applied a call whose answer was lost (the kinds that are resent).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest

from bot.simulator import ALL_FAULTS, Fault
from storage.appointments import HOLDING, Status
from tests.conftest import PARIS, running_bot, sweep

log = logging.getLogger(__name__)

PATIENTS = 30
# Fast enough to keep the test short: a slow answer comes after the bot gave up on it.
TIMEOUT = 0.5
SLOW = 1.0
# The bot's answer to a tap is best effort; a person taps or writes again when it is missing.
TRIES = 6


def waiting(message) -> bool:
    """An inbox copy still waiting for a decision (a decided one may offer "Répéter…")."""
    return any("✅ Confirmer" in row for row in message.buttons)


@pytest.fixture
def settings(config_data):
    from bot.config import parse_settings

    config_data["telegram"]["timeout_seconds"] = TIMEOUT
    return parse_settings(config_data)


def _day_and_time(index: int) -> tuple[int, str, str]:
    """Tuesday 12 to Friday 15 January, half-hour steps from 09:00 to 12:00 (two
    practitioners: a time asked twice goes to the other one)."""
    day = 12 + index % 4
    minutes = 9 * 60 + 30 * ((index // 4) % 7)
    words = f"{minutes // 60}h{minutes % 60:02d}" if minutes % 60 else f"{minutes // 60}h"
    return day, words, f"{minutes // 60:02d}:{minutes % 60:02d}"


async def _book(tg, store, patient, text: str, label: str) -> None:
    """Ask in words and tap the time offered, as often as a person would need to."""
    await patient.send("/start cabinet-dupont")
    for _ in range(TRIES):
        if await store.appointments.of_patient(patient.id, tg.now()):
            return
        offer = next(
            (m for m in reversed(patient.messages) if m.find_button(label) is not None), None
        )
        if offer is None:
            await patient.send(text)
            continue
        await patient.tap(label, in_message=offer)
    raise AssertionError(f"patient {patient.id} could not book after {TRIES} tries")


def _sent_to(user, opening: str) -> int:
    """How many of the bot's messages in a chat open with these words."""
    return sum(1 for m in user.messages if m.from_bot and (m.text or "").startswith(opening))


async def test_a_busy_day_with_faults_loses_nothing(settings, store, clock, tg):
    claire = tg.user(111111111, "Claire", language="fr")
    async with running_bot(settings, store, clock, tg) as bot:
        await claire.send("/start")
        tg.inject_faults(0.1, ALL_FAULTS, seed=9, retry_after=1, slow_seconds=SLOW)
        patients = []
        for index in range(PATIENTS):
            patient = tg.user(6000 + index, f"Patient{index}", language="fr")
            day, words, label = _day_and_time(index)
            await _book(tg, store, patient, f"détartrage le {day} janvier à {words}", label)
            patients.append(patient)

        # The secretary answers every request from her inbox, retrying a tap that got no answer.
        decided: dict[int, Status] = {}
        for index, patient in enumerate(patients):
            (appointment,) = await store.appointments.of_patient(patient.id, tg.now())
            copy = next(
                m
                for m in claire.messages
                if f"Patient{index}\n" in (m.text or "") + "\n" and waiting(m)
            )
            label = "❌ Refuser" if index % 3 == 0 else "✅ Confirmer"
            for _ in range(TRIES):
                if (await store.appointments.get(appointment.id)).status != Status.REQUESTED:
                    break
                await claire.tap(label, in_message=copy)
            decided[patient.id] = (await store.appointments.get(appointment.id)).status

        # Reminders: two hours before each appointment still ahead.
        for day in (12, 13, 14, 15):
            for hour in range(8, 13):
                clock.set(clock.now().replace(2027, 1, day, hour, 15, tzinfo=PARIS))
                await sweep(bot)
        faults = tg.fault_counts
        tg.clear_faults()
        await tg.settle()

    assert sum(faults.values()) > 20, faults  # the day really was faulty
    # Every request reached the secretary; nobody holds two appointments.
    for index, patient in enumerate(patients):
        mine = await store.appointments.of_patient(patient.id, clock.now() - timedelta(days=9))
        assert len([a for a in mine if a.status in HOLDING or a.status == Status.DECLINED]) == 1
        assert any(f"Patient{index}\n" in (m.text or "") + "\n" for m in claire.messages)
    counts = await store.outbox.counts()
    assert set(counts) <= {"sent", "moot"}, counts
    # Every outcome reached its patient, and every reminder decided.
    reminded = Counter(m.chat_id for m in await store.outbox.messages(kind="reminder"))
    duplicates = 0
    for patient in patients:
        outcome = _sent_to(
            patient,
            "Votre rendez-vous est confirmé ✅"
            if decided[patient.id] == Status.CONFIRMED
            else "Désolé, le secrétariat ne peut pas vous recevoir",
        )
        assert outcome >= 1, patient.id
        duplicates += outcome - 1
        if patient.id in reminded:
            reminders = _sent_to(patient, "⏰ Rappel")  # 48 h and 2 h before: two owed
            assert reminders >= reminded[patient.id], patient.id
            duplicates += reminders - reminded[patient.id]
    assert reminded, "no reminder fell due"
    # A second copy only where Telegram applied a call whose answer the bot never had.
    ambiguous = faults[Fault.SLOW_AFTER_APPLY] + faults[Fault.DROP_AFTER]
    log.info(
        "faults %s; requests %s owed, %s in the inbox; outcomes %s; reminders %s; duplicates %s",
        faults,
        PATIENTS,
        len(await store.outbox.messages(kind="inbox.request")),
        len(decided),
        sum(reminded.values()),
        duplicates,
    )
    assert duplicates <= ambiguous
