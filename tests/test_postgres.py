"""What the PostgreSQL server guarantees by itself, with several workers on one database:
each test races two or more Store objects, as separate processes would."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import Store
from storage.appointments import NewAppointment, Source, StaleStatus, Status
from storage.db import Duplicate, migrations
from storage.outbox import Owed
from storage.postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from storage.reminders import DueReminder
from storage.sqlite import MIGRATIONS as SQLITE_MIGRATIONS

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
TEN = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
# The PostgreSQL schema starts whole at SQLite's 019; every later number is in both folders.
FIRST_POSTGRES = 19


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


async def test_two_bookings_waiting_on_each_other_end_as_one_slot_taken(store, settings):
    (other,) = await _workers(settings, 1)
    business = store.business_ids["cabinet-dupont"]
    both_in = asyncio.Barrier(2)

    async def book(which: Store, first: datetime, then: datetime) -> int:
        async with which.db.transaction() as db:
            for start in (first, then):
                await db.execute(
                    """INSERT INTO appointments (business_id, practitioner, service, starts_at,
                           ends_at, status, source, created_at, updated_at)
                       VALUES (?, 'Dr Dupont', 'detartrage', ?, ?, 'requested', 'phone', 0, 0)""",
                    (business, int(start.timestamp()), int(start.timestamp()) + 1800),
                )
                if start == first:
                    await both_in.wait()
        return 2

    eleven = TEN + timedelta(hours=1)
    try:
        # Each holds one slot, then asks for one overlapping the other's: a deadlock.
        results = await asyncio.gather(
            book(store, TEN, eleven + timedelta(minutes=10)),
            book(other, eleven, TEN + timedelta(minutes=10)),
            return_exceptions=True,
        )
    finally:
        await other.close()
    assert sorted(type(r).__name__ for r in results) == ["Duplicate", "int"]
    (held,) = await store.db.fetch_all(
        "SELECT count(*) AS n FROM appointments WHERE business_id = ?", (business,)
    )
    assert held["n"] == 2


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
        # ... once its backend has seen the connection go, which a loaded server takes a
        # moment to do; the next minute's sweep asks again, as this does.
        for _ in range(200):
            if await second.sweeper.held():
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the sweep was not taken over")
        assert not await third.sweeper.held()
    finally:
        await second.close()
        await third.close()


async def test_of_two_secretaries_answering_a_request_at_once_one_wins(store, settings):
    request = await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=TEN,
            ends_at=TEN + timedelta(minutes=30),
            status=Status.REQUESTED,
            source=Source.PHONE,
        ),
        now=NOW,
    )
    (other,) = await _workers(settings, 1)
    try:

        async def answer(which: Store, to: Status):
            try:
                return await which.appointments.change_status(
                    request.id, expected={Status.REQUESTED}, to=to, now=NOW, actor=1
                )
            except StaleStatus as error:
                return error

        results = await asyncio.gather(
            *(
                answer(which, to)
                for _ in range(5)
                for which, to in ((store, Status.CONFIRMED), (other, Status.DECLINED))
            )
        )
    finally:
        await other.close()
    assert sum(not isinstance(r, StaleStatus) for r in results) == 1
    history = await store.appointments.history(request.id)
    assert [entry.to_status for entry in history][0] == Status.REQUESTED
    assert len(history) == 2


async def test_a_dead_deliverers_claims_are_taken_back_once_by_workers_racing(store, settings):
    await store.outbox.add([Owed("notice", 2000 + n) for n in range(6)], NOW)
    claimed = await store.outbox.claim("dead", wall=100, limit=10)
    assert len(claimed) == 6
    others = await _workers(settings, 2)
    try:
        # Both read the same dead claims, then both try to take each back at once.
        seen = [await other.outbox.claimed_elsewhere(f"w{n}") for n, other in enumerate(others)]
        assert [sorted(m.id for m in found) for found in seen] == [
            sorted(m.id for m in claimed)
        ] * 2
        taken = await asyncio.gather(
            *(
                other.outbox.take_back(message, resend=True, now=NOW)
                for other, found in zip(others, seen, strict=True)
                for message in found
            )
        )
        assert sum(taken) == 6
        again = await others[0].outbox.claim("w0", wall=200, limit=10)
        assert sorted(m.id for m in again) == sorted(m.id for m in claimed)
    finally:
        for other in others:
            await other.close()


async def test_both_backends_migrate_to_the_same_version_and_tables(store, tmp_path):
    on_sqlite = await Store.open(tmp_path / "same.sqlite3")
    try:
        assert await on_sqlite.db.version() == await store.db.version()
        assert await on_sqlite.db.tables() == await store.db.tables()
        for table in sorted(await store.db.tables()):
            here = await store.db.fetch_all(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = ?""",
                (table,),
            )
            there = await on_sqlite.db.fetch_all("SELECT name FROM pragma_table_info(?)", (table,))
            assert {row[0] for row in here} == {row[0] for row in there}, table
    finally:
        await on_sqlite.close()
    sqlite_numbers = {n for n, _, _ in migrations(SQLITE_MIGRATIONS) if n >= FIRST_POSTGRES}
    postgres_numbers = {n for n, _, _ in migrations(POSTGRES_MIGRATIONS)}
    assert sqlite_numbers == postgres_numbers


async def test_a_reminder_is_claimed_once_by_workers_racing_for_it(store, settings):
    appointment = await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=TEN,
            ends_at=TEN + timedelta(minutes=30),
            status=Status.CONFIRMED,
            source=Source.PHONE,
        ),
        now=NOW,
    )
    due = DueReminder(appointment, timedelta(hours=2), (timedelta(hours=48),))
    others = await _workers(settings, 3)
    try:
        won = await asyncio.gather(
            *(
                which.reminders.claim(due, [Owed("reminder", 42, appointment.id)], NOW)
                for which in [store, *others]
                for _ in range(3)
            )
        )
    finally:
        for other in others:
            await other.close()
    assert won.count(True) == 1
    assert len(await store.outbox.messages(kind="reminder")) == 1


async def test_when_the_sweeping_workers_session_dies_another_sweeps(store, settings):
    (other,) = await _workers(settings, 1)
    try:
        assert await store.sweeper.held()
        assert not await other.sweeper.held()
        # As if its process were killed: the server ends the session holding the lock.
        await store.db.fetch_all(
            """SELECT pg_terminate_backend(pid) FROM pg_locks
               WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"""
        )
        assert await other.sweeper.held()
        assert not await store.sweeper.held()  # back, it finds the sweep taken
    finally:
        await other.close()


async def test_a_patient_writing_to_two_workers_at_once_has_one_thread(store, settings):
    await store.people.seen(
        5001, first_name="Alice", last_name=None, username=None, language="fr", now=NOW
    )
    others = await _workers(settings, 2)
    try:
        said = await asyncio.gather(
            *(
                which.threads.from_patient(
                    which.business_ids["cabinet-dupont"],
                    5001,
                    content=f"message {n}",
                    is_file=False,
                    chat_id=5001,
                    message_id=n,
                    now=NOW,
                    quiet=timedelta(days=1),
                    tell=lambda _: (),
                )
                for n, which in enumerate([store, *others] * 2)
            )
        )
    finally:
        for other in others:
            await other.close()
    assert len({s.thread.id for s in said}) == 1
    assert [s.opened for s in said].count(True) == 1
    assert len(await store.threads.messages(said[0].thread.id)) == 6
