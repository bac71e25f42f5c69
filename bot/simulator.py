"""A local Telegram Bot API server, and people to talk to the bot through it.

The machine running the tests and the demo has no access to Telegram, so this module plays
Telegram's part: an aiohttp server on 127.0.0.1 answers the Bot API methods the bot uses, the
way ``api.telegram.org`` does (same JSON, same error descriptions), and keeps every private chat
as the user's phone would show it. Any python-telegram-bot ``Application`` reaches it like a
self-hosted Bot API server::

    async with Simulator(spec_path=find_spec()) as tg:
        app = (
            Application.builder().token(tg.token)
            .base_url(tg.base_url).base_file_url(tg.base_file_url).build()
        )
        ...  # start polling, then tg.add_idle_waiter(app.update_queue.join)
        alice = tg.user(5001, "Alice", language="fr")
        await alice.send("/start cabinet-dupont")   # returns once the bot has handled it
        await alice.tap("10:00")
        assert "confirmé" in alice.last.text

Every request is recorded in ``tg.requests`` and, given the machine-readable Bot API spec,
checked against it; what fails lands in ``tg.violations`` so a test can assert there is none.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.botapi_spec import BotApiSpec, find_spec, load_spec

__all__ = [
    "DEFAULT_TOKEN",
    "RecordedRequest",
    "SimFile",
    "SimMessage",
    "SimUser",
    "Simulator",
    "find_spec",
    "parse_html",
]

DEFAULT_TOKEN = "123456:TEST-TOKEN"

BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: _CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}
# Limits of the text the user sees, once its markup is parsed, and Telegram's complaint.
_LENGTH_LIMITS = {
    "text": (4096, "message is too long"),
    "caption": (1024, "message caption is too long"),
}
_ENTITIES_FIELD = {"text": "entities", "caption": "caption_entities"}
_MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for a bot's upload
# Form fields that carry free text: never decode them as JSON ("42" stays a string).
_FREE_TEXT_FIELDS = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "inline_message_id",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "short_description",
        "text",
        "url",
    }
)
_COMMAND = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")

Waiter = Callable[[], Awaitable[object]]


class _ApiError(Exception):
    """An error answer of the Bot API: its HTTP status is its ``error_code``."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


# Recorded state -------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One call the bot made: ``params`` decoded from the form, ``files`` as (filename, bytes)."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 0  # the HTTP status the simulator answered


@dataclass(frozen=True)
class SimFile:
    """A file the bot uploaded, kept so that tests can read it and the bot can resend it."""

    file_id: str
    file_unique_id: str
    filename: str
    data: bytes
    mime_type: str

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class SimMessage:
    """A message of a private chat as the phone shows it, kept up to date with edits."""

    message_id: int
    chat: dict[str, Any]  # Telegram's Chat object
    sender: dict[str, Any]  # Telegram's User object
    date: datetime
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None  # an inline keyboard, the only kind on a message
    contact: dict[str, Any] | None = None
    document_file: SimFile | None = None
    photo_file: SimFile | None = None
    edit_date: datetime | None = None
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return bool(self.sender["is_bot"])

    @property
    def buttons(self) -> list[list[str]]:
        """The labels of the inline keyboard, row by row."""
        return [[button["text"] for button in row] for row in self._keyboard()]

    def button(self, label: str) -> dict[str, Any]:
        """The InlineKeyboardButton labelled ``label``."""
        found = self.find_button(label)
        if found is None:
            raise AssertionError(f"no button {label!r} on {self.summary()!r}: {self.buttons}")
        return found

    def find_button(self, label: str) -> dict[str, Any] | None:
        return next((b for row in self._keyboard() for b in row if b["text"] == label), None)

    @property
    def document(self) -> tuple[str, bytes] | None:
        return (
            (self.document_file.filename, self.document_file.data) if self.document_file else None
        )

    @property
    def photo(self) -> tuple[str, bytes] | None:
        return (self.photo_file.filename, self.photo_file.data) if self.photo_file else None

    def summary(self) -> str:
        """What the chat shows, on one line: attachments, text, then the buttons."""
        parts = []
        if self.document_file:
            parts.append(f"[document {self.document_file.filename}]")
        if self.photo_file:
            parts.append(f"[photo {self.photo_file.filename}]")
        if self.contact:
            parts.append(f"[contact {self.contact['phone_number']}]")
        if self.text or self.caption:
            parts.append(self.text or self.caption or "")
        line = " ".join(parts)
        labels = [f"[{label}]" for row in self.buttons for label in row]
        return f"{line}  {' '.join(labels)}" if labels else line

    def to_api(self) -> dict[str, Any]:
        """Telegram's Message object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": int(self.date.timestamp()),
        }
        if self.edit_date:
            message["edit_date"] = int(self.edit_date.timestamp())
        optional = {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "contact": self.contact,
            "document": self.document_file.to_api() if self.document_file else None,
            "photo": [_photo_size(self.photo_file)] if self.photo_file else None,
            "reply_markup": self.reply_markup,
        }
        message.update({key: value for key, value in optional.items() if value})
        return message

    def _keyboard(self) -> list[list[dict[str, Any]]]:
        return self.reply_markup["inline_keyboard"] if self.reply_markup else []


def _photo_size(photo: SimFile) -> dict[str, Any]:
    # The simulator does not decode images, so it cannot tell their dimensions.
    return {
        "file_id": photo.file_id,
        "file_unique_id": photo.file_unique_id,
        "width": 0,
        "height": 0,
        "file_size": len(photo.data),
    }


# The people ------------------------------------------------------------------------------------


class SimUser:
    """A Telegram user in a private chat with the bot. Obtain one with :meth:`Simulator.user`."""

    def __init__(
        self,
        simulator: Simulator,
        user_id: int,
        first_name: str,
        *,
        language: str | None,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self._simulator = simulator
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language = language
        self.blocked = False
        self.answers: list[str] = []  # answerCallbackQuery texts shown to this user
        self._chat_messages: dict[int, SimMessage] = {}
        self._message_ids = itertools.count(1)
        # A reply keyboard replaces the phone's keyboard until the bot removes it.
        self._reply_keyboard: list[list[dict[str, Any]]] | None = None

    def __repr__(self) -> str:
        return f"SimUser({self.id}, {self.first_name!r})"

    # What the phone shows

    @property
    def messages(self) -> list[SimMessage]:
        """The bot's messages in this chat, oldest first, deleted ones flagged ``deleted``."""
        return [m for m in self._chat_messages.values() if m.from_bot]

    @property
    def last(self) -> SimMessage:
        """The bot's latest message still in the chat."""
        shown = [m for m in self.messages if not m.deleted]
        if not shown:
            raise AssertionError(f"the bot has sent {self.first_name} nothing (yet)")
        return shown[-1]

    @property
    def keyboard(self) -> list[list[str]] | None:
        """The labels of the reply keyboard the bot put in place of the phone's, if any."""
        if self._reply_keyboard is None:
            return None
        return [[button["text"] for button in row] for row in self._reply_keyboard]

    # What the user does

    async def send(self, text: str) -> None:
        """Send a text message; a leading /command is marked as a bot_command entity."""
        command = _COMMAND.match(text)
        entities = (
            [{"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())}]
            if command
            else []
        )
        await self._say(text, entities=entities)

    async def share_contact(self, phone_number: str) -> None:
        """Share one's own phone number, as the "share contact" keyboard button does."""
        contact = {"phone_number": phone_number, "first_name": self.first_name, "user_id": self.id}
        if self.last_name:
            contact["last_name"] = self.last_name
        await self._say(None, contact=contact)

    async def send_photo(self, data: bytes, *, caption: str | None = None) -> None:
        """Send a picture taken with the phone, with an optional caption."""
        number = next(self._simulator._file_ids)
        photo = SimFile(f"user-photo-{number}", f"u{number}", "photo.jpg", data, "image/jpeg")
        await self._say(None, photo_file=photo, caption=caption)

    async def tap(self, label: str, *, in_message: SimMessage | None = None) -> None:
        """Tap the button labelled ``label``.

        Looks in ``in_message`` if given, else in the latest bot message showing that label,
        then on the reply keyboard (whose text buttons send their label as a message).
        """
        self._check_can_write()
        found = self._find_inline_button(label, in_message)
        if found is None:
            key = self._reply_button(label) if in_message is None else None
            if key is None:
                raise AssertionError(self._missing_button(label, in_message))
            if key.get("request_contact"):
                raise AssertionError(f"{label!r} shares a contact: use share_contact(phone)")
            await self.send(label)
            return
        message, button = found
        if "callback_data" not in button:
            kinds = sorted(set(button) - {"text"})
            raise AssertionError(f"{label!r} is not a callback button ({kinds}); nothing to send")
        self._simulator._record_line(f"{self.first_name} > {label}")
        await self._simulator._submit(
            "callback_query",
            {
                "id": self._simulator._new_callback_query(self),
                "from": self.to_api(),
                "message": message.to_api(),
                "chat_instance": f"{self._simulator.bot_id}-{self.id}",
                "data": button["callback_data"],
            },
        )

    def block_bot(self) -> None:
        """Block the bot: from now on it gets 403 "Forbidden: bot was blocked by the user"."""
        self.blocked = True
        self._simulator._record_line(f"({self.first_name} blocked the bot)")

    def unblock_bot(self) -> None:
        self.blocked = False
        self._simulator._record_line(f"({self.first_name} unblocked the bot)")

    # Telegram objects

    def to_api(self) -> dict[str, Any]:
        """Telegram's User object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language,
        }
        user.update({key: value for key, value in optional.items() if value})
        return user

    def chat_to_api(self) -> dict[str, Any]:
        """Telegram's Chat object of the private chat with this user."""
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username}
        chat.update({key: value for key, value in optional.items() if value})
        return chat

    # Internals shared with the Simulator

    def _add_message(self, sender: dict[str, Any], **content: Any) -> SimMessage:
        """Append a message to the chat; user's and bot's messages share one id sequence."""
        message = SimMessage(
            message_id=next(self._message_ids),
            chat=self.chat_to_api(),
            sender=sender,
            date=self._simulator.now(),
            **content,
        )
        self._chat_messages[message.message_id] = message
        return message

    def _message(self, message_id: object) -> SimMessage | None:
        return self._chat_messages.get(_int(message_id, 0))

    async def _say(self, text: str | None, **content: Any) -> None:
        self._check_can_write()
        message = self._add_message(self.to_api(), text=text, **content)
        self._simulator._record_line(f"{self.first_name}: {message.summary()}")
        await self._simulator._submit("message", message.to_api())

    def _check_can_write(self) -> None:
        # On a real phone the chat with a blocked bot shows "Restart" instead of the input field.
        if self.blocked:
            raise AssertionError(f"{self.first_name} has blocked the bot: unblock_bot() first")

    def _find_inline_button(
        self, label: str, in_message: SimMessage | None
    ) -> tuple[SimMessage, dict[str, Any]] | None:
        if in_message is not None and in_message.deleted:
            raise AssertionError(f"the message {in_message.summary()!r} was deleted")
        candidates = [in_message] if in_message else reversed(self.messages)
        for message in candidates:
            button = message.find_button(label) if not message.deleted else None
            if button is not None:
                return message, button
        return None

    def _reply_button(self, label: str) -> dict[str, Any] | None:
        keys = self._reply_keyboard or []
        return next((key for row in keys for key in row if key["text"] == label), None)

    def _missing_button(self, label: str, in_message: SimMessage | None) -> str:
        shown = [in_message] if in_message else [m for m in self.messages if not m.deleted]
        with_buttons = [f"{m.summary()!r}" for m in reversed(shown) if m.buttons]
        if self.keyboard and in_message is None:
            with_buttons.append(f"reply keyboard {self.keyboard}")
        where = "; ".join(with_buttons) or "no buttons at all"
        return f"{self.first_name} sees no button {label!r}. Shown (latest first): {where}"


# The server -------------------------------------------------------------------------------------


@dataclass
class _Injection:
    method: str  # lower case: Telegram method names are case-insensitive
    error: _ApiError
    chat_id: int | None
    times: int


@dataclass
class _Upload:
    filename: str
    data: bytes
    content_type: str


Handler = Callable[[dict[str, Any], dict[str, _Upload]], Awaitable[Any]]


class Simulator:
    """A Telegram Bot API server on 127.0.0.1 for one bot, and the users talking to it."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        spec_path: Path | None = None,
        bot_name: str = "Secretary",
        bot_username: str = "secretary_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        quiet_period: float = 0.15,
        settle_timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        bot_id, _, _ = token.partition(":")
        if not bot_id.isdigit():
            raise ValueError(f"a bot token starts with the bot's id and a colon, got {token!r}")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.spec_path = spec_path
        self.quiet_period = quiet_period
        self.settle_timeout = settle_timeout
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.on_event: Callable[[str], None] | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._users: dict[int, SimUser] = {}
        self._lines: list[str] = []
        self._injections: list[_Injection] = []
        self._latency: dict[str, float] = {}
        self._idle_waiters: list[Waiter] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._files: dict[str, SimFile] = {}
        self._file_ids = itertools.count(1)
        self._callback_queries: dict[str, SimUser] = {}
        self._callback_query_ids = itertools.count(1)
        # Long polling: updates wait in _pending until a getUpdates offset confirms them.
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: frozenset[str] | None = None
        self._updates_changed = asyncio.Condition()
        self._poll_generation = 0
        self._polled = False
        self._closing = False
        # For settle() when no idle waiter is registered: is the bot still talking?
        self._requests_in_flight = 0
        self._last_request_at = time.monotonic()
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "close": self._true,
                "logOut": self._true,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setChatMenuButton": self._true,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
            }.items()
        }

    # Life cycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start serving on a free port (or the one given)."""
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._serve)
        # handler_cancellation ends a long poll whose client went away (the bot stopping).
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Answer the pending long polls and stop serving."""
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: the token and method are appended to it."""
        return f"{self._root_url()}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``."""
        return f"{self._root_url()}/file/bot"

    def _root_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the simulator is not started: use `async with Simulator()`")
        return f"http://{self._host}:{self._port}"

    # The tests' controls ------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        language: str | None = "en",
        last_name: str | None = None,
        username: str | None = None,
    ) -> SimUser:
        """The user with this id, created on first call: from then on the bot can write to them."""
        if user_id not in self._users:
            self._users[user_id] = SimUser(
                self,
                user_id,
                first_name,
                language=language,
                last_name=last_name,
                username=username,
            )
        return self._users[user_id]

    def now(self) -> datetime:
        return self._clock()

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int = 1,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id`` if given) fail."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else _DEFAULT_DESCRIPTIONS.get(error_code, "Injected error")
            )
        error = _ApiError(error_code, description, retry_after if error_code == 429 else None)
        self._injections.append(_Injection(method.lower(), error, chat_id, times))

    def slow_down(self, method: str, seconds: float) -> None:
        """Answer ``method`` only ``seconds`` after doing it, as a distant server would."""
        self._latency[method.lower()] = seconds

    def add_idle_waiter(self, waiter: Waiter) -> None:
        """Have :meth:`settle` await ``waiter()``, e.g. ``application.update_queue.join``."""
        self._idle_waiters.append(waiter)

    def remove_idle_waiter(self, waiter: Waiter) -> None:
        self._idle_waiters.remove(waiter)

    def transcript(self) -> list[str]:
        """Everything said in every chat, in order, one readable line each."""
        return list(self._lines)

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The commands the bot set for that scope and language (setMyCommands)."""
        return list(self._commands.get((_scope_key(scope), language_code), []))

    async def settle(self) -> None:
        """Return once the bot has fetched and handled every update and stopped talking.

        1. every queued update has been fetched and then confirmed by a later getUpdates offset
           (python-telegram-bot queues what it fetched before polling again);
        2. every idle waiter has returned (``update_queue.join``: all of them handled);
           without one, no request but the long poll has come for ``quiet_period``;
        3. no request of the bot is still being answered.
        """
        limit = self.settle_timeout
        stage = "updates"
        try:
            async with asyncio.timeout(limit):
                while True:
                    stage = "updates"
                    async with self._updates_changed:
                        await self._updates_changed.wait_for(lambda: not self._pending)
                    for waiter in list(self._idle_waiters):
                        stage = f"idle waiter {_name(waiter)}"
                        await waiter()
                    stage = "requests"
                    await self._quiet(0.0 if self._idle_waiters else self.quiet_period)
                    if not self._pending:
                        return
        except TimeoutError:
            raise TimeoutError(f"settle() gave up after {limit}s: {self._stuck(stage)}") from None

    def _stuck(self, stage: str) -> str:
        if stage == "updates":
            ids = [update["update_id"] for update in self._pending]
            hint = "" if self._polled else " (no getUpdates call yet: is the bot polling?)"
            return f"updates {ids} not confirmed by a later getUpdates offset{hint}"
        if stage == "requests":
            return f"the bot is still making requests ({self._requests_in_flight} in flight)"
        return f"{stage} has not returned (a handler still running?)"

    async def _quiet(self, period: float) -> None:
        while True:
            idle = time.monotonic() - self._last_request_at
            if self._requests_in_flight == 0 and idle >= period:
                return
            await asyncio.sleep(max(period - idle, 0.005))

    # The users' side ----------------------------------------------------------------------------

    async def _submit(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update for the bot and wait until it has been handled."""
        if self._allowed_updates is None or kind in self._allowed_updates:
            update = {"update_id": next(self._update_ids), kind: payload}
            async with self._updates_changed:
                self._pending.append(update)
                self._updates_changed.notify_all()
        await self.settle()

    def _new_callback_query(self, user: SimUser) -> str:
        query_id = str(next(self._callback_query_ids))
        self._callback_queries[query_id] = user
        return query_id

    def _record_line(self, line: str) -> None:
        self._lines.append(line)
        if self.on_event is not None:
            self.on_event(line)

    # HTTP ---------------------------------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(_ApiError(401, "Unauthorized").payload(), status=401)
        raw, uploads = await _read_body(request)
        name = request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, None))
        recorded = RecordedRequest(
            method,
            {key: _decode_form_value(key, value) for key, value in raw.items()},
            {key: (upload.filename, upload.data) for key, upload in uploads.items()},
        )
        self.requests.append(recorded)
        # settle() waits for the bot's requests to end; a long poll never does.
        long_poll = method == "getUpdates"
        self._last_request_at = time.monotonic()
        if not long_poll:
            self._requests_in_flight += 1
        try:
            if handler is None:
                raise self._not_served(method)
            self._validate(method, raw, uploads)
            self._raise_injected(method, recorded.params)
            body, status = {"ok": True, "result": await handler(recorded.params, uploads)}, 200
            # Done, but the answer is late: what a bot killed now never hears about.
            await asyncio.sleep(self._latency.get(method.lower(), 0))
        except _ApiError as error:
            body, status = error.payload(), error.error_code
        finally:
            if not long_poll:
                self._requests_in_flight -= 1
            self._last_request_at = time.monotonic()
        recorded.status = status
        return web.json_response(body, status=status)

    def _spec(self) -> BotApiSpec | None:
        return load_spec(self.spec_path) if self.spec_path else None

    def _not_served(self, method: str) -> _ApiError:
        spec = self._spec()
        known = spec is not None and spec.method_name(method) is not None
        reason = "is not simulated" if known else "is not a Bot API method"
        self.violations.append(f"{method}: {reason}")
        return _ApiError(404, "Not Found")

    def _validate(self, method: str, raw: dict[str, Any], uploads: dict[str, _Upload]) -> None:
        spec = self._spec()
        problems = spec.validate_request(method, raw, uploads.keys()) if spec else []
        if problems:
            raise self._violation(method, "; ".join(problems))

    def _violation(self, method: str, reason: str) -> _ApiError:
        """A request no correct bot makes: recorded for the tests, refused as Telegram would."""
        self.violations.append(f"{method}: {reason}")
        return _bad_request(reason)

    def _raise_injected(self, method: str, params: dict[str, Any]) -> None:
        for injection in self._injections:
            chat_matches = injection.chat_id is None or injection.chat_id == params.get("chat_id")
            if injection.method == method.lower() and chat_matches:
                injection.times -= 1
                if injection.times <= 0:
                    self._injections.remove(injection)
                raise injection.error

    # Bot API methods ----------------------------------------------------------------------------

    async def _true(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        self._poll_generation += 1
        generation = self._poll_generation
        self._polled = True
        limit = min(max(_int(params.get("limit"), 100), 1), 100)
        timeout = max(_int(params.get("timeout"), 0), 0)
        async with self._updates_changed:
            offset = params.get("offset")
            if isinstance(offset, int):
                self._confirm(offset)
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allow(allowed)
            # Wakes settle() (updates confirmed) and an older poll, which must now give way.
            self._updates_changed.notify_all()

            def answer_now() -> bool:
                superseded = generation != self._poll_generation
                return bool(self._pending) or superseded or self._closing

            if timeout and not answer_now():
                # A long poll that finds nothing by its timeout answers an empty list.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._updates_changed.wait_for(answer_now)
        if generation != self._poll_generation:
            raise _ApiError(409, _CONFLICT)
        return self._pending[:limit]

    def _confirm(self, offset: int) -> None:
        """An offset confirms the updates before it; a negative one keeps the last -offset."""
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _allow(self, allowed: list[str]) -> None:
        # An empty list means the default: every kind of update this simulator produces.
        self._allowed_updates = frozenset(allowed) if allowed else None
        if self._allowed_updates is not None:
            self._pending = [u for u in self._pending if self._allowed_updates & u.keys()]

    async def _delete_webhook(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        if params.get("drop_pending_updates") is True:
            async with self._updates_changed:
                self._pending.clear()
                self._updates_changed.notify_all()
        return True

    async def _set_my_commands(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        key = (_scope_key(params.get("scope")), params.get("language_code") or "")
        self._commands[key] = list(params.get("commands") or [])
        return True

    async def _get_my_commands(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        return self.commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        key = (_scope_key(params.get("scope")), params.get("language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _send_message(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        user = self._chat(params)
        text, entities = self._formatted_text("sendMessage", params, "text")
        message = user._add_message(
            self.bot_user,
            text=text,
            entities=entities,
            reply_markup=self._keyboards(user, params),
        )
        self._record_bot_line(user, message, params)
        return message.to_api()

    async def _send_document(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        return self._send_file("sendDocument", "document", params, uploads)

    async def _send_photo(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        return self._send_file("sendPhoto", "photo", params, uploads)

    def _send_file(
        self, method: str, kind: str, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        user = self._chat(params)
        sent = self._file(kind, params, uploads)
        caption, caption_entities = (
            self._formatted_text(method, params, "caption") if params.get("caption") else (None, [])
        )
        message = user._add_message(
            self.bot_user,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=self._keyboards(user, params),
            **{f"{kind}_file": sent},
        )
        self._record_bot_line(user, message, params)
        return message.to_api()

    async def _edit_message_text(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        user = self._chat(params)
        message = self._message_to_edit(user, params)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted_text("editMessageText", params, "text")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = _inline_keyboard(params.get("reply_markup"))
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _bad_request(NOT_MODIFIED)
        message.text, message.entities, message.reply_markup = text, entities, markup
        return self._edited(user, message)

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        user = self._chat(params)
        message = self._message_to_edit(user, params)
        markup = _inline_keyboard(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise _bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(user, message)

    async def _delete_message(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        user = self._chat(params)
        message = user._message(params.get("message_id"))
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        message.deleted = True
        who = f"Bot -> {user.first_name}" if message.from_bot else user.first_name
        self._record_line(f"{who} (deleted): {message.summary()}")
        return True

    async def _answer_callback_query(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        user = self._callback_queries.pop(str(params.get("callback_query_id")), None)
        if user is None:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text:
            user.answers.append(text)
            kind = "alert" if params.get("show_alert") is True else "notification"
            self._record_line(f"Bot -> {user.first_name} ({kind}): {text}")
        return True

    async def _send_chat_action(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        self._chat(params)
        return True

    async def _get_chat(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        user = self._chat(params, reachable=False)
        return {
            **user.chat_to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    # Helpers of the methods ---------------------------------------------------------------------

    def _chat(self, params: dict[str, Any], *, reachable: bool = True) -> SimUser:
        """The user whose private chat ``chat_id`` names; 403 if they blocked the bot."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        user = self._users.get(_int(chat_id, 0))
        if user is None:
            raise _bad_request("chat not found")
        if reachable and user.blocked:
            raise _ApiError(403, BLOCKED)
        return user

    def _message_to_edit(self, user: SimUser, params: dict[str, Any]) -> SimMessage:
        if "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        message = user._message(params["message_id"])
        if message is None or message.deleted:
            raise _bad_request("message to edit not found")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return message

    def _edited(self, user: SimUser, message: SimMessage) -> dict[str, Any]:
        message.edit_date = self.now()
        self._record_line(f"Bot -> {user.first_name} (edited): {message.summary()}")
        return message.to_api()

    def _formatted_text(
        self, method: str, params: dict[str, Any], name: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse the text's markup, then apply Telegram's limits to what the user will see."""
        raw = params.get(name)
        raw = "" if raw is None else str(raw)
        parse_mode = str(params.get("parse_mode") or "").lower()
        if parse_mode == "html":
            try:
                text, entities = parse_html(raw)
            except MarkupError as error:
                raise self._violation(method, f"can't parse entities: {error}") from None
        elif parse_mode in ("", "markdown", "markdownv2"):
            # Markdown is passed through unparsed: the simulator only understands HTML.
            text = raw
            entities = list(params.get(_ENTITIES_FIELD[name]) or [])
        else:
            raise _bad_request("unsupported parse_mode")
        if name == "text" and not text.strip():
            raise self._violation(method, "message text is empty")
        limit, too_long = _LENGTH_LIMITS[name]
        if _utf16_len(text) > limit:  # Telegram counts UTF-16 code units
            raise self._violation(method, too_long)
        return text, entities

    def _keyboards(self, user: SimUser, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message's inline keyboard; a reply keyboard goes to the user's input field."""
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "keyboard" in markup:
            user._reply_keyboard = [
                [b if isinstance(b, dict) else {"text": b} for b in row]
                for row in markup["keyboard"]
            ]
        elif isinstance(markup, dict) and markup.get("remove_keyboard"):
            user._reply_keyboard = None
        return _inline_keyboard(markup)

    def _file(self, kind: str, params: dict[str, Any], uploads: dict[str, _Upload]) -> SimFile:
        """The uploaded file, or the one a file_id names."""
        value = params.get(kind)
        attached = value.removeprefix("attach://") if isinstance(value, str) else None
        upload = uploads.get(kind) or uploads.get(attached or "")
        if upload is not None:
            number = next(self._file_ids)
            sent = SimFile(
                file_id=f"{kind}-{number}",
                file_unique_id=f"u{number}",
                filename=upload.filename,
                data=upload.data,
                mime_type=upload.content_type,
            )
            self._files[sent.file_id] = sent
            return sent
        if not value:
            raise _bad_request(f"there is no {kind} in the request")
        if value in self._files:
            return self._files[value]
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _record_bot_line(self, user: SimUser, message: SimMessage, params: dict[str, Any]) -> None:
        line = f"Bot -> {user.first_name}: {message.summary()}"
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "keyboard" in markup and user.keyboard:
            labels = [f"[{label}]" for row in user.keyboard for label in row]
            line += f"  keyboard: {' '.join(labels)}"
        self._record_line(line)


# Decoding requests ------------------------------------------------------------------------------


async def _read_body(request: web.Request) -> tuple[dict[str, Any], dict[str, _Upload]]:
    """The parameters as sent (text for a form, JSON values for a JSON body) and the uploads."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, _Upload] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="a JSON body must be an object")
        raw.update(body)
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[name] = _Upload(value.filename, value.file.read(), value.content_type)
            else:
                raw[name] = value
    return raw, uploads


def _decode_form_value(name: str, value: Any) -> Any:
    """A form carries every value as text: numbers, booleans and objects are JSON in it."""
    if not isinstance(value, str) or name in _FREE_TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _int(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return default


def _inline_keyboard(markup: object) -> dict[str, Any] | None:
    # An empty inline keyboard is no keyboard.
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


def _scope_key(scope: object) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _name(waiter: Waiter) -> str:
    return getattr(waiter, "__qualname__", repr(waiter))


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# Telegram's HTML parse mode ---------------------------------------------------------------------


class MarkupError(ValueError):
    """Text that Telegram refuses to parse ("Bad Request: can't parse entities: ...")."""


_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_HTML_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# Telegram supports numeric character references and only these four named ones.
_HTML_CHARACTER = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the text the user sees and its MessageEntity objects."""
    text: list[str] = []
    offset = 0  # in UTF-16 code units, like entity offsets
    open_tags: list[tuple[str, dict[str, Any] | None]] = []
    opened: list[dict[str, Any]] = []  # in the order of their start tags: outer ones first
    position = 0
    while position < len(markup):
        if markup[position] == "<":
            tag = _HTML_TAG.match(markup, position)
            at = f"at byte offset {_byte_offset(markup, position)}"
            if tag is None:  # a bare "<", which Telegram wants written &lt;
                seen = markup[position:].split(maxsplit=1)[0]
                raise MarkupError(f'Unsupported start tag "{seen}" {at}')
            name = tag.group(2)
            if tag.group(1):
                entity = _close_tag(name.lower(), open_tags, at)
                if entity is not None:
                    entity["length"] = offset - entity["offset"]
            else:
                entity = _open_tag(name, tag.group(3), offset, open_tags, at)
                open_tags.append((name.lower(), entity))
                if entity is not None:
                    opened.append(entity)
            position = tag.end()
            continue
        character = _HTML_CHARACTER.match(markup, position)
        piece = html.unescape(character.group()) if character else markup[position]
        position = character.end() if character else position + 1
        text.append(piece)
        offset += _utf16_len(piece)
    if open_tags:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    # Telegram drops empty entities and lists the others by offset, outer ones first.
    entities = sorted((e for e in opened if e["length"]), key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


def _open_tag(
    name: str,
    attributes_text: str,
    offset: int,
    open_tags: list[tuple[str, dict[str, Any] | None]],
    at: str,
) -> dict[str, Any] | None:
    """The entity a start tag begins, or None when the tag adds no entity of its own."""
    if name.lower() not in _HTML_ENTITY_TYPES:
        raise MarkupError(f'Unsupported start tag "{name}" {at}')
    name = name.lower()
    attributes = {
        match.group(1).lower(): html.unescape(next((g for g in match.groups()[1:] if g), ""))
        for match in _HTML_ATTRIBUTE.finditer(attributes_text)
    }
    entity: dict[str, Any] = {"type": _HTML_ENTITY_TYPES[name], "offset": offset}
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise MarkupError('Tag "span" must have class "tg-spoiler"')
    if name == "code" and open_tags and open_tags[-1][0] == "pre":
        # <pre><code class="language-python"> is one pre entity with a language.
        language = attributes.get("class", "").removeprefix("language-")
        parent = open_tags[-1][1]
        if parent is not None and language:
            parent["language"] = language
        return None
    if name == "a":
        href = attributes.get("href", "")
        user_id = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user_id:
            mentioned = {"id": int(user_id.group(1)), "is_bot": False, "first_name": ""}
            return {"type": "text_mention", "offset": offset, "user": mentioned}
        return {**entity, "url": href} if href else None
    if name == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    if name == "tg-emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    if name == "tg-time":
        entity["unix_time"] = _int(attributes.get("unix"), 0)
        if attributes.get("format"):
            entity["date_time_format"] = attributes["format"]
    return entity


def _close_tag(
    name: str, open_tags: list[tuple[str, dict[str, Any] | None]], at: str
) -> dict[str, Any] | None:
    if not open_tags:
        raise MarkupError(f"Unexpected end tag {at}")
    expected, entity = open_tags.pop()
    if expected != name:
        raise MarkupError(f'Unmatched end tag {at}, expected "</{expected}>", found "</{name}>"')
    return entity


def _byte_offset(text: str, position: int) -> int:
    return len(text[:position].encode("utf-8"))
