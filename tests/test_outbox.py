"""The outbox on a real SQLite file: what is claimed, in which order, and by whom."""

from __future__ import annotations

import pytest

from handlers import delivery
from storage.calls import NewCall
from storage.outbox import Owed, Status
from tests.conftest import MONDAY_9AM

pytestmark = pytest.mark.backends


async def test_a_chat_reads_its_messages_in_the_order_they_were_owed(store):
    await store.outbox.add([Owed("call.forward", 1), Owed("call.forward", 1)], MONDAY_9AM)
    await store.outbox.add([Owed("call.forward", 2)], MONDAY_9AM)
    first = await store.outbox.claim("me", wall=0, limit=10)
    assert [(m.chat_id, m.id) for m in first] == [(1, 1), (2, 3)]  # one per chat at a time
    assert await store.outbox.claim("me", wall=0, limit=10) == []
    await store.outbox.delivered(1, 500, MONDAY_9AM)
    (second,) = await store.outbox.claim("me", wall=0, limit=10)
    assert second.id == 2


async def test_a_retry_waits_its_time_and_holds_back_its_chat(store):
    await store.outbox.add([Owed("call.forward", 1), Owed("call.forward", 1)], MONDAY_9AM)
    (first,) = await store.outbox.claim("me", wall=100, limit=10)
    await store.outbox.retry(first.id, not_before=160, error="TimedOut")
    assert await store.outbox.claim("me", wall=150, limit=10) == []
    assert await store.outbox.next_attempt() == 160
    (again,) = await store.outbox.claim("me", wall=160, limit=10)
    assert (again.id, again.attempts) == (first.id, 2)


async def test_a_mailing_goes_after_what_else_is_owed(store):
    await store.outbox.add([Owed("mail_merge", 100 + i, bulk=True) for i in range(50)], MONDAY_9AM)
    await store.outbox.add([Owed("patient.confirmed", 7)], MONDAY_9AM)
    batch = await store.outbox.claim("me", wall=0, limit=4)
    assert "patient.confirmed" in [m.kind for m in batch]


async def test_what_a_dead_deliverer_was_sending_is_found_and_where_it_went(store):
    await store.outbox.add([Owed("call.forward", 1), Owed("call.forward", 2)], MONDAY_9AM)
    dead, _ = await store.outbox.claim("dead", wall=0, limit=2)
    assert [m.id for m in await store.outbox.claimed_elsewhere("alive")] == [1, 2]
    await store.outbox.finish(dead.id, Status.UNCERTAIN, MONDAY_9AM, "died")
    await store.outbox.delivered(2, 42, MONDAY_9AM)
    assert (await store.outbox.sent_as(2, 42)).id == 2
    assert await store.outbox.sent_as(1, 42) is None
    assert await store.outbox.counts() == {Status.SENT: 1, Status.UNCERTAIN: 1}


async def test_a_dead_deliverers_claim_is_taken_back_once_and_a_renewed_one_never(store):
    await store.outbox.add([Owed("call.forward", 1), Owed("call.forward", 2)], MONDAY_9AM)
    await store.outbox.claim("dead", wall=100, limit=1)
    await store.outbox.claim("alive", wall=100, limit=1)
    dead, alive = await store.outbox.claimed_elsewhere("me")
    assert (dead.claimed_by, alive.claimed_by, dead.claimed_at) == ("dead", "alive", 100)
    await store.outbox.still_claimed("alive", [alive.id], wall=105)
    # Read before the renewal: the live claim is left alone.
    assert not await store.outbox.take_back(alive, resend=True, now=MONDAY_9AM)
    assert await store.outbox.take_back(dead, resend=True, now=MONDAY_9AM)
    # Another worker read the same dead claim: taken back already, not twice.
    assert not await store.outbox.take_back(dead, resend=False, now=MONDAY_9AM)
    (again,) = await store.outbox.claim("me", wall=106, limit=2)
    assert again.id == dead.id
    assert [m.claimed_at for m in await store.outbox.claimed_elsewhere("me")] == [105]


async def test_a_delivery_that_fails_in_the_bot_does_not_stop_the_deliverer(
    bot, tg, store, monkeypatch
):
    claire = tg.user(111111111, "Claire", language="fr")
    employer = tg.user(222222222, "Dr Dupont", language="fr")
    deliverer = delivery.deliverer(bot)
    real = deliverer._deliver
    tried = []

    async def broken_once(message):
        tried.append(message.id)
        if len(tried) == 1:
            raise RuntimeError("the store is gone for a moment")
        await real(message)

    monkeypatch.setattr(deliverer, "_deliver", broken_once)
    monkeypatch.setattr("bot.outbox.LONGEST_RETRY", 0.0)
    payload = {"taken_by": claire.id}
    await store.calls.add(
        NewCall(store.business_ids["cabinet-dupont"], "M. Leroy", None, "rappeler"),
        actor=claire.id,
        now=MONDAY_9AM,
        tell=lambda call: [
            Owed("call.forward", employer.id, payload={**payload, "call_id": call.id})
        ],
    )
    await deliverer.idle()
    assert tried[0] == tried[1]  # the same message, tried again, and the deliverer goes on
    assert employer.last.text.startswith("📞 Appel pour Cabinet dentaire Dupont")
