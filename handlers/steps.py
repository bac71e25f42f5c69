"""What the secretary's own flows share: her check, their typed steps, their buttons.

Missions, statements, earnings, mail merges and the phone desk are hers alone: the sender is
checked against config at each call (a button's data can be replayed by anyone who has seen
it); anyone else is refused politely, the attempt is logged, and nothing changes.

Buttons carry what they choose (``m:`` for missions and statements, ``mm:`` for mail merges,
``rdv:`` and ``call:`` for the desk). The one typed step a secretary is asked for (a
description, a fee, a day, a mail-merge text, what a caller said) waits in
``context.user_data`` with the draft it belongs to; ``/annuler``, any other command or half
an hour of silence forgets it, and the flow is simply started again. User data is read and
written for each update (bot.persistence): a step typed on one worker goes on on another,
and through a restart. Each flow module has its own tables of buttons and of typed steps;
``bot.app`` joins them, one handler per button prefix and one for typed text, because a
group gives an update to only one of its handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from telegram import Update, User
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks
from bot.i18n import pick_language
from bot.missions import InputError
from handlers.common import Deps, deps, is_secretary, staff_language
from handlers.lookups import listing

log = logging.getLogger(__name__)

STEP_KEY = "missions:step"
DRAFT_KEY = "missions:draft"
MERGE_KEY = "missions:mail_merge"
STEP_TTL = timedelta(minutes=30)

# (update, context, deps, language, then the button's arguments, or the step and its text)
StepHandler = Callable[..., Awaitable[None]]
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Stale(Exception):
    """Callback data that no longer (or never did) make sense."""


class Lost(Exception):
    """The flow's draft is gone: a command, half an hour of silence, or a restart."""


def language_of(context: ContextTypes.DEFAULT_TYPE, user: User) -> str:
    return staff_language(context, user.id)


async def allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Is the sender a secretary? If not: say so politely, log it, change nothing."""
    user = update.effective_user
    if is_secretary(context, user):
        return True
    d = deps(context)
    query = update.callback_query
    # The command word only: what follows it may be a patient's name or number.
    words = (update.effective_message.text or "").split(maxsplit=1) if not query else []
    what = query.data if query else (words[0] if words else "")
    log.warning("refused %r from user %s: not a secretary", what, user.id if user else None)
    language = pick_language(user.language_code if user else None, d.settings.language)
    text = d.i18n.text(language, "error.not_allowed")
    if query is not None:
        await query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    return False


# An error message quotes the secretary's own words back this far: enough to recognise
# them, and a message Telegram takes however long they were.
QUOTED = 80
_QUOTES = ("text", "slug", "kind", "name")


def error_text(d: Deps, language: str, error: InputError) -> str:
    """The error in words; a tuple of names (the known slugs) is listed, its first few
    when there are many."""
    values = {
        key: f"{value[: QUOTED - 1]}…"
        if key in _QUOTES and isinstance(value, str) and len(value) > QUOTED
        else listing(d, language, value)
        if isinstance(value, tuple)
        else value
        for key, value in error.values.items()
    }
    return d.i18n.text(language, error.key, **values)


def draft(context: ContextTypes.DEFAULT_TYPE, key: str, *needed: str) -> dict:
    """A flow's draft, kept alive while it is used and forgotten after STEP_TTL of silence,
    so an old button (a mail merge's "Send") cannot act on it days later."""
    found = context.user_data.get(key)
    now = deps(context).clock.now()
    if (
        found is None
        or any(k not in found for k in needed)
        or now - found.get("at", now) > STEP_TTL
    ):
        context.user_data.pop(key, None)
        raise Lost(f"no {key}")
    found["at"] = now
    return found


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


# -- typed steps -----------------------------------------------------------------------------


def await_text(context: ContextTypes.DEFAULT_TYPE, step: str, **values: object) -> None:
    context.user_data[STEP_KEY] = {"step": step, "at": deps(context).clock.now(), **values}


def awaited(context: ContextTypes.DEFAULT_TYPE) -> dict | None:
    step = context.user_data.get(STEP_KEY)
    if step is None:
        return None
    if deps(context).clock.now() - step["at"] > STEP_TTL:
        context.user_data.pop(STEP_KEY, None)
        return None
    return step


def end_step(context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop(STEP_KEY, None)


def forget(context: ContextTypes.DEFAULT_TYPE) -> None:
    for key in (STEP_KEY, DRAFT_KEY, MERGE_KEY):
        context.user_data.pop(key, None)


async def forget_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command ends a typed step: the secretary moved on (the command itself goes on)."""
    end_step(context)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/annuler`` (``/cancel``) while a typed step waits: its flow is given up, nothing
    saved. With nothing waiting it is a command like any other nobody takes."""
    if awaited(context) is None:
        return
    forget(context)
    d = deps(context)
    language = language_of(context, update.effective_user)
    await update.effective_message.reply_text(d.i18n.text(language, "steps.cancelled"))
    raise ApplicationHandlerStop


def typed_text(table: dict[str, StepHandler]) -> Callback:
    """The handler of a secretary's typed text, for the steps of ``table`` (by step name)."""

    async def text_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A secretary's typed text, when one of these flows waits for it; else left to others."""
        step = awaited(context)
        if step is None or not is_secretary(context, update.effective_user):
            return
        d = deps(context)
        language = language_of(context, update.effective_user)
        text = update.effective_message.text
        try:
            await table[step["step"]](update, context, d, language, step, text)
        except InputError as error:
            await update.effective_message.reply_text(error_text(d, language, error))
        except Lost:
            forget(context)
            await update.effective_message.reply_text(d.i18n.text(language, "missions.flow_lost"))
        raise ApplicationHandlerStop

    return text_step


# -- buttons ---------------------------------------------------------------------------------


def buttons(table: dict[str, tuple[int, StepHandler]]) -> Callback:
    """The handler of the buttons of ``table``: action -> (number of arguments, handler).

    The arguments are the button's fields as bot.callbacks reads them: ids as ints, days as
    dates, ``-`` as None.
    """

    async def dispatch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await allowed(update, context):
            return
        d = deps(context)
        query = update.callback_query
        language = language_of(context, update.effective_user)
        button = callbacks.parse(query.data)
        action = button.route.partition(":")[2] if button is not None else ""
        args = list(button.args) if button is not None else []
        entry = table.get(action)
        try:
            if entry is None or len(args) != entry[0]:
                raise Stale(query.data)
            await entry[1](update, context, d, language, args)
        except Lost as lost:
            log.info(
                "secretary %s: %r after its flow ended (%s)",
                update.effective_user.id,
                query.data,
                lost,
            )
            await query.answer(d.i18n.text(language, "missions.flow_lost"), show_alert=True)
        except Stale as stale:
            log.warning(
                "secretary %s: unusable button %r (%s)", update.effective_user.id, query.data, stale
            )
            await query.answer(d.i18n.text(language, "error.stale_button"), show_alert=True)
        except InputError as error:
            await query.answer()
            await update.effective_message.reply_text(error_text(d, language, error))

    return dispatch
