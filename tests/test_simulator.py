"""The Telegram simulator, driven by a real python-telegram-bot Application over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.simulator import BotApiSpec, Simulator, find_spec, load_spec, parse_html

SPEC = find_spec()
pytestmark = pytest.mark.skipif(SPEC is None, reason="the shipped Bot API spec is missing")


@pytest.fixture
async def tg() -> AsyncIterator[Simulator]:
    async with Simulator(spec_path=SPEC) as simulator:
        yield simulator
        # Tests that provoke violations on purpose check and clear them.
        assert simulator.violations == []


@pytest.fixture
def spec() -> BotApiSpec:
    assert SPEC is not None
    return load_spec(SPEC)


@asynccontextmanager
async def running_bot(
    tg: Simulator, *handlers: BaseHandler, wait_idle: bool = True
) -> AsyncIterator[tuple[Application, list[Exception]]]:
    """A real Application polling the simulator; yields it and the errors its handlers raised."""
    app = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    errors: list[Exception] = []

    async def keep_error(update: object, context: CallbackContext) -> None:
        errors.append(context.error)

    app.add_handlers(list(handlers))
    app.add_error_handler(keep_error)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=5)
    if wait_idle:
        tg.add_idle_waiter(app.update_queue.join)
    try:
        yield app, errors
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if wait_idle:
            tg.remove_idle_waiter(app.update_queue.join)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    await update.message.reply_text(
        f"Bonjour {user.first_name} ({user.language_code}), {context.args}"
    )


async def offer_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("10:00", callback_data="slot:10:00"),
                InlineKeyboardButton("10:30", callback_data="slot:10:30"),
            ],
            [InlineKeyboardButton("Site", url="https://example.org")],
        ]
    )
    await update.message.reply_text("Quel créneau ?", reply_markup=keyboard)


async def pick_slot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Noté ({query.data})")
    await query.edit_message_text(f"Rendez-vous à {query.data.removeprefix('slot:')}")


def api(tg: Simulator, method: str) -> str:
    return f"{tg.base_url}{tg.token}/{method}"


# Conversations -----------------------------------------------------------------------------------


async def test_a_command_gets_a_reply(tg: Simulator) -> None:
    async with running_bot(tg, CommandHandler("start", start)):
        alice = tg.user(5001, "Alice", language="fr")
        await alice.send("/start cabinet-dupont")

        assert alice.last.text == "Bonjour Alice (fr), ['cabinet-dupont']"
    sent = [r for r in tg.requests if r.method == "sendMessage"]
    assert sent[0].params["chat_id"] == 5001
    assert sent[0].status == 200
    assert tg.transcript() == [
        "Alice: /start cabinet-dupont",
        "Bot -> Alice: Bonjour Alice (fr), ['cabinet-dupont']",
    ]


async def test_a_tap_is_answered_and_the_edit_shows_in_the_chat(tg: Simulator) -> None:
    handlers = (CommandHandler("slots", offer_slots), CallbackQueryHandler(pick_slot))
    async with running_bot(tg, *handlers):
        alice = tg.user(5001, "Alice")
        await alice.send("/slots")
        assert alice.last.buttons == [["10:00", "10:30"], ["Site"]]
        assert alice.last.button("10:30")["callback_data"] == "slot:10:30"

        await alice.tap("10:30")

    (offer,) = alice.messages
    assert offer.text == "Rendez-vous à 10:30"
    assert offer.buttons == []  # an edit without reply_markup drops the keyboard
    assert offer.edit_date is not None
    assert alice.answers == ["Noté (slot:10:30)"]
    assert tg.transcript()[2:] == [
        "Alice > 10:30",
        "Bot -> Alice (notification): Noté (slot:10:30)",
        "Bot -> Alice (edited): Rendez-vous à 10:30",
    ]


async def test_the_callback_query_carries_what_telegram_sends(tg: Simulator) -> None:
    queries: list[Update] = []

    async def keep(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        queries.append(update)
        await update.callback_query.answer()

    async with running_bot(tg, CommandHandler("slots", offer_slots), CallbackQueryHandler(keep)):
        alice = tg.user(5001, "Alice", language="fr", last_name="Martin", username="alice_m")
        await alice.send("/slots")
        await alice.tap("10:00", in_message=alice.last)

    query = queries[0].callback_query
    assert query.data == "slot:10:00"
    assert query.from_user.id == 5001
    assert query.from_user.language_code == "fr"
    assert query.chat_instance
    assert query.message.text == "Quel créneau ?"
    assert query.message.from_user.is_bot
    assert query.message.chat.username == "alice_m"
    assert alice.answers == []  # answered without a text: nothing shown


async def test_the_keyboard_of_a_message_can_be_replaced_then_removed(tg: Simulator) -> None:
    async with running_bot(tg, CommandHandler("slots", offer_slots)) as (app, _):
        alice = tg.user(5001, "Alice")
        await alice.send("/slots")
        offer = alice.last
        only = InlineKeyboardMarkup([[InlineKeyboardButton("11:00", callback_data="slot:11:00")]])

        await app.bot.edit_message_reply_markup(5001, offer.message_id, reply_markup=only)
        assert offer.buttons == [["11:00"]]
        with pytest.raises(BadRequest, match="Message is not modified"):
            await app.bot.edit_message_reply_markup(5001, offer.message_id, reply_markup=only)
        await app.bot.edit_message_reply_markup(5001, offer.message_id)

    assert offer.buttons == []
    assert offer.text == "Quel créneau ?"
    assert tg.transcript()[-1] == "Bot -> Alice (edited): Quel créneau ?"


async def test_tapping_a_missing_button_lists_the_buttons_shown(tg: Simulator) -> None:
    async with running_bot(tg, CommandHandler("slots", offer_slots)):
        alice = tg.user(5001, "Alice")
        await alice.send("/slots")

        with pytest.raises(AssertionError, match=r"no button '11:00'.*\[10:00\] \[10:30\]"):
            await alice.tap("11:00")
        with pytest.raises(AssertionError, match="not a callback button"):
            await alice.tap("Site")


async def test_a_shared_contact_reaches_the_bot(tg: Simulator) -> None:
    async def thank(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        contact = update.message.contact
        await update.message.reply_text(f"Merci, {contact.phone_number} ({contact.user_id})")

    async with running_bot(tg, MessageHandler(filters.CONTACT, thank)):
        alice = tg.user(5001, "Alice")
        await alice.share_contact("+33612345678")

    assert alice.last.text == "Merci, +33612345678 (5001)"
    assert tg.transcript()[0] == "Alice: [contact +33612345678]"


async def test_a_reply_keyboard_sends_its_label(tg: Simulator) -> None:
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keys = [[KeyboardButton("Mon numéro", request_contact=True)], ["Annuler"]]
        await update.message.reply_text("Votre numéro ?", reply_markup=ReplyKeyboardMarkup(keys))

    async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text("Annulé", reply_markup=ReplyKeyboardRemove())

    handlers = (CommandHandler("phone", ask), MessageHandler(filters.Text(["Annuler"]), cancel))
    async with running_bot(tg, *handlers):
        alice = tg.user(5001, "Alice")
        await alice.send("/phone")
        assert alice.keyboard == [["Mon numéro"], ["Annuler"]]
        with pytest.raises(AssertionError, match="share_contact"):
            await alice.tap("Mon numéro")

        await alice.tap("Annuler")

    assert alice.last.text == "Annulé"
    assert alice.keyboard is None
    assert tg.transcript()[1:3] == [
        "Bot -> Alice: Votre numéro ?  keyboard: [Mon numéro] [Annuler]",
        "Alice: Annuler",
    ]


async def test_documents_and_photos_keep_their_bytes(tg: Simulator) -> None:
    async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sent = await update.message.reply_document(
            b"%PDF-1.4 fake", filename="relevé.pdf", caption="Votre relevé"
        )
        await update.message.reply_photo(b"\x89PNG fake", filename="plan.png")
        await update.message.reply_document(sent.document.file_id)  # sent again by file_id

    async with running_bot(tg, CommandHandler("report", report)):
        alice = tg.user(5001, "Alice")
        await alice.send("/report")

    document, photo, again = alice.messages
    assert document.document == ("relevé.pdf", b"%PDF-1.4 fake")
    assert document.caption == "Votre relevé"
    assert photo.photo == ("plan.png", b"\x89PNG fake")
    assert again.document == document.document
    upload = next(r for r in tg.requests if r.method == "sendDocument")
    assert upload.files == {"document": ("relevé.pdf", b"%PDF-1.4 fake")}
    assert "Bot -> Alice: [document relevé.pdf] Votre relevé" in tg.transcript()


async def test_html_is_parsed_into_text_and_entities(tg: Simulator) -> None:
    async with running_bot(tg) as (app, _):
        alice = tg.user(5001, "Alice")
        sent = await app.bot.send_message(
            5001, "<b>Confirmé</b> le 3 mars &amp; <i>noté</i>", parse_mode=ParseMode.HTML
        )

        assert alice.last.text == "Confirmé le 3 mars & noté"
        assert [(e.type, e.offset, e.length) for e in sent.entities] == [
            ("bold", 0, 8),
            ("italic", 21, 4),
        ]
        assert sent.text_html == "<b>Confirmé</b> le 3 mars &amp; <i>noté</i>"

        # python-telegram-bot lower-cases the description after its first letter.
        with pytest.raises(BadRequest, match='parse entities: unsupported start tag "bob"'):
            await app.bot.send_message(5001, "Bonjour <Bob>", parse_mode=ParseMode.HTML)
    assert tg.violations == [
        'sendMessage: can\'t parse entities: Unsupported start tag "Bob" at byte offset 8'
    ]
    tg.violations.clear()


def test_parse_html_handles_nesting_links_and_utf16_offsets() -> None:
    text, entities = parse_html(
        '😀 <a href="https://x.org"><b>lien</b></a> <pre><code class="language-py">1</code></pre>'
    )
    assert text == "😀 lien 1"
    assert entities == [
        {"type": "text_link", "offset": 3, "url": "https://x.org", "length": 4},
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "pre", "offset": 8, "language": "py", "length": 1},
    ]


# Errors as Telegram answers them ----------------------------------------------------------------


async def test_a_blocked_user_gets_the_bot_forbidden(tg: Simulator) -> None:
    async def notify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(5001, "Votre rendez-vous est confirmé")

    async with running_bot(tg, CommandHandler("notify", notify)) as (_, errors):
        alice = tg.user(5001, "Alice")
        claire = tg.user(111, "Claire")
        alice.block_bot()
        await claire.send("/notify")

        assert isinstance(errors[0], Forbidden)
        assert errors[0].message == "Forbidden: bot was blocked by the user"
        assert alice.messages == []

        alice.unblock_bot()
        await claire.send("/notify")
    assert alice.last.text == "Votre rendez-vous est confirmé"


# Reading RetryAfter.retry_after warns that it will become a timedelta in PTB 23.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_an_injected_429_raises_retry_after(tg: Simulator) -> None:
    async with running_bot(tg, CommandHandler("start", start)) as (_, errors):
        alice = tg.user(5001, "Alice")
        tg.fail_next("sendMessage", retry_after=3, chat_id=5001)
        await alice.send("/start")

        assert isinstance(errors[0], RetryAfter)
        assert errors[0].retry_after in (3, timedelta(seconds=3))
        assert alice.messages == []

        await alice.send("/start")  # the failure was injected once
    assert alice.last.text.startswith("Bonjour Alice")
    assert [r.status for r in tg.requests if r.method == "sendMessage"] == [429, 200]


async def test_injected_errors_follow_telegram_format(tg: Simulator) -> None:
    tg.user(5001, "Alice")
    tg.fail_next("getChat", error_code=400, description="Bad Request: chat not found", times=2)
    tg.fail_next("getMe", error_code=502)
    async with httpx.AsyncClient() as client:
        answers = [
            await client.post(api(tg, method), data={"chat_id": "5001"})
            for method in ("getChat", "getchat", "getChat")  # method names ignore case
        ]
        bad_gateway = await client.post(api(tg, "getMe"))

    assert [a.status_code for a in answers] == [400, 400, 200]
    assert answers[0].json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }
    assert bad_gateway.json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}


async def test_unknown_chats_and_messages_are_bad_requests(tg: Simulator) -> None:
    async with running_bot(tg) as (app, _):
        tg.user(5001, "Alice")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(999, "Bonjour")
        sent = await app.bot.send_message(5001, "Bonjour")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await app.bot.edit_message_text("Bonjour", chat_id=5001, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await app.bot.edit_message_text("Salut", chat_id=5001, message_id=42)
        await app.bot.delete_message(5001, sent.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await app.bot.edit_message_text("Salut", chat_id=5001, message_id=sent.message_id)
    assert tg.user(5001, "Alice").messages[0].deleted


async def test_an_empty_text_is_refused_as_telegram_does(tg: Simulator) -> None:
    tg.user(5001, "Alice")
    async with httpx.AsyncClient() as client:
        answer = await client.post(api(tg, "sendMessage"), data={"chat_id": "5001", "text": " "})

    assert answer.status_code == 400
    assert answer.json()["description"] == "Bad Request: message text is empty"
    assert tg.violations == ["sendMessage: message text is empty"]
    tg.violations.clear()


def buttons(count: int) -> str:
    """An inline keyboard of ``count`` buttons, eight a row, as a form carries it."""
    labels = [{"text": str(n), "callback_data": f"n:{n}"} for n in range(count)]
    return json.dumps({"inline_keyboard": [labels[i : i + 8] for i in range(0, count, 8)]})


async def test_a_keyboard_of_more_than_a_hundred_buttons_is_refused_as_telegram_does(
    tg: Simulator,
) -> None:
    alice = tg.user(5001, "Alice")
    async with httpx.AsyncClient() as client:
        hundred = await client.post(
            api(tg, "sendMessage"),
            data={"chat_id": "5001", "text": "Ok ?", "reply_markup": buttons(100)},
        )
        more = await client.post(
            api(tg, "sendMessage"),
            data={"chat_id": "5001", "text": "Ok ?", "reply_markup": buttons(101)},
        )
        edited = await client.post(
            api(tg, "editMessageReplyMarkup"),
            data={"chat_id": "5001", "message_id": "1", "reply_markup": buttons(101)},
        )

    assert hundred.status_code == 200
    assert len([b for row in alice.last.buttons for b in row]) == 100
    assert [more.status_code, edited.status_code] == [400, 400]
    assert more.json()["description"] == "Bad Request: reply markup is too long"
    assert len(alice.messages) == 1
    assert tg.violations == [
        "sendMessage: reply markup is too long",
        "editMessageReplyMarkup: reply markup is too long",
    ]
    tg.violations.clear()


async def test_unknown_methods_and_tokens_are_refused(tg: Simulator) -> None:
    async with httpx.AsyncClient() as client:
        unknown = await client.post(api(tg, "sendTelegram"))
        not_simulated = await client.post(api(tg, "sendPoll"))
        wrong_token = await client.post(f"{tg.base_url}1:WRONG/getMe")

    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert not_simulated.status_code == 404
    assert wrong_token.status_code == 401
    assert tg.violations == [
        "sendTelegram: is not a Bot API method",
        "sendPoll: is not simulated",
    ]
    tg.violations.clear()


# Validation against the spec --------------------------------------------------------------------


async def test_requests_breaking_the_spec_are_refused_and_recorded(tg: Simulator) -> None:
    tg.user(5001, "Alice")
    long_data = {"inline_keyboard": [[{"text": "Oui", "callback_data": "x" * 65}]]}
    async with httpx.AsyncClient() as client:
        too_long = await client.post(
            api(tg, "sendMessage"),
            data={"chat_id": "5001", "text": "Ok ?", "reply_markup": json.dumps(long_data)},
        )
        unknown_field = await client.post(
            api(tg, "sendMessage"), data={"chat_id": "5001", "text": "Ok", "colour": "red"}
        )
        missing = await client.post(api(tg, "sendMessage"), json={"text": "Ok"})

    assert [a.status_code for a in (too_long, unknown_field, missing)] == [400, 400, 400]
    assert missing.json()["description"] == "Bad Request: chat_id: required field is missing"
    assert tg.violations == [
        "sendMessage: reply_markup.inline_keyboard[0][0].callback_data: 65 bytes, "
        "must be 1-64 bytes",
        "sendMessage: colour: unknown field",
        "sendMessage: chat_id: required field is missing",
    ]
    assert tg.user(5001, "Alice").messages == []
    tg.violations.clear()


def test_the_spec_checks_types_unions_and_files(spec: BotApiSpec) -> None:
    scope = json.dumps({"type": "chat", "chat_id": 5})
    commands = json.dumps([{"command": "start", "description": "Commencer"}])
    assert spec.validate_request("setMyCommands", {"commands": commands, "scope": scope}) == []
    assert spec.validate_request(
        "setMyCommands", {"commands": commands, "scope": json.dumps({"type": "chat"})}
    ) == ["scope.chat_id: required field of BotCommandScopeChat is missing"]
    assert spec.validate_request(
        "sendMessage", {"chat_id": "5", "text": "a", "protect_content": "1"}
    )
    assert spec.validate_request(
        "answerCallbackQuery", {"callback_query_id": "1", "text": "é" * 201}
    )
    assert spec.validate_request("sendDocument", {"chat_id": "@chan"}, files={"document"}) == []
    assert spec.validate_request("sendDocument", {"chat_id": "5", "document": "attach://doc"}) == [
        "attach://doc: no file was uploaded under that name"
    ]
    keyboard = {"keyboard": [["Annuler"]], "one_time_keyboard": True}  # String instead of object
    assert (
        spec.validate_request("sendMessage", {"chat_id": 5, "text": "a", "reply_markup": keyboard})
        == []
    )
    assert spec.validate_request("frobnicate", {}) == ["unknown method 'frobnicate'"]


async def test_what_the_simulator_sends_matches_the_spec(tg: Simulator, spec: BotApiSpec) -> None:
    alice = tg.user(5001, "Alice", language="fr")
    async with running_bot(tg, CommandHandler("slots", offer_slots)) as (app, _):
        await alice.send("/slots")
        await app.bot.send_document(5001, b"data", filename="a.txt")
        me = await app.bot.get_me()
        chat = await app.bot.get_chat(5001)
    async with httpx.AsyncClient() as client:
        pending = asyncio.create_task(alice.tap("10:00"))
        updates = (await client.post(api(tg, "getUpdates"), data={"timeout": "5"})).json()
        pending.cancel()
        me_json = (await client.post(api(tg, "getMe"))).json()

    assert me.username == "secretary_test_bot" and chat.first_name == "Alice"
    assert updates["ok"] is True
    assert [spec.validate_object("Update", u) for u in updates["result"]] == [[]]
    assert spec.validate_object("User", me_json["result"]) == []
    assert all(spec.validate_object("Message", m.to_api()) == [] for m in alice.messages)


async def test_without_a_spec_nothing_is_validated() -> None:
    async with Simulator() as tg, httpx.AsyncClient() as client:
        tg.user(5001, "Alice")
        answer = await client.post(
            api(tg, "sendMessage"), data={"chat_id": "5001", "text": "42", "colour": "red"}
        )

        assert answer.json()["result"]["text"] == "42"  # free text stays text
        assert tg.requests[0].params == {"chat_id": 5001, "text": "42", "colour": "red"}
        assert tg.violations == []


# Long polling and settling ----------------------------------------------------------------------


async def test_get_updates_long_polls_and_offsets_confirm(tg: Simulator) -> None:
    alice = tg.user(5001, "Alice")
    tg.settle_timeout = 0.3
    async with httpx.AsyncClient() as client:
        poll = asyncio.create_task(client.post(api(tg, "getUpdates"), data={"timeout": "5"}))
        await asyncio.sleep(0.05)
        assert not poll.done()
        sending = asyncio.create_task(alice.send("bonjour"))
        first = (await asyncio.wait_for(poll, 1)).json()["result"]
        again = (await client.post(api(tg, "getUpdates"))).json()["result"]
        assert again == first  # not confirmed yet: delivered again
        with pytest.raises(TimeoutError, match=r"updates \[1\] not confirmed"):
            await sending  # no idle waiter and nobody confirmed the update
        confirmed = await client.post(
            api(tg, "getUpdates"), data={"offset": str(first[0]["update_id"] + 1), "limit": "1"}
        )
        assert confirmed.json()["result"] == []

    assert first[0]["message"]["text"] == "bonjour"
    assert first[0]["message"]["from"]["language_code"] == "en"


async def test_a_second_poller_terminates_the_first(tg: Simulator) -> None:
    async with httpx.AsyncClient() as client:
        first = asyncio.create_task(client.post(api(tg, "getUpdates"), data={"timeout": "5"}))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(client.post(api(tg, "getUpdates"), data={"timeout": "0"}))
        first_answer, second_answer = await asyncio.wait_for(asyncio.gather(first, second), 1)

    assert first_answer.status_code == 409
    assert first_answer.json()["description"].startswith("Conflict: terminated by other")
    assert second_answer.json() == {"ok": True, "result": []}


async def test_settle_without_waiter_waits_for_a_quiet_bot(tg: Simulator) -> None:
    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text("un")
        await asyncio.sleep(0.05)
        await update.message.reply_text("deux")

    async with running_bot(tg, CommandHandler("slow", slow), wait_idle=False):
        alice = tg.user(5001, "Alice")
        await alice.send("/slow")
        assert [m.text for m in alice.messages] == ["un", "deux"]


async def test_settle_names_what_it_waits_for() -> None:
    async with Simulator(spec_path=SPEC, settle_timeout=0.2) as tg:
        hanging = asyncio.Event()
        tg.add_idle_waiter(hanging.wait)
        with pytest.raises(TimeoutError, match="Event.wait has not returned"):
            await tg.settle()
        tg.remove_idle_waiter(hanging.wait)

        alice = tg.user(5001, "Alice")
        with pytest.raises(TimeoutError, match="no getUpdates call yet: is the bot polling"):
            await alice.send("allô ?")


# Other methods and the transcript ---------------------------------------------------------------


async def test_commands_menu_and_chat_actions(tg: Simulator) -> None:
    from telegram import BotCommand, BotCommandScopeChat, MenuButtonCommands

    async with running_bot(tg) as (app, _):
        tg.user(5001, "Alice")
        await app.bot.set_my_commands([BotCommand("start", "Commencer")], language_code="fr")
        await app.bot.set_my_commands(
            [BotCommand("inbox", "Demandes")], scope=BotCommandScopeChat(5001)
        )
        assert [c.command for c in await app.bot.get_my_commands(language_code="fr")] == ["start"]
        await app.bot.set_chat_menu_button(5001, MenuButtonCommands())
        await app.bot.send_chat_action(5001, "typing")
        await app.bot.delete_my_commands(language_code="fr")

    assert tg.commands(language_code="fr") == []
    assert tg.commands({"type": "chat", "chat_id": 5001}) == [
        {"command": "inbox", "description": "Demandes"}
    ]


async def test_every_line_is_reported_as_it_happens(tg: Simulator) -> None:
    lines: list[str] = []
    tg.on_event = lines.append
    handlers = (CommandHandler("slots", offer_slots), CallbackQueryHandler(pick_slot))
    async with running_bot(tg, *handlers) as (app, _):
        alice = tg.user(5001, "Alice")
        await alice.send("/slots")
        await alice.tap("10:00")
        await app.bot.delete_message(5001, alice.last.message_id)

    assert (
        lines
        == tg.transcript()
        == [
            "Alice: /slots",
            "Bot -> Alice: Quel créneau ?  [10:00] [10:30] [Site]",
            "Alice > 10:00",
            "Bot -> Alice (notification): Noté (slot:10:00)",
            "Bot -> Alice (edited): Rendez-vous à 10:00",
            "Bot -> Alice (deleted): Rendez-vous à 10:00",
        ]
    )


async def test_messages_are_dated_by_the_clock() -> None:
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    seen: list[datetime] = []

    async def keep(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.message.date)
        await update.message.reply_text("ok")

    async with Simulator(spec_path=SPEC, clock=lambda: moment) as tg:
        async with running_bot(tg, MessageHandler(filters.TEXT, keep)):
            alice = tg.user(5001, "Alice")
            await alice.send("demain 10h")
        assert seen == [moment]
        assert alice.last.date == moment
        assert [m.message_id for m in alice.messages] == [2]  # the user's message was 1
