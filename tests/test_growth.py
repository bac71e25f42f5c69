"""Bounded growth: no write for what did not change, and no keeping people who never booked.

Writes are counted, not timed: each write transaction (or each user_sessions write) is one.
"""

from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import date, timedelta

from bot.persistence import StorePersistence
from storage import Store
from storage import sqlite as db_module
from storage.appointments import NewAppointment, Source, Status
from storage.db import to_epoch
from storage.missions import NewMission, Party
from tests.conftest import MONDAY_9AM

CLAIRE = 111111111
EMPLOYER = 222222222
PATIENTS = range(6001, 6021)


@dataclass
class Count:
    n: int = 0


def count_transactions(store: Store, monkeypatch) -> Count:
    count, original = Count(), store.db.transaction

    @asynccontextmanager
    async def counted():
        count.n += 1
        async with original() as connection:
            yield connection

    monkeypatch.setattr(store.db, "transaction", counted)
    return count


def count_calls(owner: object, name: str, monkeypatch) -> Count:
    count, original = Count(), getattr(owner, name)

    async def counted(*args, **kwargs):
        count.n += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return count


async def seen(store: Store, telegram_id: int, now, first_name="Alice", username=None):
    return await store.people.seen(
        telegram_id,
        first_name=first_name,
        last_name=None,
        username=username,
        language="fr",
        now=now,
    )


async def book(store: Store, patient_id: int, now) -> None:
    start = now + timedelta(days=1)
    await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.REQUESTED,
            source=Source.PATIENT,
            patient_id=patient_id,
        ),
        now=now,
    )


# -- python-telegram-bot's persistence -------------------------------------------------------


async def test_persistence_writes_what_changed_and_nothing_for_empty_data(store, monkeypatch):
    persistence = StorePersistence(store.sessions)
    writes = count_calls(store.sessions, "put", monkeypatch)

    for user_id in PATIENTS:  # every user the bot heard from, most with nothing to keep
        data: dict = {}
        await persistence.refresh_user_data(user_id, data)
        await persistence.update_user_data(user_id, data)
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
    assert await store.sessions.get(CLAIRE) is None


async def test_what_another_worker_wrote_is_read_and_not_written_again(store, monkeypatch):
    await StorePersistence(store.sessions).update_user_data(CLAIRE, {"draft": {"step": "fee"}})
    other = StorePersistence(store.sessions)
    data: dict = {"draft": {"step": "stale, from this worker's memory"}}
    await other.refresh_user_data(CLAIRE, data)
    assert data == {"draft": {"step": "fee"}}
    writes = count_calls(store.sessions, "put", monkeypatch)
    await other.update_user_data(CLAIRE, data)
    assert writes.n == 0
    await other.drop_user_data(CLAIRE)
    assert writes.n == 1
    assert await store.sessions.get(CLAIRE) is None


async def test_the_running_bot_writes_no_session_for_patients_who_have_none(
    bot, tg, store, monkeypatch
):
    handed_over = count_calls(bot.persistence, "update_user_data", monkeypatch)
    writes = count_calls(store.sessions, "put", monkeypatch)
    for user_id in PATIENTS:
        await tg.user(user_id, f"Patient{user_id}", language="fr").send("/start cabinet-dupont")
    # Each update hands its person's data over as it ends, however empty.
    assert handed_over.n == len(PATIENTS)
    assert writes.n == 0

    # A first request leaves a mark ("asked for a number once"): written once, not again.
    alice = tg.user(PATIENTS[0], "Alice", language="fr")
    await alice.tap("📅 Prendre rendez-vous")
    await alice.tap("Détartrage")
    await alice.tap("mar. 12 janv.")
    await alice.tap("09:00")
    assert writes.n == 1
    await alice.send("merci")
    await bot.update_persistence()
    assert writes.n == 1


# -- people.seen ------------------------------------------------------------------------------


async def test_a_known_sender_costs_no_write_until_a_day_passed_or_a_name_changed(
    store, monkeypatch
):
    writes = count_transactions(store, monkeypatch)
    for minute in range(0, 24 * 60 - 1, 7):  # a chatty day
        await seen(store, 5001, MONDAY_9AM + timedelta(minutes=minute))
    assert writes.n == 1

    tomorrow = MONDAY_9AM + timedelta(days=1, minutes=1)
    await seen(store, 5001, tomorrow)
    assert writes.n == 2
    assert (await store.people.get(5001)).last_seen_at == tomorrow
    await seen(store, 5001, tomorrow, first_name="Alicia")
    await seen(store, 5001, tomorrow, first_name="Alicia", username="alicia")
    assert writes.n == 4
    person = await store.people.get(5001)
    assert (person.first_name, person.username) == ("Alicia", "alicia")
    # A clock moved back by a test never makes a person younger.
    await seen(store, 5001, MONDAY_9AM, first_name="Alice")
    assert (await store.people.get(5001)).last_seen_at == tomorrow


# -- visitors ---------------------------------------------------------------------------------


async def test_visitors_are_forgotten_after_the_retention_and_nobody_else_is(
    settings, store, monkeypatch
):
    now = MONDAY_9AM
    retention = settings.visitor_retention
    long_ago, lately = now - retention - timedelta(days=1), now - retention + timedelta(days=1)
    business_id = store.business_ids["cabinet-dupont"]

    for telegram_id in (7001, 7002, 7003, 7004, CLAIRE, EMPLOYER):
        await seen(store, telegram_id, long_ago)
    await seen(store, 7005, lately)
    await book(store, 7002, long_ago)  # 7002 asked for a time, long ago: a patient...
    # ...and 7003 was sent a mail merge: its record names them.
    await store.mail_merges.create(
        business_id=business_id,
        audience="all",
        template="Bonjour {prenom}",
        language="fr",
        texts=[(7003, "Bonjour Alice")],
        mission=NewMission(business_id, "mail_merge", "Fermeture", 5000),
        now=long_ago,
        actor=CLAIRE,
    )
    await store.sessions.put(7001, b"kept state")
    await store.sessions.put(7002, b"kept state")

    def purge():
        return store.people.purge_visitors(before=now - retention, keep=settings.staff_ids())

    assert await purge() == 2
    remaining = {r[0] for r in await store.db.fetch_all("SELECT telegram_id FROM people")}
    assert remaining == {7002, 7003, 7005, CLAIRE, EMPLOYER}
    assert await store.sessions.get(7001) is None
    assert await store.sessions.get(7002) == b"kept state"
    assert await purge() == 0


async def test_a_visitor_any_other_table_still_names_is_kept(store):
    # A table of a later version that names people, without a word to the purge about it.
    async with store.db.transaction() as db:
        await db.execute("CREATE TABLE notes (person INTEGER NOT NULL REFERENCES people)")
    for telegram_id in (7001, 7002):
        await seen(store, telegram_id, MONDAY_9AM - timedelta(days=90))
    async with store.db.transaction() as db:
        await db.execute("INSERT INTO notes (person) VALUES (7001)")
    assert await store.people.purge_visitors(before=MONDAY_9AM) == 1
    assert await store.people.get(7001) is not None


async def test_a_purge_does_a_bounded_amount_of_work_per_call(store):
    for telegram_id in range(8000, 8005):
        await seen(store, telegram_id, MONDAY_9AM - timedelta(days=90))
    before = MONDAY_9AM - timedelta(days=30)
    assert await store.people.purge_visitors(before=before, keep=[8000], limit=2) == 2
    assert await store.people.purge_visitors(before=before, keep=[8000], limit=2) == 2
    assert await store.people.purge_visitors(before=before, keep=[8000], limit=2) == 0
    assert await store.people.get(8000) is not None


async def test_after_the_upgrade_known_people_count_from_their_first_contact_and_patients_stay(
    tmp_path, monkeypatch
):
    path = tmp_path / "secretary.sqlite3"
    every_migration = db_module.migrations(db_module.MIGRATIONS)
    # The database as the version before visitors were counted left it...
    monkeypatch.setattr(db_module, "migrations", lambda _: [m for m in every_migration if m[0] < 8])
    await (await Store.open(path, [("cabinet-dupont", "Cabinet Dupont")])).close()
    first_contact = to_epoch(MONDAY_9AM - timedelta(days=400))
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "INSERT INTO people (telegram_id, first_name, language, created_at) VALUES (?,?,?,?)",
            [(5001, "Alice", "fr", first_contact), (5002, "Bruno", "fr", first_contact)],
        )
        db.execute(
            """INSERT INTO appointments (business_id, practitioner, service, starts_at, ends_at,
                   status, source, patient_id, created_at, updated_at)
               VALUES (1, 'Dr Dupont', 'detartrage', ?, ?, 'done', 'patient', 5002, ?, ?)""",
            (first_contact + 86400, first_contact + 88200, first_contact, first_contact),
        )
    # ...upgraded.
    monkeypatch.setattr(db_module, "migrations", lambda _: every_migration)
    store = await Store.open(path)
    try:
        person = await store.people.get(5001)
        assert person.last_seen_at == person.created_at
        assert await store.people.purge_visitors(before=MONDAY_9AM) == 1
        assert await store.people.get(5002) is not None
    finally:
        await store.close()


async def test_after_the_upgrade_invoice_numbers_go_on_from_the_last_one_issued(
    tmp_path, monkeypatch
):
    path = tmp_path / "secretary.sqlite3"
    every_migration = db_module.migrations(db_module.MIGRATIONS)
    # The database as the version before invoice counters left it, with three invoices...
    monkeypatch.setattr(
        db_module, "migrations", lambda _: [m for m in every_migration if m[0] < 20]
    )
    await (await Store.open(path, [("cabinet-dupont", "Cabinet Dupont")])).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            """INSERT INTO invoices (year, sequence, business_id, period, issued_at, due_on,
                   total_cents, seller, client)
               VALUES (2027, ?, 1, '2026-12', 0, '2027-01-31', 100, '{}', '{}')""",
            [(1,), (2,), (3,)],
        )
    # ...upgraded: they are all there, and the next number is the fourth.
    monkeypatch.setattr(db_module, "migrations", lambda _: every_migration)
    store = await Store.open(path)
    try:
        mission = await store.missions.create(
            NewMission(1, "call", "Appel", 3500), now=MONDAY_9AM, actor=1
        )
        await store.missions.finish(mission.id, now=MONDAY_9AM)
        party = Party("Claire Moreau", "8 rue des Lilas\n69003 Lyon")
        invoice = await store.missions.issue_invoice(
            1,
            period="2027-01",
            first=MONDAY_9AM - timedelta(days=1),
            last=MONDAY_9AM + timedelta(days=1),
            year=2027,
            now=MONDAY_9AM,
            due_on=date(2027, 2, 10),
            seller=party,
            client=party,
        )
        assert invoice.sequence == 4
        rows = await store.db.fetch_all("SELECT sequence FROM invoices ORDER BY sequence")
        assert [row[0] for row in rows] == [1, 2, 3, 4]
    finally:
        await store.close()
