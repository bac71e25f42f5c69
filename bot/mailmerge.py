"""Sending a mail merge: paced, shown as it goes, resumable, and never twice to anyone.

A few senders share the run. Each claims the next recipient (committed), sends, and records
the outcome (committed); how that makes every copy unique, even across a crash, is told in
``storage.missions``. The pace is the bot's rate limiter's (python-telegram-bot's
``AIORateLimiter``, set from ``telegram.max_messages_per_second``): the senders only keep it
busy, and the few of them leave room for the patients and secretaries talking to the bot
meanwhile. One progress message is edited as the run goes, at most once a period.

The run stops between two messages when ``keep_going()`` turns false (the bot stopping);
what is left is sent when the bot starts again.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.clock import Clock
from bot.i18n import I18n
from storage import Store
from storage.missions import Counts, MailMerge, Outgoing, RecipientStatus

log = logging.getLogger(__name__)

SENDERS = 4
PROGRESS_EVERY = 1.0  # seconds between two edits of the progress message
# A recipient Telegram keeps refusing with "retry later", or never reached, is given up then.
MAX_ATTEMPTS = 6
MAX_BACKOFF = 60.0  # seconds

# httpx's errors that mean the request never left: sending again cannot make a second copy.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Outcome:
    status: RecipientStatus
    message_id: int | None = None
    error: str | None = None
    wait: float = 0.0  # seconds this sender pauses before its next claim


@dataclass(frozen=True)
class MailMergeRun:
    """What a run needs from the application."""

    bot: Bot
    store: Store
    i18n: I18n
    clock: Clock
    business_name: str
    keep_going: Callable[[], bool]
    senders: int = SENDERS
    progress_every: float = PROGRESS_EVERY


async def run(job: MailMergeRun, merge: MailMerge) -> None:
    """Send what is left of ``merge``; finish it (and its mission) once nobody is left."""
    merges = job.store.missions.mail_merges
    uncertain = await merges.recover(merge.id, now=job.clock.now())
    if uncertain:
        log.warning(
            "mail merge %s: %s recipients were being sent to at a stop", merge.id, uncertain
        )
    merge = await _ensure_progress_message(job, merge)
    done = asyncio.Event()
    progress = asyncio.create_task(_show_progress(job, merge, done))
    try:
        # A task group: should one sender fail, the others stop too (their claimed
        # recipients become uncertain at the next start, never sent twice).
        async with asyncio.TaskGroup() as senders:
            for _ in range(job.senders):
                senders.create_task(_sender(job, merge.id))
    finally:
        done.set()
        await progress
    finished = await merges.finish(merge.id, now=job.clock.now())
    counts = await merges.counts(merge.id)
    await _edit_progress(job, merge, _progress_text(job, merge, counts, paused=not finished))
    if finished:
        log.info("mail merge %s finished: %s", merge.id, counts)
        text = _counts_text(job, merge, "mailmerge.finished", counts)
        text += "\n" + job.i18n.text(merge.language, "mailmerge.recorded")
        await _tell(job, merge.progress_chat_id, text)
    else:
        log.info("mail merge %s paused: %s", merge.id, counts)


async def _sender(job: MailMergeRun, merge_id: int) -> None:
    merges = job.store.missions.mail_merges
    while job.keep_going():
        outgoing = await merges.claim(merge_id, now=job.clock.now())
        if outgoing is None:
            return
        try:
            outcome = await _deliver(job.bot, outgoing)
        except Exception:
            # Our own bug, after the request may have left: the copy is uncertain.
            log.exception("mail merge %s: sending to %s failed", merge_id, outgoing.patient_id)
            outcome = Outcome(RecipientStatus.UNKNOWN, error="internal error")
        await merges.record(
            outgoing,
            outcome.status,
            now=job.clock.now(),
            message_id=outcome.message_id,
            error=outcome.error,
        )
        if outcome.wait:
            await asyncio.sleep(outcome.wait)


async def _deliver(bot: Bot, outgoing: Outgoing) -> Outcome:
    try:
        message = await bot.send_message(outgoing.patient_id, outgoing.text)
    except Forbidden as error:
        return Outcome(RecipientStatus.BLOCKED, error=error.message)
    except RetryAfter as error:
        # Flood control, still there after the rate limiter's own retries: nothing was
        # delivered, so the recipient waits for a later turn.
        return _again(outgoing, error, _retry_after(error))
    except BadRequest as error:
        return Outcome(RecipientStatus.FAILED, error=error.message)
    except NetworkError as error:
        if isinstance(error.__cause__, _NEVER_SENT):
            return _again(outgoing, error, min(2.0**outgoing.attempts, MAX_BACKOFF))
        # A timeout or a broken answer: Telegram may have delivered it. Never resent.
        return Outcome(RecipientStatus.UNKNOWN, error=error.message)
    except TelegramError as error:
        return Outcome(RecipientStatus.FAILED, error=error.message)
    return Outcome(RecipientStatus.SENT, message_id=message.message_id)


def _again(outgoing: Outgoing, error: TelegramError, wait: float) -> Outcome:
    if outgoing.attempts >= MAX_ATTEMPTS:
        return Outcome(RecipientStatus.FAILED, error=error.message)
    return Outcome(RecipientStatus.PENDING, error=error.message, wait=wait)


def _retry_after(error: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta in 23; either is read the same.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


# -- the secretary's view ---------------------------------------------------------------------


def _counts_text(job: MailMergeRun, merge: MailMerge, key: str, counts: Counts) -> str:
    text = job.i18n.text(
        merge.language,
        key,
        business=job.business_name,
        sent=counts.sent,
        blocked=counts.blocked,
        failed=counts.failed,
        left=counts.left,
    )
    if counts.unknown:
        text += "\n" + job.i18n.text(merge.language, "mailmerge.uncertain", count=counts.unknown)
    return text


def _progress_text(job: MailMergeRun, merge: MailMerge, counts: Counts, *, paused: bool) -> str:
    text = _counts_text(job, merge, "mailmerge.progress", counts)
    if paused:
        text += "\n" + job.i18n.text(merge.language, "mailmerge.paused")
    return text


async def _ensure_progress_message(job: MailMergeRun, merge: MailMerge) -> MailMerge:
    """The message edited as the run goes: the one recorded, or a new one."""
    counts = await job.store.missions.mail_merges.counts(merge.id)
    text = _progress_text(job, merge, counts, paused=False)
    if merge.progress_message_id is not None and await _edit_progress(job, merge, text):
        return merge
    chat_id = merge.progress_chat_id or merge.created_by
    message_id = await _tell(job, chat_id, text)
    if message_id is None:
        return merge
    await job.store.missions.mail_merges.set_progress_message(merge.id, chat_id, message_id)
    return await job.store.missions.mail_merges.get(merge.id)


async def _show_progress(job: MailMergeRun, merge: MailMerge, done: asyncio.Event) -> None:
    shown = None
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), timeout=job.progress_every)
        except TimeoutError:
            counts = await job.store.missions.mail_merges.counts(merge.id)
            if counts != shown:
                await _edit_progress(job, merge, _progress_text(job, merge, counts, paused=False))
                shown = counts


async def _edit_progress(job: MailMergeRun, merge: MailMerge, text: str) -> bool:
    if merge.progress_message_id is None:
        return False
    try:
        await job.bot.edit_message_text(
            text, chat_id=merge.progress_chat_id, message_id=merge.progress_message_id
        )
    except BadRequest as error:
        # "Not modified" is fine; a deleted message is replaced by the caller if it must be.
        log.info("mail merge %s: progress not edited: %s", merge.id, error)
        return "not modified" in error.message.lower()
    except TelegramError as error:
        log.warning("mail merge %s: progress not edited: %s", merge.id, error)
        return False
    return True


async def _tell(job: MailMergeRun, chat_id: int | None, text: str) -> int | None:
    if chat_id is None:
        return None
    try:
        message = await job.bot.send_message(chat_id, text)
    except TelegramError as error:
        log.warning("could not tell chat %s about a mail merge: %s", chat_id, error)
        return None
    return message.message_id
