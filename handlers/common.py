"""What every audience shares: the injected services, who is asking, errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ContextTypes

from bot.booking import Booking
from bot.callbacks import BadCallback
from bot.clock import Clock
from bot.config import Business, Settings
from bot.i18n import I18n, pick_language
from storage import Store
from storage.appointments import Appointment
from storage.people import Person

log = logging.getLogger(__name__)

DEPS_KEY = "deps"


class StaleButton(Exception):
    """Callback data the bot cannot use: an old button, or one somebody forged."""


@dataclass(frozen=True)
class Deps:
    """Everything a handler needs, kept in ``Application.bot_data`` (the only shared state)."""

    settings: Settings
    store: Store
    clock: Clock
    i18n: I18n
    booking: Booking


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.bot_data[DEPS_KEY]


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Rows of (label, callback data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def person(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, bind_to: Business | None = None
) -> Person:
    """The sender, recorded on first contact with the language their phone uses; bound to
    ``bind_to`` if given, in the same write."""
    user: User = update.effective_user
    d = deps(context)
    return await d.store.people.seen(
        user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language=pick_language(user.language_code, d.settings.language),
        now=d.clock.now(),
        business_id=d.booking.business_id(bind_to) if bind_to is not None else None,
    )


def appointment_values(
    d: Deps, language: str, appointment: Appointment, business: Business
) -> dict[str, str]:
    """The values any message about an appointment may show, in the reader's language."""
    local = d.booking.local(business, appointment.starts_at)
    service = business.service(appointment.service)
    return {
        "business": business.name,
        "address": business.address,
        "phone": business.phone,
        "service": service.name_in(language) if service else appointment.service,
        "day": d.i18n.day(language, local),
        "time": d.i18n.time(language, local),
        "practitioner": appointment.practitioner,
    }


def staff_language(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> str:
    """Secretaries set their language in config; employers get the office's language."""
    settings = deps(context).settings
    for secretary in settings.secretaries:
        if secretary.telegram_id == user_id:
            return secretary.language
    return settings.language


def is_secretary(context: ContextTypes.DEFAULT_TYPE, user: User | None) -> bool:
    return user is not None and deps(context).settings.is_secretary(user.id)


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in place when a button was tapped (the chat stays short), else a new message.

    A tapped message that cannot be edited any more (deleted, out of the bot's reach, a photo)
    gets its answer as a new message: whoever tapped must see one.
    """
    query = update.callback_query
    if query is None:
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    try:
        await query.answer()
    except BadRequest as error:
        # Answered already, or too late to: one answer per tap, within Telegram's wait.
        log.info("tap %s not answered: %s", query.id, error)
    message = query.message
    if query.inline_message_id is not None or (message is not None and message.is_accessible):
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as error:
            if "not modified" in error.message.lower():
                # The same text twice (a double tap): the message already says it.
                log.info("message not edited: %s", error)
                return
            log.info("message not edited, sent anew: %s", error)
    if update.effective_chat is None:
        log.warning("no chat to answer a tap on message %s in", query.inline_message_id)
        return
    try:
        await update.effective_chat.send_message(text, reply_markup=markup)
    except (BadRequest, Forbidden) as error:
        if isinstance(error, BadRequest) and "chat not found" not in error.message.lower():
            raise
        # A chat the bot is not in: a tap forged on a group's message; nobody to tell.
        log.warning("could not answer a tap in chat %s: %s", update.effective_chat.id, error)


# Telegram counts a message's length in UTF-16 code units: an emoji counts twice.
MESSAGE_LIMIT = 4096


def telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Text cut into messages Telegram accepts, between lines wherever a line fits."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while telegram_length(line) > limit:  # one line longer than a message: cut inside it
            size = limit
            while telegram_length(line[:size]) > limit:
                size -= 1
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if current and telegram_length(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def with_outcome(text: str, outcome: str, limit: int = MESSAGE_LIMIT) -> str:
    """A message edited to say what became of it: its outcome always shows, the original
    shortened (with an ellipsis) when both would not fit in one message."""
    room = limit - telegram_length(outcome) - 2
    if telegram_length(text) > room:
        while telegram_length(text) > room:
            text = text[: -max(1, telegram_length(text) - room)]
        text += "…"
    return f"{text}\n{outcome}"


async def show_outcome(update: Update, outcome: str) -> None:
    """The tapped message edited to say what became of it, best effort: what anyone is owed
    was written with the change. A tap on a message the bot cannot read (inline, or too old
    to be sent with the tap) leaves it as it is."""
    query = update.callback_query
    message = query.message
    if message is None or not message.is_accessible or message.text is None:
        log.info("tapped message of query %s not readable: not edited", query.id)
        return
    try:
        await query.edit_message_text(with_outcome(message.text, outcome))
    except TelegramError as error:
        log.info("message %s not edited: %s", message.message_id, error)


async def send_safely(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> int | None:
    """Send to someone who may have blocked the bot; the caller's work is already saved.

    A text too long for one message goes in several, the buttons under the last. Returns the
    last message's id, or None when it could not be delivered (logged).
    """
    parts = split_message(text)
    try:
        for part in parts[:-1]:
            await context.bot.send_message(chat_id, part)
        message = await context.bot.send_message(chat_id, parts[-1], reply_markup=reply_markup)
    except Forbidden:
        log.warning("chat %s blocked the bot; message not delivered", chat_id)
        return None
    except TelegramError as error:
        # Typically a secretary who never opened the bot: "chat not found".
        log.error("could not send a message to chat %s: %s", chat_id, error)
        return None
    return message.message_id


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the person something went wrong, never what.

    A tapped button is always answered, even when its message is gone or out of reach (no
    chat to write to): else the phone shows its spinner until Telegram gives up.
    """
    stale = isinstance(context.error, StaleButton | BadCallback)
    if stale:
        log.warning("unusable callback data: %s", context.error)
    elif isinstance(context.error, NetworkError):
        # Telegram failing an answer (a timeout, a 5xx): what the change owed anyone is in
        # the outbox already; only this reply is lost, and the person can tap again.
        log.warning("Telegram failed while answering an update: %r", context.error)
    else:
        log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    d = deps(context)
    user = update.effective_user
    language = d.settings.language
    if user is not None:
        known = await d.store.people.get(user.id)
        language = known.language if known else pick_language(user.language_code, language)
    chat = update.effective_chat
    query = update.callback_query
    if query is not None:
        # Said in the answer itself when no message will follow.
        alert = stale or chat is None
        key = "error.stale_button" if stale else "error.generic"
        try:
            await query.answer(d.i18n.text(language, key) if alert else None, show_alert=alert)
        except TelegramError as error:
            # The handler answered before it failed: Telegram takes one answer per tap.
            log.info("tap %s not answered again: %s", query.id, error)
        if alert:
            return
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, d.i18n.text(language, "error.generic"))
    except TelegramError as error:
        log.warning("could not tell chat %s about the error: %s", chat.id, error)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button from an old message, or data nobody should have sent: say so, change nothing."""
    d = deps(context)
    patient = await person(update, context)
    log.warning(
        "user %s sent unusable callback data %r",
        patient.telegram_id,
        update.callback_query.data if update.callback_query else None,
    )
    await update.callback_query.answer(
        d.i18n.text(patient.language, "error.stale_button"), show_alert=True
    )
