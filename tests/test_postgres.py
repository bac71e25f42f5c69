"""What the PostgreSQL server guarantees by itself, with several workers on one database:
each test races two or more Store objects, as separate processes would."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import Store
from storage.appointments import NewAppointment, Source, Status
from storage.db import Duplicate
from storage.outbox import Owed

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
TEN = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


async def _workers(settings, count: int) -> list[Store]:
    return [await Store.open(settings.database) for _ in range(count)]


async def test_the_database_itself_refuses_two_held_appointments_that_overlap(store):
    business = store.business_ids["cabinet-dupont"]

    async def insert(start: datetime, status: str) -> None:
        async with store.db.transaction() as db:
            await db.execute(
                """INSERT INTO appointments (business_id, practitioner, service, starts_at,
                       ends_at, status, source, created_at, updated_at)
                   VALUES (?, 'Dr Dupont', 'detartrage', ?, ?, ?, 'phone', 0, 0)""",
                (business, int(start.timestamp()), int(start.timestamp()) + 1800, status),
            )

    await insert(TEN, "confirmed")
    # Written past the store's own check, as a bug or a second worker would: still refused.
    with pytest.raises(Duplicate):
        await insert(TEN + timedelta(minutes=10), "requested")
    # What holds no time overlaps freely, and so does the end of one and the start of another.
    await insert(TEN + timedelta(minutes=10), "cancelled")
    await insert(TEN + timedelta(minutes=30), "requested")


async def test_bookings_from_many_workers_at_once_hold_one_slot(store, settings):
    others = await _workers(settings, 4)
    try:

        async def attempt(i: int):
            which = ([store, *others])[i % 5]
            new = NewAppointment(
                business_id=which.business_ids["cabinet-dupont"],
                practitioner="Dr Dupont",
                service="detartrage",
                starts_at=TEN + timedelta(minutes=i % 20),
                ends_at=TEN + timedelta(minutes=i % 20 + 30),
                status=Status.REQUESTED,
                source=Source.PHONE,
            )
            try:
                return await which.appointments.book(new, now=NOW)
            except Exception as error:  # noqa: BLE001 - counted below, by kind
                return error

        results = await asyncio.gather(*(attempt(i) for i in range(40)))
    finally:
        for other in others:
            await other.close()
    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == 1
    assert {type(r).__name__ for r in results if isinstance(r, Exception)} == {"SlotTaken"}


async def test_each_owed_message_is_claimed_by_one_deliverer(store, settings):
    await store.outbox.add([Owed("notice", 1000 + n) for n in range(60)], NOW)
    others = await _workers(settings, 2)
    try:
        workers = [store, *others]
        claims = await asyncio.gather(
            *(workers[n % 3].outbox.claim(f"worker-{n}", wall=10**10, limit=7) for n in range(12))
        )
    finally:
        for other in others:
            await other.close()
    claimed = [message.id for batch in claims for message in batch]
    assert len(claimed) == len(set(claimed)) == 60


async def test_a_summary_is_claimed_once_by_workers_racing_for_it(store, settings):
    others = await _workers(settings, 3)
    try:
        won = await asyncio.gather(
            *(
                which.digests_sent.claim(
                    "summary", "cabinet-dupont", date(2027, 1, 11), [Owed("summary", 42)], NOW
                )
                for which in [store, *others]
                for _ in range(3)
            )
        )
    finally:
        for other in others:
            await other.close()
    assert won.count(True) == 1
    assert len(await store.outbox.messages(kind="summary")) == 1


async def test_one_worker_sweeps_and_another_takes_over_when_it_dies(store, settings):
    second, third = await _workers(settings, 2)
    try:
        assert await store.sweeper.held()
        assert await store.sweeper.held()  # kept, minute after minute
        assert not await second.sweeper.held()
        assert not await third.sweeper.held()
        await store.close()  # the worker dies: the server drops its session and the lock
        assert await second.sweeper.held()
        assert not await third.sweeper.held()
    finally:
        await second.close()
        await third.close()
