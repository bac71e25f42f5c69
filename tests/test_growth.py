"""Bounded growth: no write for what did not change.

Writes are counted, not timed: each write to user_sessions is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.persistence import SQLitePersistence

CLAIRE = 111111111
PATIENTS = range(6001, 6021)


@dataclass
class Count:
    n: int = 0


def count_calls(owner: object, name: str, monkeypatch) -> Count:
    count, original = Count(), getattr(owner, name)

    async def counted(*args, **kwargs):
        count.n += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return count


# -- python-telegram-bot's persistence -------------------------------------------------------


async def test_persistence_writes_what_changed_and_nothing_for_empty_data(store, monkeypatch):
    persistence = SQLitePersistence(store.sessions)
    assert await persistence.get_user_data() == {}
    writes = count_calls(store.sessions, "put_user_data", monkeypatch)

    for user_id in PATIENTS:  # every user the bot heard from, most with nothing to keep
        await persistence.update_user_data(user_id, {})
    await persistence.drop_user_data(PATIENTS[0])
    assert writes.n == 0

    await persistence.update_user_data(CLAIRE, {"draft": {"step": "fee"}})
    await persistence.update_user_data(CLAIRE, {"draft": {"step": "fee"}})
    assert writes.n == 1
    await persistence.update_user_data(CLAIRE, {"draft": {"step": "minutes"}})
    assert writes.n == 2
    await persistence.update_user_data(CLAIRE, {})
    await persistence.update_user_data(CLAIRE, {})
    assert writes.n == 3
    assert await store.sessions.user_data() == {}


async def test_after_a_restart_what_was_kept_is_not_written_again(store, monkeypatch):
    await SQLitePersistence(store.sessions).update_user_data(CLAIRE, {"draft": {"step": "fee"}})
    restarted = SQLitePersistence(store.sessions)
    kept = await restarted.get_user_data()
    writes = count_calls(store.sessions, "put_user_data", monkeypatch)
    await restarted.update_user_data(CLAIRE, kept[CLAIRE])
    assert writes.n == 0
    await restarted.drop_user_data(CLAIRE)
    assert writes.n == 1
    assert await store.sessions.user_data() == {}


async def test_the_running_bot_writes_no_session_for_patients_who_have_none(
    bot, tg, store, monkeypatch
):
    handed_over = count_calls(bot.persistence, "update_user_data", monkeypatch)
    writes = count_calls(store.sessions, "put_user_data", monkeypatch)
    for user_id in PATIENTS:
        await tg.user(user_id, f"Patient{user_id}", language="fr").send("/start cabinet-dupont")
    await bot.update_persistence()
    assert handed_over.n == len(PATIENTS)
    assert writes.n == 0

    # A first request leaves a mark ("asked for a number once"): written once, not again.
    alice = tg.user(PATIENTS[0], "Alice", language="fr")
    await alice.tap("📅 Prendre rendez-vous")
    await alice.tap("Détartrage")
    await alice.tap("mar. 12 janv.")
    await alice.tap("09:00")
    await bot.update_persistence()
    assert writes.n == 1
    await alice.send("merci")
    await bot.update_persistence()
    assert writes.n == 1
