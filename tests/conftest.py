"""Fixtures shared by the suite: settings built from the example config, real SQLite files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings, parse_settings
from storage import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.yaml"


@pytest.fixture(scope="session")
def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def config_data(example_data: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The example config, as a dict a test may change, with its database in tmp_path."""
    data = copy.deepcopy(example_data)
    data["database"] = str(tmp_path / "secretary.sqlite3")
    return data


@pytest.fixture
def settings(config_data: dict[str, Any]) -> Settings:
    return parse_settings(config_data)


@pytest.fixture
async def store(settings: Settings):
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    yield store
    await store.close()
