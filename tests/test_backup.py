"""``secretary-bot backup``: a copy of the database taken while the bot writes to it."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import timedelta

import yaml

from bot.__main__ import main
from storage import Store
from storage.appointments import NewAppointment, Source, Status
from storage.backup import backup_database
from storage.db import to_epoch
from tests.conftest import MONDAY_9AM

# Enough rows that copying them takes the writer many turns.
ALREADY_BOOKED = 50_000


async def book(store: Store, n: int) -> int:
    start = MONDAY_9AM + timedelta(days=400, minutes=30 * n)
    appointment = await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.CONFIRMED,
            source=Source.PHONE,
            caller_name=f"Caller {n}",
        ),
        now=MONDAY_9AM,
    )
    return appointment.id


async def appointment_ids(store: Store) -> set[int]:
    return {row[0] for row in await store.db.fetch_all("SELECT id FROM appointments")}


async def test_a_backup_taken_while_appointments_are_written_holds_all_committed_before(
    settings, store, tmp_path
):
    start = to_epoch(MONDAY_9AM)
    async with store.db.transaction() as db:
        await db.executemany(
            """INSERT INTO appointments (business_id, practitioner, service, starts_at, ends_at,
                   status, source, caller_name, created_at, updated_at)
               VALUES (?, 'Dr Martin', 'detartrage', ?, ?, 'done', 'phone', ?, ?, ?)""",
            [
                (store.business_ids["cabinet-dupont"], start + 1800 * n, start + 1800 * (n + 1))
                + (f"Caller {n}", start, start)
                for n in range(ALREADY_BOOKED)
            ],
        )
    written: list[int] = []
    going, stop = asyncio.Event(), asyncio.Event()

    async def keep_booking() -> None:
        while not stop.is_set():
            written.append(await book(store, len(written)))
            going.set()

    writer = asyncio.create_task(keep_booking())
    await going.wait()
    committed = await appointment_ids(store)
    while_copying = len(written)
    destination = tmp_path / "backups" / "secretary.sqlite3"
    destination.parent.mkdir()
    await asyncio.to_thread(backup_database, settings.database, destination)
    while_copying = len(written) - while_copying
    stop.set()
    await writer

    assert while_copying > 0, "the writer never ran while the copy was made"
    assert stat.S_IMODE(os.stat(destination).st_mode) == 0o600
    assert sorted(p.name for p in destination.parent.iterdir()) == ["secretary.sqlite3"]
    copy = await Store.open(destination)
    try:
        (verdict,) = await copy.db.fetch_one("PRAGMA integrity_check")
        assert verdict == "ok"
        copied = await appointment_ids(copy)
        assert committed <= copied <= await appointment_ids(store)
        assert len(committed) > ALREADY_BOOKED
    finally:
        await copy.close()


async def test_the_cli_backs_up_the_configured_database(config_data, store, tmp_path, capsys):
    await book(store, 0)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    destination = tmp_path / "copy.sqlite3"
    destination.write_bytes(b"yesterday's backup")
    destination.chmod(0o644)

    assert main(["backup", "--config", str(config), str(destination)]) == 0
    assert "backed up to" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(destination).st_mode) == 0o600
    copy = await Store.open(destination)
    try:
        assert len(await appointment_ids(copy)) == 1
    finally:
        await copy.close()


async def test_the_cli_refuses_a_database_that_is_not_there(config_data, tmp_path, capsys):
    config_data["database"] = str(tmp_path / "nowhere" / "secretary.sqlite3")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    assert main(["backup", "--config", str(config), str(tmp_path / "copy.sqlite3")]) == 2
    assert "no database there to back up" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
