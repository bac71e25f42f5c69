"""The one deliverer of owed messages: it reads the outbox, words each message with its
kind's renderer, sends it, and records what became of it.

Transient failures (network, timeouts, 5xx, 429) are tried again after a growing wait, until
the kind's ``max_age``; refusals (blocked, chat not found) are final, and a patient who could
not be told something is reported to the secretaries. A send whose answer never came is sent
again or left uncertain as the kind's policy says (``bot.outbox``). Messages to one chat go
in the order they were owed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackContext, ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot import outbox, transport
from handlers.common import deps, split_message
from storage.outbox import Message, Status

log = logging.getLogger(__name__)

DELIVERER_KEY = "deliverer"


@dataclass(frozen=True)
class Rendered:
    """A message worded for its reader; ``after`` runs once Telegram accepted it, with the
    id of the (last) message sent. ``copy_of`` (chat, message) sends a copy of that message
    as it is (a voice note, a photo) instead of ``text``. ``inbox_copy``: the message is its
    appointment's copy in a secretary's inbox, recorded with its delivery."""

    text: str = ""
    markup: InlineKeyboardMarkup | None = None
    after: Callable[[int], Awaitable[None]] | None = None
    copy_of: tuple[int, int] | None = None
    inbox_copy: bool = False


# A renderer words one kind of message for its reader now, or says (None) that it is moot.
Renderer = Callable[[ContextTypes.DEFAULT_TYPE, Message], Awaitable[Rendered | None]]


class Outcome(Enum):
    RETRY = "retry"  # Telegram surely did not take it: try again
    UNKNOWN = "unknown"  # it may have arrived: the kind's policy decides
    REFUSED = "refused"  # final: trying again changes nothing


def classify(error: Exception) -> Outcome:
    if isinstance(error, RetryAfter):
        return Outcome.RETRY
    if isinstance(error, Forbidden | BadRequest | ChatMigrated):
        return Outcome.REFUSED
    if isinstance(error, NetworkError):  # TimedOut included
        cause = error.__cause__
        if isinstance(cause, transport.NOT_SENT):  # no connection: nothing can have arrived
            return Outcome.RETRY
        if isinstance(cause, transport.TRANSPORT_ERROR) or isinstance(error, TimedOut):
            return Outcome.UNKNOWN
        return Outcome.RETRY  # Telegram answered with a server error: not applied
    return Outcome.RETRY


class Deliverer:
    """Runs beside the application: woken when something is owed, and when a retry is due."""

    # Messages in flight at once, each to another chat. Small: a pool gets slower
    # with many waiting requests (see DESIGN.md), and the rate limiter paces them anyway.
    CONCURRENCY = 4
    # Even with nothing heard, the outbox is read this often (another process may write).
    POLL = 30.0
    # A stop lets the messages in hand finish, this long at most: cut off mid-send, a message
    # is left to the next start's recovery (sent again, or uncertain), and a cancelled
    # transaction may be left open on the shared connection.
    STOP_GRACE = 10.0
    # Several workers deliver from one database: a claim not renewed for this long (seconds)
    # is a dead worker's, sent again or left uncertain by its policy. A live deliverer renews
    # its claims every LEASE / 3 while a batch is out; an event loop held up longer than the
    # lease (another process's write lock, up to SQLite's busy_timeout) may see a message it
    # is sending taken over, and sent twice.
    LEASE = 6.0

    def __init__(self, application: Application, renderers: Mapping[str, Renderer]):
        self._application = application
        self._renderers = renderers
        self._worker = uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_flight = 0
        self._progress = asyncio.Condition()

    @property
    def _store(self):
        return deps(CallbackContext(self._application)).store

    async def start(self) -> None:
        await self._recover()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox deliverer")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping = True
        self._store.outbox.changed.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.STOP_GRACE)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def idle(self) -> None:
        """Return once nothing is owed any more: delivered, or final."""
        store = self._store
        while True:
            quiet = not store.outbox.changed.is_set() and self._in_flight == 0
            if quiet and await store.outbox.open_count() == 0:
                return
            async with self._progress:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), 0.05)

    async def _recover(self) -> tuple[bool, float | None]:
        """Messages a dead deliverer was sending: sent again, or uncertain, by their policy.
        Whether there were any, and when the soonest claim of a live one runs out."""
        store = self._store
        now = deps(CallbackContext(self._application)).clock.now()
        wall = time.time()
        recovered, soonest = False, None
        for message in await store.outbox.claimed_elsewhere(self._worker):
            expires = (message.claimed_at or 0) + self.LEASE
            if expires > wall:
                soonest = expires if soonest is None else min(soonest, expires)
                continue
            resend = outbox.policy(message.kind).resend_unknown
            if not await store.outbox.take_back(message, resend=resend, now=now):
                continue
            recovered = True
            if resend:
                log.info("outbox %s (%s): resent, its deliverer died", message.id, message.kind)
            else:
                log.warning("outbox %s (%s): delivery unknown", message.id, message.kind)
        return recovered, soonest

    async def _keep_claimed(self, batch: list[Message]) -> None:
        """Renew the batch's claims while it is out, so no other worker takes it over."""
        ids = [message.id for message in batch]
        while True:
            await asyncio.sleep(self.LEASE / 3)
            try:
                await self._store.outbox.still_claimed(self._worker, ids, wall=time.time())
            except Exception:
                log.exception("outbox: could not renew the claims of %s", ids)

    async def _run(self) -> None:
        store = self._store
        while not self._stopping:
            store.outbox.changed.clear()
            try:
                batch = await store.outbox.claim(
                    self._worker, wall=time.time(), limit=self.CONCURRENCY
                )
            except Exception:
                log.exception("outbox: could not claim; trying again")
                await asyncio.sleep(1)
                continue
            if batch:
                self._in_flight = len(batch)
                renewing = asyncio.create_task(self._keep_claimed(batch))
                try:
                    results = await asyncio.gather(
                        *(self._deliver(message) for message in batch), return_exceptions=True
                    )
                finally:
                    renewing.cancel()
                self._in_flight = 0
                for message, result in zip(batch, results, strict=True):
                    if isinstance(result, Exception):
                        await self._recover_from(message, result)
                await self._notify()
                if len(batch) == self.CONCURRENCY or store.outbox.changed.is_set():
                    continue
                # All that was due went: what is next is a retry, or a message that waited
                # behind one just sent to its chat, due now (then the wait below is nil).
            else:
                await self._notify()
            try:
                recovered, expires = await self._recover()
                if recovered:
                    continue
                due = await store.outbox.next_attempt()
            except Exception:
                log.exception("outbox: could not read the next retry; reading again soon")
                due, expires = time.time() + 1, None
            if expires is not None:
                due = expires if due is None else min(due, expires)
            wait = self.POLL if due is None else max(min(due - time.time(), self.POLL), 0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(store.outbox.changed.wait(), wait)

    async def _recover_from(self, message: Message, error: Exception) -> None:
        """A delivery that failed in the bot itself (the store, a bug): the loop goes on, and
        the message is tried again later rather than left claimed until the next start."""
        log.error("outbox %s (%s): delivery failed", message.id, message.kind, exc_info=error)
        try:
            await self._store.outbox.retry(
                message.id,
                not_before=time.time() + outbox.LONGEST_RETRY,
                error=f"{type(error).__name__}: {error}",
            )
        except Exception:
            log.exception("outbox %s: left claimed until the next start", message.id)

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    async def _deliver(self, message: Message) -> None:
        context = CallbackContext(self._application)
        d = deps(context)
        now = d.clock.now()
        policy = outbox.policy(message.kind)
        if now - message.created_at > policy.max_age:
            await self._give_up(message, Status.EXPIRED, "older than its kind's max age")
            return
        try:
            rendered = await self._renderers[message.kind](context, message)
        except Exception as error:
            log.exception("outbox %s (%s): could not be worded", message.id, message.kind)
            await self._retry(message, error)
            return
        if rendered is None:
            await d.store.outbox.finish(message.id, Status.MOOT, now)
            return
        try:
            telegram_id = await self._send(message, rendered)
        except Exception as error:
            verdict = classify(error)
            if verdict is Outcome.REFUSED:
                await self._give_up(message, Status.FAILED, str(error))
            elif verdict is Outcome.UNKNOWN and not policy.resend_unknown:
                log.warning("outbox %s (%s): delivery unknown", message.id, message.kind)
                await d.store.outbox.finish(message.id, Status.UNCERTAIN, now, str(error))
            else:
                await self._retry(message, error)
            return
        await d.store.outbox.delivered(
            message.id, telegram_id, d.clock.now(), inbox_copy=rendered.inbox_copy
        )
        if rendered.after is not None:
            try:
                await rendered.after(telegram_id)
            except Exception:
                log.exception("outbox %s (%s): follow-up failed", message.id, message.kind)

    async def _send(self, message: Message, rendered: Rendered) -> int:
        """The text in as many messages as Telegram needs, buttons under the last; parts
        already sent by an earlier try are not sent again."""
        bot = self._application.bot
        if rendered.copy_of is not None:
            chat_id, message_id = rendered.copy_of
            copied = await bot.copy_message(
                message.chat_id, chat_id, message_id, reply_markup=rendered.markup
            )
            return copied.message_id
        parts = split_message(rendered.text)
        sent = None
        for index in range(message.parts_sent, len(parts)):
            last = index == len(parts) - 1
            sent = await bot.send_message(
                message.chat_id, parts[index], reply_markup=rendered.markup if last else None
            )
            if not last:
                await self._store.outbox.part_sent(message.id, index + 1)
        return sent.message_id

    async def _retry(self, message: Message, error: Exception) -> None:
        wait = (
            _retry_after(error)
            if isinstance(error, RetryAfter)
            else outbox.backoff(message.attempts)
        )
        log.info(
            "outbox %s (%s) to chat %s: try %s failed (%s); again in %.1f s",
            message.id,
            message.kind,
            message.chat_id,
            message.attempts,
            type(error).__name__,
            wait,
        )
        await self._store.outbox.retry(
            message.id, not_before=time.time() + wait, error=f"{type(error).__name__}: {error}"
        )

    async def _give_up(self, message: Message, status: Status, reason: str) -> None:
        d = deps(CallbackContext(self._application))
        log.warning(
            "outbox %s (%s) to chat %s: %s (%s)",
            message.id,
            message.kind,
            message.chat_id,
            status,
            reason,
        )
        owed = outbox.undelivered(d.settings, message, str(status))
        await d.store.outbox.finish(message.id, status, d.clock.now(), reason, owed=owed)


def _retry_after(error: RetryAfter) -> float:
    # PTB 22 warns that the attribute becomes a timedelta in 23; either reads the same here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        period = error.retry_after
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def deliverer(application: Application) -> Deliverer:
    return application.bot_data[DELIVERER_KEY]
