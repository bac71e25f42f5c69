"""The updates already handled, kept in the store for whichever worker gets one again."""

from __future__ import annotations

from datetime import timedelta

from handlers import scheduled
from tests.conftest import MONDAY_9AM, sweep


async def test_an_update_is_seen_once_recorded_and_recorded_once(store):
    assert not await store.handled_updates.seen(41)
    await store.handled_updates.record(41, MONDAY_9AM)
    await store.handled_updates.record(41, MONDAY_9AM + timedelta(minutes=1))
    assert await store.handled_updates.seen(41)
    assert not await store.handled_updates.seen(42)


async def test_ids_older_than_telegram_retries_are_forgotten(store):
    await store.handled_updates.record(1, MONDAY_9AM - scheduled.HANDLED_UPDATES_KEPT)
    await store.handled_updates.record(2, MONDAY_9AM - timedelta(hours=1))
    assert await store.handled_updates.forget(before=MONDAY_9AM - timedelta(days=1)) == 1
    assert not await store.handled_updates.seen(1)
    assert await store.handled_updates.seen(2)


async def test_the_sweep_forgets_them_after_two_days(bot, store, clock):
    await store.handled_updates.record(7, MONDAY_9AM)
    await sweep(bot)
    assert await store.handled_updates.seen(7)
    clock.advance(scheduled.HANDLED_UPDATES_KEPT + timedelta(minutes=1))
    await sweep(bot)
    assert not await store.handled_updates.seen(7)
