"""The simulator failing calls as Telegram does, seen through python-telegram-bot over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, CallbackQueryHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.simulator import ALL_FAULTS, Fault, Simulator, find_spec

# The client gives up after READ_TIMEOUT; a slow answer comes after SLOW_SECONDS.
READ_TIMEOUT = 0.3
SLOW_SECONDS = 0.6
# python-telegram-bot reads every dropped connection as httpx's RemoteProtocolError.
DROPPED = "httpx.RemoteProtocolError: Server disconnected without sending a response"

# (kind, what PTB raises, its message, whether Telegram did the call)
KINDS = [
    (Fault.TOO_MANY_REQUESTS, RetryAfter, "Flood control exceeded. Retry in 2 seconds", False),
    (Fault.INTERNAL_ERROR, NetworkError, "Internal Server Error", False),
    (Fault.BAD_GATEWAY, NetworkError, "Bad Gateway (502). Parsing the server response", False),
    (Fault.SLOW_AFTER_APPLY, TimedOut, "Timed out", True),
    (Fault.DROP_BEFORE, NetworkError, DROPPED, False),
    (Fault.DROP_AFTER, NetworkError, DROPPED, True),
]


@pytest.fixture
async def tg() -> AsyncIterator[Simulator]:
    async with Simulator(spec_path=find_spec()) as simulator:
        yield simulator
        assert simulator.violations == []


def request() -> HTTPXRequest:
    return HTTPXRequest(read_timeout=READ_TIMEOUT)


@pytest.fixture
async def bot(tg: Simulator) -> AsyncIterator[Bot]:
    client = Bot(
        tg.token,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        request=request(),
        get_updates_request=request(),
    )
    async with client:
        yield client


def inject(tg: Simulator, kind: str, **options: object) -> None:
    """Fail every call the faults cover, with ``kind``."""
    tg.inject_faults(1.0, {kind}, retry_after=2, slow_seconds=SLOW_SECONDS, **options)


# Each kind, as python-telegram-bot surfaces it --------------------------------------------------


@pytest.mark.parametrize(("kind", "raised", "message", "applied"), KINDS, ids=[k[0] for k in KINDS])
async def test_each_kind_raises_what_telegram_would_and_is_applied_or_not(
    tg: Simulator, bot: Bot, kind: Fault, raised: type, message: str, applied: bool
) -> None:
    alice = tg.user(5001, "Alice")
    inject(tg, kind)

    with pytest.raises(raised) as caught:
        await bot.send_message(5001, "Votre rendez-vous est confirmé")

    assert type(caught.value) is raised  # TimedOut is a NetworkError: the exact type matters
    assert caught.value.message.startswith(message)
    if raised is RetryAfter:
        assert caught.value.retry_after in (2, timedelta(seconds=2))
    delivered = ["Votre rendez-vous est confirmé"] if applied else []
    assert [m.text for m in alice.messages] == delivered
    assert tg.transcript() == [f"Bot -> Alice: {text}" for text in delivered]
    (call,) = [r for r in tg.requests if r.method == "sendMessage"]
    assert call.fault == kind
    assert tg.fault_counts == {k.value: int(k == kind) for k in Fault}

    tg.clear_faults()
    await bot.send_message(5001, "Rappel : demain 10h")
    assert alice.last.text == "Rappel : demain 10h"


async def test_start_up_calls_are_not_faulted_by_default(tg: Simulator, bot: Bot) -> None:
    tg.user(5001, "Alice")
    inject(tg, Fault.INTERNAL_ERROR)

    assert (await bot.get_me()).username == "secretary_test_bot"
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.get_chat(5001)


async def test_only_the_methods_named_are_faulted(tg: Simulator, bot: Bot) -> None:
    alice = tg.user(5001, "Alice")
    inject(tg, Fault.DROP_BEFORE, methods={"editMessageText", "getme"})

    sent = await bot.send_message(5001, "Bonjour")
    with pytest.raises(NetworkError, match=DROPPED):
        await bot.get_me()
    with pytest.raises(NetworkError, match=DROPPED):
        await bot.edit_message_text("Au revoir", chat_id=5001, message_id=sent.message_id)
    assert alice.last.text == "Bonjour"
    with pytest.raises(ValueError, match="sendPoll"):
        tg.inject_faults(0.5, methods={"sendPoll"})
    with pytest.raises(ValueError, match="'404' is not a valid Fault"):
        tg.inject_faults(0.5, {"404"})


async def test_requests_are_checked_against_the_spec_before_any_fault(
    tg: Simulator, bot: Bot
) -> None:
    alice = tg.user(5001, "Alice")
    inject(tg, Fault.DROP_AFTER)

    with pytest.raises(BadRequest, match="Colour: unknown field"):
        await bot.send_message(5001, "Bonjour", api_kwargs={"colour": "red"})
    assert tg.violations == ["sendMessage: colour: unknown field"]
    assert tg.fault_counts[Fault.DROP_AFTER] == 0
    assert alice.messages == []
    tg.violations.clear()


async def test_clearing_faults_ends_fail_next_and_slow_down_too(tg: Simulator, bot: Bot) -> None:
    alice = tg.user(5001, "Alice")
    tg.fail_next("sendMessage", error_code=500, times=3)
    tg.slow_down("sendMessage", SLOW_SECONDS)
    tg.clear_faults()

    await bot.send_message(5001, "Bonjour")
    assert alice.last.text == "Bonjour"


# A tap: answering it and editing the message ----------------------------------------------------


@asynccontextmanager
async def tap_handling_bot(tg: Simulator) -> AsyncIterator[list[TelegramError]]:
    """An Application that answers a tap then edits its message; yields what those raised."""
    errors: list[TelegramError] = []

    async def pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        try:
            await query.answer("Noté")
        except TelegramError as error:
            errors.append(error)
        try:
            await query.edit_message_text("Rendez-vous à 10:30")
        except TelegramError as error:
            errors.append(error)

    app = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .request(request())
        .get_updates_request(request())
        .build()
    )
    app.add_handler(CallbackQueryHandler(pick))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        tg.add_idle_waiter(app.update_queue.join)
        try:
            yield errors
        finally:
            tg.remove_idle_waiter(app.update_queue.join)
            await app.updater.stop()
            await app.stop()


TAP_KINDS = [
    (Fault.DROP_BEFORE, NetworkError, False),
    (Fault.INTERNAL_ERROR, NetworkError, False),
    (Fault.DROP_AFTER, NetworkError, True),
    (Fault.SLOW_AFTER_APPLY, TimedOut, True),
]


@pytest.mark.parametrize(("kind", "raised", "applied"), TAP_KINDS, ids=[k[0] for k in TAP_KINDS])
async def test_answering_a_tap_and_editing_can_fail(
    tg: Simulator, bot: Bot, kind: Fault, raised: type, applied: bool
) -> None:
    alice = tg.user(5001, "Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("10:30", callback_data="10:30")]])
    await bot.send_message(5001, "Quel créneau ?", reply_markup=keyboard)
    async with tap_handling_bot(tg) as errors:
        inject(tg, kind, methods={"answerCallbackQuery", "editMessageText"})
        await alice.tap("10:30")

    assert [type(error) for error in errors] == [raised, raised]
    assert tg.fault_counts[kind] == 2
    (offer,) = alice.messages
    if applied:
        assert alice.answers == ["Noté"]
        assert offer.text == "Rendez-vous à 10:30"
        assert tg.transcript()[-2:] == [
            "Bot -> Alice (notification): Noté",
            "Bot -> Alice (edited): Rendez-vous à 10:30",
        ]
    else:
        assert alice.answers == []
        assert (offer.text, offer.buttons, offer.edit_date) == ("Quel créneau ?", [["10:30"]], None)
        assert tg.transcript()[-1] == "Alice > 10:30"


# How often --------------------------------------------------------------------------------------

# The kinds that answer at once, to keep many calls fast.
QUICK = ALL_FAULTS - {Fault.SLOW_AFTER_APPLY}


async def fail_pattern(tg: Simulator, bot: Bot, calls: int, seed: int) -> list[str | None]:
    """Which kind hit each of ``calls`` messages; checks each failed as its kind says."""
    alice = tg.user(5001, "Alice")
    tg.inject_faults(0.25, QUICK, seed=seed)
    pattern: list[str | None] = []
    for number in range(calls):
        try:
            await bot.send_message(5001, f"message {number}")
        except (RetryAfter, NetworkError):
            pattern.append(tg.requests[-1].fault)
        else:
            pattern.append(None)
    delivered = [f"message {i}" for i, kind in enumerate(pattern) if kind in (None, "drop_after")]
    assert [m.text for m in alice.messages] == delivered
    return pattern


async def test_the_rate_is_honoured_and_the_seed_decides(tg: Simulator, bot: Bot) -> None:
    calls = 300
    pattern = await fail_pattern(tg, bot, calls, seed=7)

    failed = [kind for kind in pattern if kind is not None]
    assert 0.2 * calls <= len(failed) <= 0.3 * calls
    counts = tg.fault_counts
    assert sum(counts.values()) == len(failed)
    assert all(counts[kind] > 0 for kind in QUICK) and counts[Fault.SLOW_AFTER_APPLY] == 0
    async with Simulator(spec_path=find_spec()) as again:
        client = Bot(again.token, base_url=again.base_url, request=request())
        async with client:
            assert await fail_pattern(again, client, calls, seed=7) == pattern


# Long polling ------------------------------------------------------------------------------------


async def test_get_updates_under_faults_loses_none_and_repeats_none(
    tg: Simulator, bot: Bot
) -> None:
    alice = tg.user(5001, "Alice")
    texts = [f"message {number}" for number in range(12)]
    sending = [asyncio.create_task(alice.send(text)) for text in texts]
    await asyncio.sleep(0)  # each queues its update before waiting for the bot
    assert len(tg.transcript()) == len(texts)
    tg.inject_faults(0.5, ALL_FAULTS, seed=8, methods={"getUpdates"}, slow_seconds=SLOW_SECONDS)

    received: list[Update] = []
    offset = None
    for _ in range(200):  # a client that follows offsets, and retries at once
        if len(received) == len(texts):
            break
        try:
            updates = await bot.get_updates(offset=offset, limit=3, timeout=0)
        except (RetryAfter, NetworkError):
            continue
        received += updates
        if updates:
            offset = updates[-1].update_id + 1
    tg.clear_faults()
    await bot.get_updates(offset=offset, timeout=0)  # confirms the last ones
    await asyncio.gather(*sending)

    assert [update.message.text for update in received] == texts
    ids = [update.update_id for update in received]
    assert ids == sorted(set(ids))
    # The answers lost after the offset was applied are the ones that test the redelivery.
    counts = tg.fault_counts
    assert counts[Fault.DROP_AFTER] > 0 and counts[Fault.SLOW_AFTER_APPLY] > 0
