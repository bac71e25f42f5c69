"""An agency: three webhook workers behind nginx, one database, Telegram (the simulator)
posting every update to nginx.

Many patients ask for the same time at once, across the workers: one holds it, every other
is offered other times. Then a busy day — requests waiting for the secretary, her
confirmations, reminders falling due, new patients booking — during which one worker is
SIGKILLed and never comes back: the other two carry on, nothing is lost, every confirmation
and reminder arrives once (a second copy only of what the dead worker was sending).

The database is the ``config_data`` fixture's: a SQLite file today, which the three processes
share through ``BEGIN IMMEDIATE`` and ``busy_timeout`` (a worker waiting for another's lock
holds its event loop meanwhile: storage.db runs SQLite in the loop's thread; a wait, never
an error). ``make soak`` runs it bigger (AGENCY_PATIENTS, AGENCY_DAY).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import outbox
from bot.config import parse_settings
from storage import Store
from storage.appointments import NewAppointment, Source, Status
from tests.conftest import ROOT

log = logging.getLogger(__name__)

TOKEN = "535353:AGENCY-TEST"
SECRET = "agency_webhook_secret"
WORKERS = 3
PATH = "/telegram"
PATIENTS = int(os.environ.get("AGENCY_PATIENTS", "200"))
# Requests waiting for the secretary, and as many new patients; sixty at most.
DAY = int(os.environ.get("AGENCY_DAY", "12"))
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
PARIS = ZoneInfo("Europe/Paris")
MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"

pytestmark = [
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx; .ci/run does)"
    ),
    pytest.mark.backends,
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def listening(port: int) -> None:
    async with asyncio.timeout(30):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


@dataclass
class Agency:
    config: Path
    nginx_port: int
    ports: list[int]
    logs: Path
    workers: list[asyncio.subprocess.Process | None]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}{PATH}"

    async def start_worker(self, index: int) -> None:
        with (self.logs / f"worker-{index}.log").open("ab") as out:
            self.workers[index] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--config",
                str(self.config),
                "--webhook",
                self.url,
                "--listen",
                f"127.0.0.1:{self.ports[index]}",
                cwd=ROOT,
                env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET},
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def kill(self, index: int) -> None:
        worker = self.workers[index]
        assert worker is not None
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        self.workers[index] = None

    async def stop(self) -> None:
        running = [w for w in self.workers if w is not None]
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        for worker in running:
            await asyncio.wait_for(worker.wait(), timeout=30)
            assert worker.returncode == 0, self.logs


def nginx_config(directory: Path, listen: int, ports: list[int]) -> Path:
    """deploy/nginx.conf filled in for loopback, inside a main config of the test's own."""
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    workers = "\n".join(f"    server 127.0.0.1:{port};" for port in ports)
    site = (
        site.replace("@WORKERS@", workers)
        .replace("@LISTEN@", f"127.0.0.1:{listen}")
        .replace("@SERVER_NAME@", "localhost")
        .replace("@PATH@", PATH)
    )
    assert re.search(r"@[A-Z_]+@", site) is None
    (directory / "secretary-bot.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would run as nobody, who cannot enter the test's folder.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    main = directory / "nginx.conf"
    main.write_text(
        f"""{user}daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp}
    include {directory / "secretary-bot.conf"};
}}
""",
        encoding="utf-8",
    )
    return main


@contextlib.asynccontextmanager
async def agency(config_data, tmp_path, tg) -> AsyncIterator[Agency]:
    tg.token = TOKEN
    # Every patient's message waits for all of them to be answered: a crowd takes a while.
    tg.settle_timeout = 120 + PATIENTS // 2
    config_data["telegram"]["base_url"] = tg.base_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    nginx_port, ports = free_port(), [free_port() for _ in range(WORKERS)]
    main = nginx_config(nginx_dir, nginx_port, ports)
    nginx = await asyncio.create_subprocess_exec(
        NGINX,
        "-p",
        str(nginx_dir),
        "-c",
        str(main),
        "-e",
        str(nginx_dir / "error.log"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    the_agency = Agency(config, nginx_port, ports, tmp_path, [None] * WORKERS)
    try:
        await listening(nginx_port)
        for index in range(WORKERS):
            await the_agency.start_worker(index)
        for port in ports:
            await listening(port)
        async with asyncio.timeout(30):
            while len([r for r in tg.requests if r.method == "setWebhook"]) < WORKERS:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert tg.webhook_url == the_agency.url
        yield the_agency
    finally:
        try:
            await the_agency.stop()
        finally:
            for worker in the_agency.workers:
                if worker is not None and worker.returncode is None:
                    worker.kill()
            nginx.send_signal(signal.SIGQUIT)
            await asyncio.wait_for(nginx.wait(), timeout=30)


@pytest.fixture
def agency_data(config_data):
    """The clinic with one practitioner (so one appointment holds a time), open every day,
    its reminder two hours before; the sweep every second, as a busy day's minutes."""
    dupont = config_data["businesses"][0]
    dupont["practitioners"] = ["Dr Dupont"]
    dupont["hours"] = {
        day: ["07:00-21:00"]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    dupont["closed"] = []
    dupont["public_holidays"] = None
    config_data["reminders"] = ["2h"]
    config_data["sweep_every"] = "1s"
    config_data["telegram"]["timeout_seconds"] = 2
    return config_data


def users(tg, settings, first: int, count: int, name: str) -> list:
    # The employers and the secretary too: a summary or a digest may fall due, at whatever
    # time of day the test runs.
    for business in settings.businesses:
        for employer in business.employers:
            tg.user(employer, f"Employer {employer}", language="fr")
    return [tg.user(first + i, f"{name}{i}", language="fr") for i in range(count)]


def said(user, opening: str) -> int:
    return sum(1 for m in user.messages if m.from_bot and (m.text or "").startswith(opening))


def mentions(user, words: str) -> int:
    return sum(1 for m in user.messages if m.from_bot and words in (m.text or ""))


def asked(days: int, hour: int, minute: int = 0) -> tuple[datetime, str]:
    """A time ``days`` from today in Paris, and a patient's words asking for it."""
    day = datetime.now(PARIS).date() + timedelta(days=days)
    words = f"détartrage le {day.day} {MONTHS.split()[day.month - 1]} à {hour}h{minute:02d}"
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS), words


async def owes_nothing(database) -> bool:
    store = await Store.open(database)
    try:
        return set(await store.outbox.counts()) <= {"sent", "moot"}
    finally:
        await store.close()


async def test_patients_asking_for_the_same_time_across_workers_one_holds_it(
    agency_data, tmp_path, tg
):
    settings = parse_settings(agency_data)
    claire = tg.user(111111111, "Claire", language="fr")
    patients = users(tg, settings, 7000, PATIENTS, "Patient")
    ten, words = asked(1, 10)
    async with agency(agency_data, tmp_path, tg):

        async def ask(patient) -> None:
            await patient.send("/start cabinet-dupont")
            await patient.send(words)

        await asyncio.gather(*(ask(p) for p in patients))
        for patient in patients:
            assert patient.last.buttons[0][0] == "10:00", patient.last.text
        # Every one taps 10:00 at once.
        await asyncio.gather(*(p.tap("10:00", in_message=p.last) for p in patients))
        async with asyncio.timeout(120):
            while not await owes_nothing(settings.database):  # noqa: ASYNC110
                await asyncio.sleep(0.2)

    store = await Store.open(settings.database)
    try:
        held = await store.appointments.holding(
            store.business_ids["cabinet-dupont"], ten, ten + timedelta(minutes=30)
        )
    finally:
        await store.close()
    (holder,) = held
    assert holder.starts_at == ten.astimezone(UTC)
    assert holder.status == Status.REQUESTED
    winners = [p for p in patients if mentions(p, "Votre demande est envoyée")]
    assert [p.id for p in winners] == [holder.patient_id]
    offered = [p for p in patients if said(p, "Désolé, ce créneau vient d'être pris.")]
    assert len(offered) == PATIENTS - 1
    for patient in offered:
        times = [label for row in patient.last.buttons for label in row if ":" in label]
        assert times and "10:00" not in times
    for patient in patients:
        assert not mentions(patient, "un problème est survenu"), patient.last.text
    # The one request reached the secretary's inbox, once.
    assert sum("📥 Nouvelle demande" in (m.text or "") for m in claire.messages) == 1
    log.info("%s patients: 1 holds 10:00, %s offered other times", PATIENTS, len(offered))


async def test_a_worker_killed_on_a_busy_day_loses_nothing(agency_data, tmp_path, tg):
    settings = parse_settings(agency_data)
    dupont = settings.business("cabinet-dupont")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # Requests made before the day starts, each within two hours: once confirmed, its
    # reminder is due at the next sweep, whichever worker runs it.
    waiting = users(tg, settings, 8000, DAY, "Waiting")
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    try:
        for index, patient in enumerate(waiting):
            await store.people.seen(
                patient.id,
                first_name=patient.first_name,
                last_name=None,
                username=None,
                language="fr",
                now=now,
            )
            # Short, so that up to sixty fit before the reminder's two hours.
            start = now + timedelta(minutes=62, seconds=50 * index)
            await store.appointments.book(
                NewAppointment(
                    business_id=store.business_ids[dupont.slug],
                    practitioner=dupont.practitioners[0],
                    service="detartrage",
                    starts_at=start,
                    ends_at=start + timedelta(seconds=50),
                    status=Status.REQUESTED,
                    source=Source.PATIENT,
                    patient_id=patient.id,
                ),
                now=now - timedelta(hours=1),
                tell=lambda request: outbox.to_inbox(settings, request),
            )
    finally:
        await store.close()
    newcomers = users(tg, settings, 9000, DAY, "Newcomer")
    claire = tg.user(111111111, "Claire", language="fr")

    def copy_of(patient):
        return next(
            (
                m
                for m in claire.messages
                if f"{patient.first_name}\n" in (m.text or "") + "\n"
                and any("✅ Confirmer" in row for row in m.buttons)
            ),
            None,
        )

    async with agency(agency_data, tmp_path, tg) as the_agency:

        async def book(patient, index: int) -> None:
            # Half-hours from 07:00 to 20:30, one each, from tomorrow on.
            _, words = asked(1 + index // 28, 7 + index % 28 // 2, 30 * (index % 2))
            await patient.send("/start cabinet-dupont")
            await patient.send(words)
            await patient.tap(patient.last.buttons[0][0], in_message=patient.last)

        booking: asyncio.Future | None = None
        confirmed: set[int] = set()
        killed = False
        async with asyncio.timeout(90):
            while len(confirmed) < DAY or not killed:
                for patient in waiting:
                    copy = copy_of(patient)
                    if patient.id not in confirmed and copy is not None:
                        await claire.tap("✅ Confirmer", in_message=copy)
                    if said(patient, "Votre rendez-vous est confirmé ✅"):
                        confirmed.add(patient.id)
                if booking is None and len(confirmed) >= DAY // 3:
                    booking = asyncio.gather(*(book(p, i) for i, p in enumerate(newcomers)))
                answered = sum(bool(p.messages) for p in newcomers)
                if booking is not None and not killed and answered >= DAY // 2:
                    # In the middle of it all: confirmations, reminders falling due, new
                    # patients booking.
                    await the_agency.kill(0)
                    killed = True
                await asyncio.sleep(0.05)
            await booking
            while not all(said(p, "⏰ Rappel") for p in waiting):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            while not await owes_nothing(settings.database):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            # The newcomers' requests reach the inbox too.
            while not all(copy_of(p) for p in newcomers):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        assert killed

    store = await Store.open(settings.database)
    try:
        for patient in waiting:
            (appointment,) = await store.appointments.of_patient(patient.id, now)
            assert appointment.status == Status.CONFIRMED
        for patient in newcomers:
            (appointment,) = await store.appointments.of_patient(patient.id, now)
            assert appointment.status == Status.REQUESTED
        owed = await store.outbox.messages()
        # Taken back from the dead worker, which may have sent it already: no other
        # message is tried twice, Telegram failing nothing here.
        taken_back = {(m.kind, m.chat_id) for m in owed if m.attempts > 1}
    finally:
        await store.close()
    assert len(taken_back) <= 4  # Deliverer.CONCURRENCY: what one worker has out at once

    def once(kind: str, patient, opening: str) -> bool:
        count = said(patient, opening)
        return count == 1 or (count == 2 and (kind, patient.id) in taken_back)

    for patient in waiting:
        assert once(outbox.CONFIRMED, patient, "Votre rendez-vous est confirmé ✅")
        assert once(outbox.REMINDER, patient, "⏰ Rappel")
    for patient in newcomers:
        assert mentions(patient, "Votre demande est envoyée") == 1
    inbox = [m.text for m in claire.messages if "📥 Nouvelle demande" in (m.text or "")]
    for patient in (*waiting, *newcomers):
        copies = sum(f"{patient.first_name}\n" in text + "\n" for text in inbox)
        assert copies == 1 or (copies == 2 and (outbox.INBOX, claire.id) in taken_back)
    log.info(
        "a day of %s waiting and %s new patients, one worker of %s killed: %s confirmations, "
        "%s reminders, %s messages taken back from the dead worker, %s updates posted again",
        DAY,
        DAY,
        WORKERS,
        sum(said(p, "Votre rendez-vous est confirmé ✅") for p in waiting),
        sum(said(p, "⏰ Rappel") for p in waiting),
        len(taken_back),
        sum(1 for attempt in tg.deliveries if not attempt.ok),
    )
