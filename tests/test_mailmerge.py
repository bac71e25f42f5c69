"""Mail merge at scale: paced, 429s and blocked patients taken in stride, and exactly once,
even when the bot is stopped in the middle and started again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from aiolimiter import AsyncLimiter
from telegram import Bot

from handlers import delivery
from handlers import mailmerge as mail_merge_handlers
from storage.mailmerges import RecipientStatus
from storage.missions import MissionStatus
from tests.conftest import running_bot

pytestmark = pytest.mark.backends

CLAIRE = 111111111
FIRST_PATIENT = 100_000


def fast_bot(settings, store, clock, tg, *, rate: float):
    """conftest's running_bot, with a rate limit fit for a test of thousands of messages."""
    telegram = settings.telegram.model_copy(update={"max_messages_per_second": rate})
    return running_bot(settings.model_copy(update={"telegram": telegram}), store, clock, tg)


async def many_patients(store, tg, count: int) -> list[int]:
    """``count`` patients of Cabinet Dupont, known to the bot and to the simulator."""
    ids = list(range(FIRST_PATIENT, FIRST_PATIENT + count))
    business_id = store.business_ids["cabinet-dupont"]
    async with store.db.transaction() as db:
        await db.executemany(
            """INSERT INTO people (telegram_id, first_name, language, business_id, created_at)
               VALUES (?, ?, 'fr', ?, 0)""",
            [(i, f"Patient{i}", business_id) for i in ids],
        )
    for i in ids:
        tg.user(i, f"Patient{i}", language="fr")
    return ids


async def start_mail_merge(tg, count: int) -> None:
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("👥 Tous ses patients")
    await claire.send("Bonjour {prenom}, le cabinet sera fermé le 15 août.")
    await claire.tap(f"📤 Envoyer à {count}")


async def wait_until(predicate) -> None:
    """Poll the store: the run's progress lives there, not in any event a test could await."""
    async with asyncio.timeout(20):
        while True:
            if await predicate():
                return
            await asyncio.sleep(0.02)


def copies(tg) -> Counter[int]:
    """How many copies of the mail merge each chat received (sendMessage answered 200)."""
    return Counter(
        int(r.params["chat_id"])
        for r in tg.requests
        if r.method == "sendMessage"
        and r.status == 200
        and int(r.params["chat_id"]) != CLAIRE  # her preview says it too
        and "15 août" in r.params["text"]
    )


async def test_two_thousand_patients_with_429s_and_blocks_each_served_once(
    settings, store, clock, tg
):
    ids = await many_patients(store, tg, 2000)
    blocked = set(ids[::20])  # 100 patients blocked the bot
    for patient_id in blocked:
        tg.user(patient_id, "").block_bot()
    # Flood control: the rate limiter waits as told and retries; the second is refused more
    # often than the limiter retries, so it goes back in line and is sent later.
    tg.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=ids[1])
    tg.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=ids[1500], times=4)

    tg.settle_timeout = 60  # the tap that starts the run settles once no copy is owed
    async with fast_bot(settings, store, clock, tg, rate=2000) as application:
        await start_mail_merge(tg, 2000)
        tasks = mail_merge_handlers.mail_merge_tasks(application)
        await asyncio.wait_for(asyncio.gather(*tasks.values()), timeout=45)

    sent = copies(tg)
    reachable = set(ids) - blocked
    assert set(sent) == reachable
    assert set(sent.values()) == {1}
    refused = Counter(
        int(r.params["chat_id"])
        for r in tg.requests
        if r.method == "sendMessage" and r.status == 429
    )
    assert refused == {ids[1]: 1, ids[1500]: 4}

    merges = store.mail_merges
    (merge,) = [await merges.get(1)]
    assert merge.status == "finished"
    counts = await merges.counts(merge.id)
    assert (counts.sent, counts.blocked, counts.failed, counts.unknown, counts.left) == (
        1900,
        100,
        0,
        0,
        0,
    )
    statuses = await merges.statuses(merge.id)
    assert {p for p, s in statuses.items() if s == RecipientStatus.BLOCKED} == blocked
    assert (await store.missions.get(merge.mission_id)).status == MissionStatus.DONE

    claire = tg.user(CLAIRE, "Claire")
    assert (
        claire.last.text.splitlines()[1] == "Envoyés : 1900 · ont bloqué le bot : 100 · échecs : 0"
    )
    # One progress message, edited as the run went: sent, failed, left.
    progress = claire.messages[-2]
    assert progress.text.splitlines()[1].startswith("Envoyés : 1900 ")
    edits = [
        r.params["text"]
        for r in tg.requests
        if r.method == "editMessageText" and r.params.get("message_id") == progress.message_id
    ]
    left = [int(text.rsplit("restants : ", 1)[1]) for text in edits]
    assert len(edits) >= 3 and left[-1] == 0
    assert any(0 < n < 2000 for n in left) and left == sorted(left, reverse=True)


class CountingBucket(AsyncLimiter):
    """A rate limiter's bucket that counts the messages that waited their turn in it."""

    def __init__(self, max_rate: float, time_period: float):
        super().__init__(max_rate, time_period)
        self.acquired = 0

    async def acquire(self, amount: float = 1) -> None:
        await super().acquire(amount)
        self.acquired += 1


@dataclass
class VirtualLoop:
    """The one thing aiolimiter asks of its event loop when no message has to wait: the time."""

    now: float = 0.0

    def time(self) -> float:
        return self.now

    def is_closed(self) -> bool:
        return False


async def test_sending_is_paced_by_the_rate_limit(settings, store, clock, tg):
    await many_patients(store, tg, 250)
    async with fast_bot(settings, store, clock, tg, rate=100) as application:
        limiter = application.bot.rate_limiter
        configured = limiter._base_limiter  # the bucket every message to a chat goes through
        assert (configured.max_rate, configured.time_period) == (100, 1)
        bucket = limiter._base_limiter = CountingBucket(100, 1)
        before = len(tg.requests)

        async def all_sent() -> bool:
            return sum(copies(tg).values()) == 250

        await start_mail_merge(tg, 250)
        await wait_until(all_sent)
    # No message to a chat went around the bucket: the copies, the progress, the answers.
    to_chats = [r for r in tg.requests[before:] if "chat_id" in r.params]
    assert len(to_chats) > 250
    assert bucket.acquired == len(to_chats)

    # How that bucket spaces 250 messages, on a clock moved a millisecond at a time: a full
    # bucket lets the first 100 go at once, the other 150 follow at 100 a second.
    loop = VirtualLoop()
    paced = AsyncLimiter(configured.max_rate, configured.time_period)
    paced._event_loop = loop  # aiolimiter reads the time from the loop it runs on
    moments: list[float] = []
    for _ in range(250):
        milliseconds = round(loop.now * 1000)
        while not paced.has_capacity():
            milliseconds += 1
            loop.now = milliseconds / 1000
        await paced.acquire()
        moments.append(loop.now)
    assert moments[:100] == [0.0] * 100
    assert moments[-1] == pytest.approx(1.5, abs=0.002)
    assert moments[-1] - moments[-101] == pytest.approx(1.0, abs=0.002)


async def test_a_run_stopped_midway_resumes_in_a_new_application_and_sends_nobody_twice(
    settings, store, clock, tg
):
    count = 600
    ids = await many_patients(store, tg, count)
    merges = store.mail_merges

    async def sent_some() -> bool:
        return (await merges.counts(1)).sent >= 150

    async with fast_bot(settings, store, clock, tg, rate=300) as first:
        # Stopped in the middle: the tap that starts the run must not wait for every copy.
        idle = delivery.deliverer(first).idle
        tg.remove_idle_waiter(idle)
        await start_mail_merge(tg, count)
        await wait_until(sent_some)
        tg.add_idle_waiter(idle)
        # Leaving the block stops the bot, as a restart would: the senders finish the message
        # in hand and stop.
    counts = await merges.counts(1)
    assert 150 <= counts.sent < count and counts.claimed == 0
    claire = tg.user(CLAIRE, "Claire")
    assert claire.messages[-1].text.endswith(
        "⏸ Interrompu par un arrêt du bot : la suite partira à son redémarrage."
    )

    # And a harder stop: one patient was being sent to, Telegram delivered it, and the bot
    # died before recording it.
    (in_flight,) = await store.outbox.claim("a bot that died", wall=time.time(), limit=1)
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        await bot.send_message(in_flight.chat_id, await merges.text(1, in_flight.chat_id))

    async def finished() -> bool:
        return (await merges.get(1)).status == "finished"

    async with fast_bot(settings, store, clock, tg, rate=300) as second:
        await wait_until(finished)
        await asyncio.gather(*mail_merge_handlers.mail_merge_tasks(second).values())

    sent = copies(tg)
    assert set(sent) == set(ids)
    assert set(sent.values()) == {1}, "someone got two copies"
    counts = await merges.counts(1)
    assert (counts.sent, counts.unknown, counts.left) == (count - 1, 1, 0)
    assert (await merges.statuses(1))[in_flight.chat_id] == RecipientStatus.UNKNOWN
    assert claire.last.text.splitlines()[1:3] == [
        f"Envoyés : {count - 1} · ont bloqué le bot : 0 · échecs : 0",
        "Incertains (peut-être partis ; jamais renvoyés) : 1",
    ]
