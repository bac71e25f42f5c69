"""What the bot keeps to itself: the token, patients' words in its log, its database file.

The log tests run the real ``secretary-bot run --verbose`` against the simulator, have a
patient book with her name, her number and a message of her own, and read the whole log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
import yaml
from telegram.error import InvalidToken

from bot.logsafety import SafeFormatter
from storage import Store
from tests.conftest import ROOT

# Shaped as BotFather's tokens are: what a log line must never show.
TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
CLAIRE = 111111111
GERTRUDE = 5001
MESSAGE = "Bonjour, ici Gertrude Quenouille, un détartrage svp, rappelez-moi au 06 98 76 54 32"
SECRETS = ("Gertrude", "Quenouille", "gquenouille", "98 76 54 32", "698765432", "rappelez-moi")


def write_config(config_data, tmp_path: Path, tg) -> Path:
    config_data["telegram"]["base_url"] = tg.base_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    return config


async def start_bot(config: Path, log: Path, *flags: str) -> asyncio.subprocess.Process:
    # To a file: a verbose log overflows a pipe nobody reads while the test talks to the bot.
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--verbose",
            *flags,
            "--config",
            str(config),
            cwd=ROOT,
            env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
            stdout=output,
            stderr=output,
        )


async def stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=30)


async def a_patient_books(tg) -> None:
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await claire.send("/start")
    gertrude = tg.user(
        GERTRUDE, "Gertrude", last_name="Quenouille", username="gquenouille", language="fr"
    )
    await gertrude.send("/start cabinet-dupont")
    menu = gertrude.last
    await gertrude.send(MESSAGE)
    # Booked with the buttons, whatever the bot made of her words: each tap edits the menu.
    await gertrude.tap("📅 Prendre rendez-vous", in_message=menu)
    await gertrude.tap("Détartrage", in_message=menu)
    await gertrude.tap(menu.buttons[0][0], in_message=menu)  # the first day offered
    await gertrude.tap(menu.buttons[0][0], in_message=menu)  # its first time
    await gertrude.share_contact("+33698765432")
    assert gertrude.last.text.startswith("Merci, votre numéro est enregistré")
    # The request reached the secretary, with the patient's name and number in it.
    assert any("Gertrude Quenouille" in m.text for m in claire.messages)


async def test_a_verbose_log_shows_ids_but_neither_the_token_nor_what_a_patient_wrote(
    config_data, tmp_path, tg
):
    tg.token = TOKEN
    log_file = tmp_path / "bot.log"
    process = await start_bot(write_config(config_data, tmp_path, tg), log_file)
    try:
        await a_patient_books(tg)
    finally:
        await stop(process)
    log = log_file.read_text(encoding="utf-8")
    assert process.returncode == 0, log
    # The libraries did log the updates, the requests and the SQL, at DEBUG...
    assert "Processing update" in log
    assert "Calling Bot API endpoint `sendMessage`" in log
    assert "DEBUG aiosqlite" in log
    assert f"'id': {GERTRUDE}" in log
    # ...without anything they carried.
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    for secret in SECRETS:
        assert secret not in log, secret


async def test_log_content_shows_the_messages_and_still_not_the_token(config_data, tmp_path, tg):
    tg.token = TOKEN
    log_file = tmp_path / "bot.log"
    process = await start_bot(write_config(config_data, tmp_path, tg), log_file, "--log-content")
    try:
        await a_patient_books(tg)
    finally:
        await stop(process)
    log = log_file.read_text(encoding="utf-8")
    assert process.returncode == 0, log
    assert "rappelez-moi" in log and "Quenouille" in log
    assert TOKEN.split(":")[1] not in log


async def test_a_token_telegram_rejects_is_not_in_the_traceback(config_data, tmp_path, tg):
    tg.token = "42:not-the-token-the-bot-has"
    log_file = tmp_path / "bot.log"
    process = await start_bot(write_config(config_data, tmp_path, tg), log_file)
    await asyncio.wait_for(process.wait(), timeout=30)
    log = log_file.read_text(encoding="utf-8")
    assert process.returncode == 1, log
    assert "Traceback" in log and "The token `<token>` was rejected by the server." in log
    assert TOKEN.split(":")[1] not in log


def test_anything_shaped_like_a_token_is_cut_from_messages_and_tracebacks():
    other = "5555555555:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsawZ"  # not the bot's own
    formatter = SafeFormatter("%(message)s", secrets=[TOKEN], content=False)
    try:
        raise InvalidToken(f"The token `{other}` was rejected by the server.")
    except InvalidToken:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "at %s and %s", (f"/bot{TOKEN}/getMe", other), True
        )
        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert text.startswith("at /bot<token>/getMe and <token>")
    assert "The token `<token>` was rejected" in text
    assert "AAHdq" not in text and "BBHdq" not in text
    # The record itself is left as it was, for any other handler.
    assert record.args[1] == other


def test_a_number_the_bots_own_code_logs_is_cut_unless_content_is_asked_for():
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "call back %s", ("06 98 76 54 32",), None
    )
    assert SafeFormatter(content=False).format(record) == "call back <phone>"
    assert SafeFormatter(content=True).format(record) == "call back 06 98 76 54 32"


# -- the database file ---------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


@pytest.fixture
def open_umask():
    """A umask that lets everyone read what is created: the store must not rely on it."""
    previous = os.umask(0)
    yield
    os.umask(previous)


async def test_a_new_database_its_wal_its_shm_and_its_folder_are_the_owners_only(
    tmp_path, open_umask
):
    path = tmp_path / "data" / "secretary.sqlite3"
    store = await Store.open(path, [("cabinet-dupont", "Cabinet Dupont")])
    try:
        assert all(p.exists() for p in companions(path))
        assert [mode(p) for p in (path, *companions(path))] == [0o600] * 3
        assert mode(path.parent) == 0o700
    finally:
        await store.close()


async def test_an_existing_database_open_to_all_is_closed_to_them_at_start(tmp_path, open_umask):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    path = folder / "secretary.sqlite3"
    # Another process holds it open, so its -wal and -shm are there, made world-readable.
    other = sqlite3.connect(path)
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE t (x)")
    for loose in (path, *companions(path)):
        loose.chmod(0o644)
    try:
        store = await Store.open(path)
        try:
            assert [mode(p) for p in (path, *companions(path))] == [0o600] * 3
            assert mode(folder) == 0o700
        finally:
            await store.close()
    finally:
        other.close()
