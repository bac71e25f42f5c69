"""Webhook mode: setWebhook, deleteWebhook, getWebhookInfo, and updates POSTed as Telegram does.

Once setWebhook names a URL, getUpdates is refused (409) and every queued update is POSTed
there as JSON, with the secret in ``X-Telegram-Bot-Api-Secret-Token``. A chat's updates go one
at a time and in order: the next one waits for the worker's 2xx answer to the one before, while
other chats' updates go meanwhile (up to ``max_connections`` at once). An answer that is not
2xx, or none at all (connection refused, timeout), is retried after a pause that doubles each
time; the update stays pending meanwhile, so getWebhookInfo counts it and settle() waits for it.
Telegram gives up after a while (a day); the simulator keeps trying until it stops.

The simulator plays a self-hosted Bot API server here, which takes any port and plain HTTP
(api.telegram.org wants HTTPS on 443, 80, 88 or 8443): the worker under test listens on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.simulator.errors import bad_request
from bot.simulator.forms import Upload, as_int

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DEFAULT_MAX_CONNECTIONS = 40


@dataclass
class Webhook:
    """What setWebhook was told."""

    url: str
    secret: str | None
    max_connections: int
    ip_address: str | None


@dataclass(frozen=True)
class Delivery:
    """One attempt at POSTing an update: the worker's HTTP status, or why there was none."""

    update_id: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class DeliveryState:
    """The deliverer's bookkeeping: which chats wait for an answer, the last error seen."""

    busy: set[object] = field(default_factory=set)
    in_flight: set[int] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    last_error_date: int | None = None
    last_error_message: str | None = None
    failures_to_inject: list[int] = field(default_factory=list)


class WebhookMethods:
    """The webhook side, mixed into :class:`Simulator`: it holds the state declared here."""

    _pending: list[dict[str, Any]]
    _allowed_updates: frozenset[str] | None
    _updates_changed: asyncio.Condition
    _closing: bool
    _webhook: Webhook | None
    _delivery: DeliveryState
    _delivery_loop: asyncio.Task[None] | None
    _http: aiohttp.ClientSession | None
    deliveries: list[Delivery]
    webhook_retry_first: float
    webhook_retry_max: float
    webhook_timeout: float
    _allow: Callable[[list[str]], None]
    now: Callable[[], datetime]

    # Bot API methods ----------------------------------------------------------------------------

    async def _set_webhook(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, uploads)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_SHAPE.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        max_connections = as_int(params.get("max_connections"), _DEFAULT_MAX_CONNECTIONS)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        async with self._updates_changed:
            # Said again by every worker that starts, the same values change nothing.
            self._webhook = Webhook(
                url,
                None if secret is None else str(secret),
                max_connections,
                params.get("ip_address"),
            )
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allow(allowed)
            if params.get("drop_pending_updates") is True:
                self._pending.clear()
            self._updates_changed.notify_all()
        if self._delivery_loop is None:
            self._delivery_loop = asyncio.create_task(self._deliver_forever())
        return True

    async def _delete_webhook(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        await self._stop_delivering()
        async with self._updates_changed:
            self._webhook = None
            if params.get("drop_pending_updates") is True:
                self._pending.clear()
            self._updates_changed.notify_all()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is None:
            return info
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if self._delivery.last_error_date is not None:
            info["last_error_date"] = self._delivery.last_error_date
            info["last_error_message"] = self._delivery.last_error_message
        info["max_connections"] = hook.max_connections
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    # The tests' controls ------------------------------------------------------------------------

    def fail_next_delivery(self, status: int = 502, *, times: int = 1) -> None:
        """Make the next ``times`` attempts at POSTing an update come back ``status``, as when
        the proxy in front of the workers answers for a worker that is down; the worker never
        sees them. The update is retried, as any other failed delivery."""
        self._delivery.failures_to_inject.extend([status] * times)

    async def next_delivery(self, matching: Callable[[Delivery], bool]) -> Delivery:
        """Wait for an attempt at delivering an update that ``matching`` accepts, and return
        it; attempts already made count."""

        def found() -> Delivery | None:
            return next((attempt for attempt in self.deliveries if matching(attempt)), None)

        async with self._updates_changed:
            return await self._updates_changed.wait_for(found)

    @property
    def webhook_url(self) -> str | None:
        """The URL setWebhook named, None in polling mode."""
        return self._webhook.url if self._webhook else None

    def _webhook_problem(self) -> str:
        """For settle()'s complaint: why the updates have not been delivered."""
        if self._delivery.last_error_message is None:
            return f"POSTed to {self.webhook_url}, not answered yet"
        return f"POSTed to {self.webhook_url}: {self._delivery.last_error_message}"

    # Delivery -----------------------------------------------------------------------------------

    async def _deliver_forever(self) -> None:
        """Start a delivery for every chat's first pending update whose chat is free."""
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        self._http = aiohttp.ClientSession(timeout=timeout)
        state = self._delivery
        try:
            while True:
                async with self._updates_changed:
                    for update in await self._updates_changed.wait_for(self._deliverable):
                        key = chat_of(update)
                        state.busy.add(key)
                        state.in_flight.add(update["update_id"])
                        task = asyncio.create_task(self._deliver(update, key))
                        state.tasks.add(task)
                        task.add_done_callback(state.tasks.discard)
        finally:
            for task in list(state.tasks):
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            state.busy.clear()
            state.in_flight.clear()
            await self._http.close()
            self._http = None

    def _deliverable(self) -> list[dict[str, Any]]:
        hook, state = self._webhook, self._delivery
        if hook is None or self._closing:
            return []
        room = hook.max_connections - len(state.in_flight)
        ready: list[dict[str, Any]] = []
        seen: set[object] = set(state.busy)
        for update in self._pending:
            if room <= len(ready):
                break
            key = chat_of(update)
            if key not in seen:
                ready.append(update)
            # A chat's later updates wait behind its first, delivered or not.
            seen.add(key)
        return ready

    async def _deliver(self, update: dict[str, Any], key: object) -> None:
        """POST ``update`` until the worker takes it, then free its chat."""
        pause = self.webhook_retry_first
        try:
            while True:
                hook = self._webhook
                if hook is None or not self._still_pending(update):
                    return
                attempt = await self._post(hook, update)
                async with self._updates_changed:
                    self.deliveries.append(attempt)
                    if attempt.ok:
                        self._pending = [
                            u for u in self._pending if u["update_id"] != update["update_id"]
                        ]
                    self._updates_changed.notify_all()
                if attempt.ok:
                    return
                self._delivery.last_error_date = int(self.now().timestamp())
                self._delivery.last_error_message = attempt.error
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.webhook_retry_max)
        finally:
            async with self._updates_changed:
                self._delivery.busy.discard(key)
                self._delivery.in_flight.discard(update["update_id"])
                self._updates_changed.notify_all()

    async def _post(self, hook: Webhook, update: dict[str, Any]) -> Delivery:
        update_id = update["update_id"]
        failures = self._delivery.failures_to_inject
        if failures:
            status = failures.pop(0)
            return Delivery(update_id, status, _wrong_response(status))
        headers = {SECRET_HEADER: hook.secret} if hook.secret else {}
        assert self._http is not None
        try:
            async with self._http.post(hook.url, json=update, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            return Delivery(update_id, None, f"Connection failed: {type(error).__name__}")
        if 200 <= status < 300:
            return Delivery(update_id, status)
        return Delivery(update_id, status, _wrong_response(status))

    def _still_pending(self, update: dict[str, Any]) -> bool:
        return any(u["update_id"] == update["update_id"] for u in self._pending)

    async def _stop_delivering(self) -> None:
        loop, self._delivery_loop = self._delivery_loop, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop


def _wrong_response(status: int) -> str:
    """getWebhookInfo's last_error_message, as Telegram words it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"Wrong response from the webhook: {status} {phrase}"


def chat_of(update: dict[str, Any]) -> object:
    """What orders an update: its chat, else its sender, else nothing (its own id)."""
    for kind, value in update.items():
        if kind == "update_id" or not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return ("chat", holder["chat"].get("id"))
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict):
            return ("chat", sender.get("id"))
    return ("update", update.get("update_id"))
