"""Fixtures shared by the suite: settings built from the example config, real databases.

A module marked ``pytest.mark.backends`` runs its tests on a SQLite file and on a
PostgreSQL database of their own, on the server SECRETARY_BOT_TEST_POSTGRES names (a
postgresql:// URL; ``.ci/postgres run ...`` starts a throwaway one). Without it those runs
are skipped, and said so in one line; with SECRETARY_BOT_REQUIRE_POSTGRES=1 (CI) they fail.
"""

from __future__ import annotations

import asyncio
import copy
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml
from telegram.ext import Application, CallbackContext

from bot.app import Webhook, build_application, running
from bot.clock import ManualClock
from bot.config import Settings, parse_settings
from bot.simulator import Simulator, find_spec
from handlers import agenda, delivery, scheduled
from storage import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.yaml"


@pytest.fixture(scope="session")
def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


POSTGRES = os.environ.get("SECRETARY_BOT_TEST_POSTGRES")
REQUIRE_POSTGRES = os.environ.get("SECRETARY_BOT_REQUIRE_POSTGRES") == "1"
_skipped_postgres: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends: run on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped_postgres:
        terminalreporter.write_line(
            f"PostgreSQL: {len(_skipped_postgres)} tests skipped (no server named by"
            " SECRETARY_BOT_TEST_POSTGRES); run them with `.ci/postgres run make test`"
        )


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """What ``database:`` says: a SQLite file in tmp_path, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield str(tmp_path / "secretary.sqlite3")
        return
    if not POSTGRES:
        if REQUIRE_POSTGRES:
            pytest.fail("SECRETARY_BOT_REQUIRE_POSTGRES=1 but SECRETARY_BOT_TEST_POSTGRES is unset")
        _skipped_postgres.append(request.node.nodeid)
        pytest.skip("no PostgreSQL server: SECRETARY_BOT_TEST_POSTGRES is unset")
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def postgres_url(name: str) -> str:
    """The test server's URL, for the database ``name``."""
    parts = urlsplit(POSTGRES)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def config_data(example_data: dict[str, Any], database: str) -> dict[str, Any]:
    """The example config, as a dict a test may change, with a database of its own."""
    data = copy.deepcopy(example_data)
    data["database"] = database
    return data


@pytest.fixture
def settings(config_data: dict[str, Any]) -> Settings:
    return parse_settings(config_data)


@pytest.fixture
async def store(settings: Settings):
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    yield store
    await store.close()


# -- end to end: the real bot, polling the simulator over HTTP -------------------------------

SPEC = find_spec()
PARIS = ZoneInfo("Europe/Paris")
# Monday 11 January 2027, 09:00 in Paris: an ordinary working day, far from any closure.
MONDAY_9AM = datetime(2027, 1, 11, 9, 0, tzinfo=PARIS)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9AM)


@pytest.fixture
async def tg(clock: ManualClock) -> AsyncIterator[Simulator]:
    assert SPEC is not None, "the Bot API spec shipped in bot/simulator/botapi/ is missing"
    async with Simulator(spec_path=SPEC, clock=clock.now) as simulator:
        yield simulator
        assert simulator.violations == [], "the bot made requests Telegram would refuse"


@asynccontextmanager
async def running_bot(
    settings: Settings,
    store: Store,
    clock: ManualClock,
    tg: Simulator,
    webhook: Webhook | None = None,
) -> AsyncIterator[Application]:
    telegram = settings.telegram.model_copy(
        update={"base_url": tg.base_url, "base_file_url": tg.base_file_url}
    )
    settings = settings.model_copy(update={"telegram": telegram})
    application = build_application(settings, store, clock, token=tg.token, sweep_every=None)
    async with running(application, webhook):
        # Settled means every update handled, every message it owed delivered and every week
        # image it asked for sent.
        idle = delivery.deliverer(application).idle
        drawn = agenda.drawings(application).idle
        tg.add_idle_waiter(application.update_queue.join)
        tg.add_idle_waiter(idle)
        tg.add_idle_waiter(drawn)
        try:
            yield application
        finally:
            tg.remove_idle_waiter(drawn)
            tg.remove_idle_waiter(idle)
            tg.remove_idle_waiter(application.update_queue.join)


@pytest.fixture
async def bot(settings, store, clock, tg) -> AsyncIterator[Application]:
    async with running_bot(settings, store, clock, tg) as application:
        yield application


async def sweep(application: Application) -> None:
    """Run the minute's scheduled work now, as the job queue would, and wait until what it
    owed is delivered."""
    await scheduled.sweep(CallbackContext(application))
    await delivery.deliverer(application).idle()


# -- a real ``secretary-bot run`` process --------------------------------------------------


async def run_bot(config: Path, token: str) -> asyncio.subprocess.Process:
    """``secretary-bot run --config config`` in its own process, its output discarded."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": token},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
