"""Storage on real SQLite files."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from storage import Store
from storage.appointments import NewAppointment, SlotTaken, Source, StaleStatus, Status
from storage.db import Refused, migrations
from storage.postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from storage.sqlite import MIGRATIONS

pytestmark = pytest.mark.backends

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
TEN = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def new(store: Store, start=TEN, minutes=30, practitioner="Dr Dupont", patient_id=None, **kw):
    return NewAppointment(
        business_id=store.business_ids["cabinet-dupont"],
        practitioner=practitioner,
        service="detartrage",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status=kw.pop("status", Status.REQUESTED),
        source=Source.PATIENT,
        patient_id=patient_id,
        **kw,
    )


async def test_the_schema_is_migrated_and_its_version_recorded(store, settings, backend):
    path = settings.database
    folder = MIGRATIONS if backend == "sqlite" else POSTGRES_MIGRATIONS
    assert await store.db.version() == migrations(folder)[-1][0]
    if backend == "sqlite":
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == await store.db.version()
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Opening again applies nothing twice.
    again = await Store.open(path, [("cabinet-dupont", "Cabinet dentaire Dupont")])
    assert again.business_ids == store.business_ids
    await again.close()


async def test_foreign_keys_are_enforced(store):
    with pytest.raises(Refused):
        await store.appointments.book(new(store, patient_id=424242), now=NOW)


async def test_times_come_back_aware_and_in_utc(store):
    paris_ten = TEN.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    booked = await store.appointments.book(new(store, start=paris_ten), now=NOW)
    fetched = await store.appointments.get(booked.id)
    assert fetched.starts_at == TEN and fetched.starts_at.tzinfo is UTC
    assert fetched.created_at == NOW


async def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError, match="naive"):
        await store.appointments.book(new(store, start=datetime(2027, 1, 12, 9)), now=NOW)


async def test_overlap_is_refused_but_adjacent_and_other_practitioner_are_fine(store):
    await store.appointments.book(new(store), now=NOW)
    with pytest.raises(SlotTaken):
        await store.appointments.book(new(store, start=TEN + timedelta(minutes=15)), now=NOW)
    await store.appointments.book(new(store, start=TEN + timedelta(minutes=30)), now=NOW)
    await store.appointments.book(new(store, practitioner="Dr Martin"), now=NOW)


async def test_a_declined_request_frees_its_slot_and_history_tells_who(store):
    first = await store.appointments.book(new(store), now=NOW, actor=5001)
    declined = await store.appointments.change_status(
        first.id, expected=[Status.REQUESTED], to=Status.DECLINED, now=NOW, actor=111
    )
    assert declined.status == Status.DECLINED
    second = await store.appointments.book(new(store), now=NOW)
    assert second.id != first.id
    history = await store.appointments.history(first.id)
    assert [(h.actor, h.from_status, h.to_status) for h in history] == [
        (5001, None, Status.REQUESTED),
        (111, Status.REQUESTED, Status.DECLINED),
    ]


async def test_a_second_decision_on_the_same_request_is_stale(store):
    booked = await store.appointments.book(new(store), now=NOW)
    await store.appointments.change_status(
        booked.id, expected=[Status.REQUESTED], to=Status.CONFIRMED, now=NOW, actor=1
    )
    with pytest.raises(StaleStatus) as caught:
        await store.appointments.change_status(
            booked.id, expected=[Status.REQUESTED], to=Status.DECLINED, now=NOW, actor=2
        )
    assert caught.value.appointment.status == Status.CONFIRMED


async def _race(stores: list[Store], attempts: int) -> list[object]:
    async def attempt(i: int):
        store = stores[i % len(stores)]
        try:
            return await store.appointments.book(new(store), now=NOW)
        except SlotTaken as error:
            return error

    return await asyncio.gather(*(attempt(i) for i in range(attempts)))


async def test_fifty_concurrent_bookings_of_one_slot_give_exactly_one(store):
    results = await _race([store], 50)
    assert sum(not isinstance(r, SlotTaken) for r in results) == 1
    held = await store.appointments.holding(
        store.business_ids["cabinet-dupont"], TEN, TEN + timedelta(minutes=30)
    )
    assert len(held) == 1


async def test_fifty_bookings_from_ten_connections_give_exactly_one(store, settings):
    others = [await Store.open(settings.database) for _ in range(9)]
    try:
        # Overlapping but different starts: the unique index cannot help, only the
        # check inside BEGIN IMMEDIATE can.
        async def attempt(i: int):
            s = ([store, *others])[i % 10]
            try:
                return await s.appointments.book(
                    new(s, start=TEN + timedelta(minutes=i % 25)), now=NOW
                )
            except SlotTaken as error:
                return error

        results = await asyncio.gather(*(attempt(i) for i in range(50)))
    finally:
        for other in others:
            await other.close()
    assert sum(not isinstance(r, SlotTaken) for r in results) == 1


async def test_a_newcomer_following_a_link_is_recorded_and_bound_in_one_write(store):
    dupont = store.business_ids["cabinet-dupont"]
    writes = store.db.counts.write_transactions
    person = await store.people.seen(
        5001,
        first_name="Alice",
        last_name=None,
        username=None,
        language="fr",
        now=NOW,
        business_id=dupont,
    )
    assert (person.first_name, person.business_id) == ("Alice", dupont)
    assert store.db.counts.write_transactions == writes + 1
    # The same link followed again the same day writes nothing; any visit keeps the binding.
    again = await store.people.seen(
        5001,
        first_name="Alice",
        last_name=None,
        username=None,
        language="fr",
        now=NOW,
        business_id=dupont,
    )
    later = await store.people.seen(
        5001,
        first_name="Alice",
        last_name=None,
        username=None,
        language="fr",
        now=NOW + timedelta(days=2),
    )
    assert store.db.counts.write_transactions == writes + 2
    assert again == person
    assert (later.business_id, later.last_seen_at) == (dupont, NOW + timedelta(days=2))
    assert await store.people.get(5001) == later


async def test_people_keep_their_language_and_binding(store):
    person = await store.people.seen(
        5001, first_name="Alice", last_name=None, username="alice", language="fr", now=NOW
    )
    assert person.full_name == "Alice"
    await store.people.bind(5001, store.business_ids["cabinet-dupont"])
    again = await store.people.seen(
        5001, first_name="Alice", last_name="Martin", username=None, language="en", now=NOW
    )
    assert (again.language, again.full_name, again.business_id) == (
        "fr",
        "Alice Martin",
        store.business_ids["cabinet-dupont"],
    )
