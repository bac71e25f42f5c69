"""``secretary-bot run`` as a real process: polls the simulator, stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import yaml

from tests.conftest import ROOT

TOKEN = "987654:SECRET-TOKEN-NEVER-LOGGED"


async def test_run_polls_the_configured_server_and_stops_on_sigterm(config_data, tmp_path, tg):
    tg.token = TOKEN
    config_data["telegram"]["base_url"] = tg.base_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        alice = tg.user(5001, "Alice", language="fr")
        await alice.send("/start cabinet-dupont")
        assert "Bonjour Alice" in alice.last.text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert "stopping" in log
    assert "SECRET-TOKEN" not in log
