"""Webhook mode: Telegram (the simulator) POSTs each update to the bot with the secret.

The booking flow's tests run here again with the bot in webhook mode; then what only this
mode has: the secret, the refused requests, deliveries retried until the bot takes them, the
command line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
import telegram
import yaml
from aiohttp import web

from bot.__main__ import main
from bot.app import Webhook, allowed_updates
from bot.simulator import SECRET_HEADER, load_spec
from bot.simulator.raw import new_callback_query_id, submit
from tests import test_booking_flow as flow
from tests.conftest import ROOT, SPEC, running_bot

SECRET = "webhook_SECRET-never-logged-42"
TOKEN = "987654:SECRET-TOKEN-NEVER-LOGGED"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def webhook() -> Webhook:
    port = free_port()
    return Webhook(
        url=f"http://127.0.0.1:{port}/telegram", host="127.0.0.1", port=port, secret=SECRET
    )


@pytest.fixture
async def bot(settings, store, clock, tg, webhook) -> AsyncIterator[telegram.ext.Application]:
    """The bot every test here talks to, the booking flow's included: in webhook mode."""
    async with running_bot(settings, store, clock, tg, webhook) as application:
        assert tg.webhook_url == webhook.url
        yield application
    polls = [r for r in tg.requests if r.method == "getUpdates" and r.status == 200]
    assert polls == [], "the bot polled in webhook mode"


# The booking flow, end to end, with the bot above.
claire = flow.claire
test_deep_link_binds_the_patient_and_greets_in_their_language = (
    flow.test_deep_link_binds_the_patient_and_greets_in_their_language
)
test_start_without_a_link_asks_which_business = flow.test_start_without_a_link_asks_which_business
test_buttons_request_confirm_and_the_patient_is_told = (
    flow.test_buttons_request_confirm_and_the_patient_is_told
)
test_typed_request_offers_the_asked_slot_first = flow.test_typed_request_offers_the_asked_slot_first
test_a_taken_time_offers_the_nearest = flow.test_a_taken_time_offers_the_nearest
test_two_patients_tapping_the_same_time_get_both_practitioners_then_none = (
    flow.test_two_patients_tapping_the_same_time_get_both_practitioners_then_none
)
test_decline_tells_the_patient_and_frees_the_slot = (
    flow.test_decline_tells_the_patient_and_frees_the_slot
)
test_anyone_else_replaying_the_secretary_button_is_refused_and_logged = (
    flow.test_anyone_else_replaying_the_secretary_button_is_refused_and_logged
)
test_a_business_without_confirmation_books_at_once = (
    flow.test_a_business_without_confirmation_books_at_once
)
test_the_patient_lists_their_appointments = flow.test_the_patient_lists_their_appointments
test_a_forged_button_changes_nothing = flow.test_a_forged_button_changes_nothing
test_sharing_ones_own_contact_keeps_the_phone_for_the_office = (
    flow.test_sharing_ones_own_contact_keeps_the_phone_for_the_office
)


# -- what the bot tells Telegram -------------------------------------------------------------


async def test_the_bot_sets_its_url_its_secret_and_the_updates_it_reads(bot, tg, webhook):
    (call,) = [r for r in tg.requests if r.method == "setWebhook"]
    assert call.params["url"] == webhook.url
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert allowed_updates(bot) == call.params["allowed_updates"]
    info = await bot.bot.get_webhook_info()
    assert info.url == webhook.url
    assert info.pending_update_count == 0
    assert info.allowed_updates == ("callback_query", "edited_message", "message")
    last = tg.requests[-1]
    assert last.method == "getWebhookInfo"
    with pytest.raises(telegram.error.Conflict, match="webhook is active"):
        await bot.bot.get_updates()


async def test_an_update_kind_the_bot_does_not_read_is_never_sent(bot, tg):
    before = len(tg.deliveries)
    channel = {"id": -100123, "type": "channel", "title": "News"}
    await submit(
        tg,
        "channel_post",
        {"message_id": 1, "chat": channel, "sender_chat": channel, "date": 0, "text": "hi"},
    )
    assert len(tg.deliveries) == before


async def test_a_handler_whose_updates_are_unknown_is_refused(bot):
    """A new kind of handler cannot be left out of allowed_updates unnoticed."""
    polls = telegram.ext.PollAnswerHandler(lambda update, context: None)
    bot.add_handler(polls)
    try:
        with pytest.raises(TypeError, match="PollAnswerHandler"):
            allowed_updates(bot)
    finally:
        bot.remove_handler(polls)


# -- the secret --------------------------------------------------------------------------------


async def test_a_post_without_the_right_secret_is_refused_and_changes_nothing(
    bot, tg, store, webhook
):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.tap("📅 Prendre rendez-vous")
    await alice.tap("Détartrage")
    await alice.tap(alice.last.buttons[0][0])
    times = alice.last
    first_time = times.buttons[0][0]
    (data,) = [
        button["callback_data"]
        for row in times.reply_markup["inline_keyboard"]
        for button in row
        if button["text"] == first_time
    ]
    seen = len(alice.messages)
    called = len(tg.requests)
    async with aiohttp.ClientSession() as http:
        wrong = ({}, {SECRET_HEADER: "guessed"}, {SECRET_HEADER: SECRET[:-1]})
        for number, headers in enumerate(wrong):
            tap = {
                "update_id": 900_000 + number,
                "callback_query": {
                    "id": new_callback_query_id(tg, alice),
                    "from": alice.to_api(),
                    "message": times.to_api(),
                    "chat_instance": "forged",
                    "data": data,
                },
            }
            async with http.post(webhook.url, json=tap, headers=headers) as response:
                assert response.status == 403
    await tg.settle()
    assert await store.appointments.of_patient(5001, tg.now()) == []
    assert len(alice.messages) == seen
    assert len(tg.requests) == called
    # The same tap, from Telegram, books.
    await alice.tap(first_time, in_message=times)
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == flow.Status.REQUESTED


def _start_update(tg, user, update_id: int) -> dict:
    text = "/start cabinet-dupont"
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user.to_api(),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "date": int(tg.now().timestamp()),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len("/start")}],
        },
    }


async def test_the_worker_answers_once_the_update_is_handled(bot, tg, webhook):
    """Its 200 says the update is done: the greeting is sent before it, not queued."""
    alice = tg.user(5001, "Alice", language="fr")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            webhook.url, json=_start_update(tg, alice, 910_000), headers={SECRET_HEADER: SECRET}
        ) as response,
    ):
        assert response.status == 200
        (greeting,) = alice.messages
    assert "Bonjour Alice" in greeting.text


async def test_an_update_sent_again_is_answered_and_not_handled_twice(bot, tg, store, webhook):
    """Telegram sends an update again when its 200 was lost: the worker says 200 again."""
    alice = tg.user(5001, "Alice", language="fr")
    update = _start_update(tg, alice, 910_001)
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(
                webhook.url, json=update, headers={SECRET_HEADER: SECRET}
            ) as response:
                assert response.status == 200
    (greeting,) = alice.messages
    assert "Bonjour Alice" in greeting.text
    assert await store.handled_updates.seen(910_001)
    # Another update of hers is handled as ever.
    await alice.send("/aide")
    assert alice.last.text.startswith("Je prends vos rendez-vous")


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b"{}", b'{"update_id": "x"}'])
async def test_a_body_that_is_no_update_is_refused_and_the_worker_goes_on(bot, tg, webhook, body):
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(webhook.url, data=body, headers=headers) as response,
    ):
        assert response.status == 400
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    assert "Bonjour Alice" in alice.last.text


async def test_an_update_whose_step_could_not_be_written_is_sent_again(bot, tg, store, claire):
    """The store refuses to keep Claire's step (a real SQLite failure): the worker answers
    500, Telegram sends the update again, and once the store takes it her step is kept."""
    async with store.db.transaction() as connection:
        await connection.execute(
            """CREATE TRIGGER refuse_sessions BEFORE INSERT ON user_sessions
               BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"""
        )

    async def store_comes_back() -> None:
        await tg.next_delivery(lambda attempt: attempt.status == 500)
        async with store.db.transaction() as connection:
            await connection.execute("DROP TRIGGER refuse_sessions")

    coming_back = asyncio.create_task(store_comes_back())
    try:
        await claire.send("/rdv")
        assert coming_back.done(), "the worker took the update without keeping the step"
    finally:
        coming_back.cancel()
    statuses = [attempt.status for attempt in tg.deliveries]
    assert statuses[-1] == 200
    assert set(statuses[:-1]) == {500}
    assert len({attempt.update_id for attempt in tg.deliveries}) == 1
    assert await store.sessions.get(claire.id) is not None
    assert await store.handled_updates.seen(tg.deliveries[-1].update_id)


# -- deliveries that fail ----------------------------------------------------------------------


async def test_a_delivery_the_worker_failed_is_retried_and_handled_once(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    tg.fail_next_delivery(502)
    await alice.send("/start cabinet-dupont")
    assert [attempt.status for attempt in tg.deliveries] == [502, 200]
    assert len({attempt.update_id for attempt in tg.deliveries}) == 1
    (greeting,) = alice.messages
    assert "Bonjour Alice" in greeting.text
    info = await bot.bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert load_spec(SPEC).validate_object("WebhookInfo", info.to_dict()) == []


async def test_a_chats_updates_are_posted_one_at_a_time_in_order(tg):
    """The simulator alone, posting to a receiver that holds Alice's first update: her second
    waits for its answer, Bob's goes meanwhile."""
    seen: list[tuple[int, str, str | None]] = []
    release, two_seen = asyncio.Event(), asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        message = (await request.json())["message"]
        seen.append((message["chat"]["id"], message["text"], request.headers.get(SECRET_HEADER)))
        if len(seen) == 2:
            two_seen.set()
        if message["text"] == "un":
            await release.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{tg.base_url}{tg.token}"
            hook = {"url": f"http://127.0.0.1:{port}/hook", "secret_token": SECRET}
            async with http.post(f"{url}/setWebhook", json=hook) as response:
                assert (await response.json()) == {"ok": True, "result": True}
            async with http.post(f"{url}/getUpdates", json={}) as response:
                assert response.status == 409
        alice, bob = tg.user(5001, "Alice"), tg.user(5002, "Bob")
        sends = []
        for user, text in ((alice, "un"), (alice, "deux"), (bob, "hello")):
            sends.append(asyncio.create_task(user.send(text)))
            await asyncio.sleep(0)
        async with asyncio.timeout(10):
            await two_seen.wait()
        assert seen == [(5001, "un", SECRET), (5002, "hello", SECRET)]
        release.set()
        await asyncio.gather(*sends)
        assert seen[-1] == (5001, "deux", SECRET)
    finally:
        release.set()
        await runner.cleanup()


# -- the command line --------------------------------------------------------------------------


def test_run_help_shows_the_webhook_flags(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert "--webhook URL" in shown
    assert "--listen HOST:PORT" in shown
    assert "TELEGRAM_WEBHOOK_SECRET" in shown


@pytest.mark.parametrize("secret", [None, "", "has spaces", "x" * 257, "colon:in"])
def test_webhook_mode_without_a_good_secret_refuses_to_start(
    secret, config_data, tmp_path, monkeypatch, capsys
):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    if secret is None:
        monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
    args = ["run", "--config", str(config), "--webhook", "https://bot.example.org/tg"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--listen", "127.0.0.1:8443"])
    assert exit_.value.code == 2
    said = capsys.readouterr().err
    assert "TELEGRAM_WEBHOOK_SECRET" in said
    assert secret is None or secret == "" or secret not in said


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--webhook", "https://bot.example.org/tg"], "go together"),
        (["--listen", "127.0.0.1:8443"], "go together"),
        (["--webhook", "bot.example.org", "--listen", "127.0.0.1:8443"], "not a URL"),
        (["--webhook", "https://bot.example.org/tg", "--listen", "8443"], "not HOST:PORT"),
    ],
)
def test_webhook_flags_said_wrong_are_refused(
    flags, said, config_data, tmp_path, monkeypatch, capsys
):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--config", str(config), *flags])
    assert exit_.value.code == 2
    assert said in capsys.readouterr().err


async def _run_worker(config, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        "--webhook",
        f"http://127.0.0.1:{port}/tg",
        "--listen",
        f"127.0.0.1:{port}",
        "--verbose",
        cwd=ROOT,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    return log


async def test_run_in_webhook_mode_loses_nothing_while_its_worker_restarts(
    config_data, tmp_path, tg
):
    tg.token = TOKEN
    tg.settle_timeout = 60  # two start-ups of a process, on a busy machine
    config_data["telegram"]["base_url"] = tg.base_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    port = free_port()
    alice = tg.user(5001, "Alice", language="fr")

    worker = await _run_worker(config, port)
    try:
        await alice.send("/start cabinet-dupont")
        assert "Bonjour Alice" in alice.last.text
    finally:
        logs = [await _stop(worker)]

    # Nobody listens: Telegram keeps the update and tries again until a worker takes it.
    said = len(alice.messages)
    asking = asyncio.create_task(alice.send("/aide"))
    async with asyncio.timeout(30):
        await tg.next_delivery(lambda attempt: attempt.status is None)
    worker = await _run_worker(config, port)
    try:
        await asking
    finally:
        logs.append(await _stop(worker))
    (answer,) = alice.messages[said:]
    assert answer.text.startswith("Je prends vos rendez-vous")
    help_update = tg.deliveries[-1].update_id
    attempts = [a for a in tg.deliveries if a.update_id == help_update]
    assert [a.status for a in attempts][-1] == 200
    assert all(a.status is None for a in attempts[:-1])
    calls = [r.params for r in tg.requests if r.method == "setWebhook"]
    assert len(calls) == 2 and calls[0] == calls[1]
    for log in logs:
        assert "webhook http://127.0.0.1" in log
        assert SECRET not in log
        assert "SECRET-TOKEN" not in log
        assert "Alice" not in log and "cabinet-dupont" not in log  # the payloads, at DEBUG
