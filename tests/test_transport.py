"""The Bot API calls over aiohttp: what reaches Telegram, and what a failure says of it.

An owed message is sent again only when its call surely never reached Telegram; these
drive python-telegram-bot's own Bot through ``bot.transport`` against the simulator and a
closed port, and check what ``handlers.delivery.classify`` makes of each failure.
"""

from __future__ import annotations

import socket

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.simulator import Fault, Simulator
from bot.transport import AiohttpRequest, certified
from handlers.delivery import Outcome, classify

CHAT = 5001


def _bot(base_url: str, token: str, timeout: float = 2) -> Bot:
    tls = certified()
    return Bot(
        token,
        base_url=base_url,
        request=AiohttpRequest(timeout=timeout, connections=4, tls=tls),
        get_updates_request=AiohttpRequest(timeout=timeout, connections=1, tls=tls),
    )


async def test_a_message_and_a_file_reach_telegram_as_sent():
    async with Simulator() as tg:
        tg.user(CHAT, "Alice")
        async with _bot(tg.base_url, tg.token) as bot:
            sent = await bot.send_message(CHAT, "Bonjour <b>Alice</b> & co", parse_mode="HTML")
            await bot.send_document(CHAT, b"%PDF-1.4 facture", filename="facture.pdf")
        assert sent.text == "Bonjour Alice & co"
        messages = tg.user(CHAT, "Alice").messages
        assert messages[0].text == "Bonjour Alice & co"
        assert messages[1].document_file.data == b"%PDF-1.4 facture"
        assert not tg.violations


async def test_a_keyboard_and_accented_text_reach_telegram_as_sent():
    """Sent as a JSON body: nested objects and non-ASCII text as they are."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("mardi 8 décembre 10:00", callback_data="slot:42:1765184400")]]
    )
    async with Simulator() as tg:
        tg.user(CHAT, "Élodie")
        async with _bot(tg.base_url, tg.token) as bot:
            await bot.send_message(CHAT, "Créneaux libres — détartrage", reply_markup=keyboard)
        (call,) = [r for r in tg.requests if r.method == "sendMessage"]
        assert call.params["chat_id"] == CHAT
        assert call.params["text"] == "Créneaux libres — détartrage"
        assert call.params["reply_markup"] == keyboard.to_dict()
        (message,) = tg.user(CHAT, "Élodie").messages
        assert message.text == "Créneaux libres — détartrage"
        assert not tg.violations


async def test_a_closed_port_is_a_call_never_sent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest(timeout=2, connections=1, tls=certified()) as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot1:T/sendMessage")
    assert classify(raised.value) is Outcome.RETRY


@pytest.mark.parametrize("fault", [Fault.DROP_BEFORE, Fault.DROP_AFTER])
async def test_a_connection_dropped_unanswered_may_have_been_applied(fault):
    async with Simulator() as tg:
        tg.user(CHAT, "Alice")
        async with _bot(tg.base_url, tg.token) as bot:
            await bot.get_me()
            tg.inject_faults(1.0, [fault], methods=["sendMessage"])
            with pytest.raises(NetworkError) as raised:
                await bot.send_message(CHAT, "Bonjour")
    assert classify(raised.value) is Outcome.UNKNOWN


async def test_an_answer_slower_than_the_timeout_may_have_been_applied():
    async with Simulator() as tg:
        tg.user(CHAT, "Alice")
        async with _bot(tg.base_url, tg.token, timeout=0.2) as bot:
            tg.slow_down("sendMessage", 1.0)
            with pytest.raises(TimedOut) as raised:
                await bot.send_message(CHAT, "Bonjour")
        assert [m.text for m in tg.user(CHAT, "Alice").messages] == ["Bonjour"]
    assert classify(raised.value) is Outcome.UNKNOWN


async def test_telegram_refusing_a_call_is_its_own_error_not_the_connections():
    async with Simulator() as tg:
        tg.user(CHAT, "Alice")
        async with _bot(tg.base_url, tg.token) as bot:
            tg.fail_next("sendMessage", 500, "Internal Server Error")
            with pytest.raises(NetworkError) as raised:
                await bot.send_message(CHAT, "Bonjour")
    assert raised.value.__cause__ is None
    assert classify(raised.value) is Outcome.RETRY
