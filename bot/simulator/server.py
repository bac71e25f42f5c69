"""The Bot API server: its life cycle, the tests' controls and the dispatch of each call."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from typing import Any

from aiohttp import web

from bot.simulator.chats import SimFile, SimUser
from bot.simulator.errors import ApiError, bad_request
from bot.simulator.faults import ALL_FAULTS, Fault, Faults
from bot.simulator.forms import RecordedRequest, Upload, decode_form_value, read_body
from bot.simulator.methods import BotApiMethods, scope_key
from bot.simulator.spec import BotApiSpec, load_spec
from bot.simulator.webhook import Delivery, DeliveryState, WebhookMethods

DEFAULT_TOKEN = "123456:TEST-TOKEN"
_MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for a bot's upload

Waiter = Callable[[], Awaitable[object]]
Handler = Callable[[dict[str, Any], dict[str, Upload]], Awaitable[Any]]


class Simulator(BotApiMethods, WebhookMethods):
    """A Telegram Bot API server on 127.0.0.1 for one bot, and the users talking to it."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        spec_path: Traversable | None = None,
        bot_name: str = "Secretary",
        bot_username: str = "secretary_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        quiet_period: float = 0.15,
        settle_timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        webhook_retry_first: float = 0.05,
        webhook_retry_max: float = 1.0,
        webhook_timeout: float = 10.0,
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
        self._faults = Faults()
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
        # Webhook mode (setWebhook): updates are POSTed instead, each attempt recorded.
        self._webhook = None
        self._delivery = DeliveryState()
        self._delivery_loop = None
        self._http = None
        self.deliveries: list[Delivery] = []
        self.webhook_retry_first = webhook_retry_first
        self.webhook_retry_max = webhook_retry_max
        self.webhook_timeout = webhook_timeout
        # For settle() when no idle waiter is registered: is the bot still talking?
        self._requests_in_flight = 0
        self._last_request_at = time.monotonic()
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "close": self._true,
                "logOut": self._true,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setChatMenuButton": self._true,
                "sendMessage": self._send_message,
                "copyMessage": self._copy_message,
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
        await self._stop_delivering()
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
        self._faults.fail_next(method, error_code, description, retry_after, chat_id, times)

    def slow_down(self, method: str, seconds: float) -> None:
        """Answer ``method`` only ``seconds`` after doing it, as a distant server would."""
        self._faults.slow_down(method, seconds)

    def inject_faults(
        self,
        rate: float,
        kinds: Iterable[str] = ALL_FAULTS,
        *,
        seed: int = 0,
        methods: Iterable[str] | None = None,
        retry_after: int = 1,
        slow_seconds: float = 6.0,
    ) -> None:
        """Make about ``rate`` of the bot's calls fail, each with one of ``kinds`` (``Fault``).

        The draws come from ``seed``: the same calls fail the same way on every run. ``methods``
        names the methods to fault (any case); by default every method but the start-up ones
        and the long poll (``NOT_FAULTED_BY_DEFAULT``: getUpdates, getMe, deleteWebhook,
        setMyCommands...). ``retry_after`` is what a 429 asks for; ``slow_seconds`` how late a
        ``slow_after_apply`` answer comes, more than the client's read timeout (PTB: 5 s).
        Requests are still checked against the spec first. Counts start afresh.
        """
        if methods is not None:
            unknown = sorted(m for m in methods if m.lower() not in self._handlers)
            if unknown:
                raise ValueError(f"not simulated, so never called: {unknown}")
        self._faults.inject(
            rate,
            kinds,
            seed=seed,
            methods=methods,
            retry_after=retry_after,
            slow_seconds=slow_seconds,
        )

    def clear_faults(self) -> None:
        """Stop every failure: random faults, pending ``fail_next`` errors and ``slow_down``."""
        self._faults.clear()

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many calls each kind of random fault hit since ``inject_faults``."""
        return {kind.value: self._faults.counts[kind] for kind in Fault}

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
        return list(self._commands.get((scope_key(scope), language_code), []))

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
        if stage == "updates" and self._webhook is not None:
            ids = [update["update_id"] for update in self._pending]
            return f"updates {ids} not taken by the webhook: {self._webhook_problem()}"
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
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        raw, uploads = await read_body(request)
        name = request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, None))
        recorded = RecordedRequest(
            method,
            {key: decode_form_value(key, value) for key, value in raw.items()},
            {key: (upload.filename, upload.data) for key, upload in uploads.items()},
        )
        self.requests.append(recorded)
        # settle() waits for the bot's requests to end; a long poll never does.
        long_poll = method == "getUpdates"
        self._last_request_at = time.monotonic()
        if not long_poll:
            self._requests_in_flight += 1
        try:
            response = await self._answer(recorded, handler, raw, uploads)
        finally:
            if not long_poll:
                self._requests_in_flight -= 1
            self._last_request_at = time.monotonic()
        if response is not None:
            recorded.status = response.status
            return response
        # Closing the socket before any byte of an answer: the client reads "Server
        # disconnected without sending a response", as when the network drops the call.
        if request.transport is not None:
            request.transport.close()
        return web.Response()  # never written

    async def _answer(
        self,
        recorded: RecordedRequest,
        handler: Handler | None,
        raw: dict[str, Any],
        uploads: dict[str, Upload],
    ) -> web.Response | None:
        """The answer to a call, or None to drop the connection without one."""
        method = recorded.method
        try:
            if handler is None:
                raise self._not_served(method)
            self._validate(method, raw, uploads)
            self._faults.raise_injected(method, recorded.params)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.error_code)
        fault = self._faults.draw(method)
        recorded.fault = fault
        refusal = self._faults.refusal(fault)
        if refusal is not None:
            return refusal
        if fault is Fault.DROP_BEFORE:
            return None
        delay = self._faults.delay(method, fault)
        try:
            body, status = {"ok": True, "result": await handler(recorded.params, uploads)}, 200
        except ApiError as error:
            body, status = error.payload(), error.error_code
            # Nothing was done, so there is nothing to be late about; a slow network still is.
            delay = delay if fault is Fault.SLOW_AFTER_APPLY else 0
        if fault is Fault.DROP_AFTER:
            return None
        # Done, but the answer is late: what a client giving up or killed now never hears about.
        await asyncio.sleep(delay)
        return web.json_response(body, status=status)

    def _spec(self) -> BotApiSpec | None:
        return load_spec(self.spec_path) if self.spec_path else None

    def _not_served(self, method: str) -> ApiError:
        spec = self._spec()
        known = spec is not None and spec.method_name(method) is not None
        reason = "is not simulated" if known else "is not a Bot API method"
        self.violations.append(f"{method}: {reason}")
        return ApiError(404, "Not Found")

    def _validate(self, method: str, raw: dict[str, Any], uploads: dict[str, Upload]) -> None:
        spec = self._spec()
        problems = spec.validate_request(method, raw, uploads.keys()) if spec else []
        if problems:
            raise self._violation(method, "; ".join(problems))

    def _violation(self, method: str, reason: str) -> ApiError:
        """A request no correct bot makes: recorded for the tests, refused as Telegram would."""
        self.violations.append(f"{method}: {reason}")
        return bad_request(reason)


def _name(waiter: Waiter) -> str:
    return getattr(waiter, "__qualname__", repr(waiter))
