"""A person when the bot cannot: a patient's message passed to the secretaries, with who and
which business (voice notes, photos, documents as they are), and a secretary's Telegram reply
to it carried back to the patient, signed with the business's name. The thread goes on both
ways until she closes it or it goes quiet for a day.

Every message here is owed through the outbox, written with the thread's own record.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Message as TelegramMessage
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks, outbox
from bot.config import Business
from bot.handoff import Reason
from handlers.common import Deps, deps, keyboard, show_outcome, staff_language
from handlers.delivery import Rendered, Renderer
from handlers.staff import answer_stale, contact_of, require_secretary, secretary_name
from storage.outbox import Message, Owed
from storage.people import Person
from storage.threads import Said

log = logging.getLogger(__name__)

# A thread nobody wrote in for this long is over: the patient's next message starts anew.
QUIET = timedelta(days=1)
# The kinds a secretary may reply to, to write on their thread.
_REPLYABLE = (outbox.HANDOFF, outbox.HANDOFF_COPY, outbox.HANDOFF_ANSWERED)


def _content(message: TelegramMessage) -> tuple[str, bool]:
    """What a message says, and whether it is a file to copy as it is."""
    if message.text:
        return message.text, False
    kinds = ("voice", "audio", "photo", "video", "video_note", "document", "sticker")
    kind = next((k for k in kinds if getattr(message, k, None)), "message")
    caption = f" {message.caption}" if message.caption else ""
    return f"[{kind}]{caption}", True


def _next_opening(d: Deps, business: Business, now: datetime) -> datetime | None:
    """Now if the business is open, else when it opens next (within two weeks)."""
    rules = d.booking.rules[business.slug]
    today = rules.today(now)
    for offset in range(15):
        for start, end in rules.periods(today + timedelta(days=offset)):
            if end > now:
                return max(start, now)
    return None


async def pass_on(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    patient: Person,
    business: Business,
    reason: Reason,
    *,
    text: str | None = None,
) -> None:
    """Give the patient's message to the secretaries and tell the patient so.

    ``text``: what the patient asked for, when the update is a tap on the bot's own message.
    """
    d = deps(context)
    message = update.effective_message
    content, is_file = (text, False) if text is not None else _content(message)
    now = d.clock.now()

    def tell(said: Said) -> list[Owed]:
        payload = {"thread_id": said.thread.id, "said": said.message.id, "reason": str(reason)}
        owed = outbox.to_secretaries(d.settings, outbox.HANDOFF, **payload, opened=said.opened)
        if is_file:
            owed += outbox.to_secretaries(d.settings, outbox.HANDOFF_COPY, **payload)
        return owed

    said = await d.store.threads.from_patient(
        d.booking.business_id(business),
        patient.telegram_id,
        content=content,
        is_file=is_file,
        chat_id=message.chat_id,
        message_id=message.message_id,
        now=now,
        quiet=QUIET,
        tell=tell,
    )
    log.info(
        "patient %s: message passed on (thread %s, %s)", patient.telegram_id, said.thread.id, reason
    )
    language = patient.language
    if not said.opened:
        await message.reply_text(d.i18n.text(language, "handoff.added", business=business.name))
        return
    opening = _next_opening(d, business, now)
    if opening is not None and opening > now:
        local = d.booking.local(business, opening)
        when = d.i18n.text(
            language,
            "handoff.when_closed",
            day=d.i18n.day(language, local),
            time=d.i18n.time(language, local),
        )
    else:
        when = d.i18n.text(language, "handoff.when_open")
    await message.reply_text(
        d.i18n.text(language, "handoff.passed_on", business=business.name, when=when)
    )


async def open_thread(context: ContextTypes.DEFAULT_TYPE, patient: Person) -> bool:
    """Whether the patient is talking with the office now: their messages go on the thread."""
    d = deps(context)
    found = await d.store.threads.open_for(patient.telegram_id, now=d.clock.now(), quiet=QUIET)
    return found is not None


# -- the secretaries' side -------------------------------------------------------------------


async def office_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A secretary's Telegram reply to a passed-on message: it goes to the patient.

    Any other reply is none of this: the update goes on to the other handlers.
    """
    d = deps(context)
    message = update.effective_message
    replied = message.reply_to_message
    if replied is None:
        return
    owed = await d.store.outbox.sent_as(message.chat_id, replied.message_id)
    if owed is None or owed.kind not in _REPLYABLE:
        return
    if not await require_secretary(update, context):
        raise ApplicationHandlerStop
    author = update.effective_user.id
    content, is_file = _content(message)
    thread = await d.store.threads.get(owed.payload["thread_id"])

    def tell(said: Said) -> list[Owed]:
        payload = {"thread_id": said.thread.id, "said": said.message.id}
        kinds = (
            (outbox.HANDOFF_REPLY, outbox.HANDOFF_REPLY_COPY)
            if is_file
            else (outbox.HANDOFF_REPLY,)
        )
        to_patient = [Owed(kind, said.thread.patient_id, payload=payload) for kind in kinds]
        others = [
            Owed(outbox.HANDOFF_ANSWERED, secretary.telegram_id, payload=payload)
            for secretary in d.settings.secretaries
            if secretary.telegram_id != author
        ]
        return to_patient + others

    said = await d.store.threads.from_office(
        thread.id,
        author,
        content=content,
        is_file=is_file,
        chat_id=message.chat_id,
        message_id=message.message_id,
        now=d.clock.now(),
        tell=tell,
    )
    log.info("secretary %s answered thread %s", author, said.thread.id)
    patient = await d.store.people.get(said.thread.patient_id)
    language = staff_language(context, author)
    await message.reply_text(
        d.i18n.text(language, "handoff.sent", patient=contact_of(None, patient))
    )
    raise ApplicationHandlerStop


async def close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``thr:close:<id>``: the secretary says the exchange is over."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    (thread_id,) = callbacks.read(update.callback_query.data, "thr:close")
    thread = await d.store.threads.get(thread_id)
    if thread is None:
        await answer_stale(update, d, language)
        return
    closed = await d.store.threads.close(thread_id, by=user.id, now=d.clock.now())
    if closed is None:
        await update.callback_query.answer(
            d.i18n.text(language, "handoff.already_closed"), show_alert=True
        )
        return
    await update.callback_query.answer()
    outcome = d.i18n.text(language, "handoff.closed_by", secretary=secretary_name(d, user.id))
    await show_outcome(update, outcome)


async def close_quiet(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The minute's sweep: threads quiet for a day are over."""
    d = deps(context)
    closed = await d.store.threads.close_quiet(now=d.clock.now(), quiet=QUIET)
    if closed:
        log.info("%s quiet thread(s) closed", closed)


# -- renderers -------------------------------------------------------------------------------


async def _said(context: ContextTypes.DEFAULT_TYPE, message: Message):
    d = deps(context)
    thread = await d.store.threads.get(message.payload["thread_id"])
    said = await d.store.threads.message(message.payload["said"])
    if thread is None or said is None:
        return None
    business = d.settings.business(d.store.business_slug(thread.business_id))
    patient = await d.store.people.get(thread.patient_id)
    if business is None or patient is None:
        return None  # dropped from config, or the patient asked to be forgotten
    return d, thread, said, business, patient


async def _to_office(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    found = await _said(context, message)
    if found is None:
        return None
    d, thread, said, business, patient = found
    language = staff_language(context, message.chat_id)
    text = d.i18n.text(language, "handoff.file") if said.is_file else said.content
    values = {"business": business.name, "patient": contact_of(None, patient), "text": text}
    if not message.payload.get("opened", True):
        return Rendered(d.i18n.text(language, "handoff.more", **values))
    reason = d.i18n.text(language, f"handoff.reason.{message.payload['reason']}")
    buttons = keyboard([(d.i18n.text(language, "handoff.close"), f"thr:close:{thread.id}")])
    return Rendered(d.i18n.text(language, "handoff.to_office", reason=reason, **values), buttons)


async def _copy(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    found = await _said(context, message)
    if found is None:
        return None
    said = found[2]
    return Rendered(copy_of=(said.chat_id, said.message_id))


async def _reply(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    found = await _said(context, message)
    if found is None:
        return None
    d, _, said, business, patient = found
    language = patient.language
    if said.is_file:
        return Rendered(d.i18n.text(language, "handoff.reply_file", business=business.name))
    return Rendered(
        d.i18n.text(language, "handoff.reply", business=business.name, text=said.content)
    )


async def _answered(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    found = await _said(context, message)
    if found is None:
        return None
    d, _, said, business, patient = found
    language = staff_language(context, message.chat_id)
    text = d.i18n.text(
        language,
        "handoff.answered",
        secretary=secretary_name(d, said.author),
        patient=contact_of(None, patient),
        business=business.name,
        text=said.content,
    )
    return Rendered(text)


RENDERERS: dict[str, Renderer] = {
    outbox.HANDOFF: _to_office,
    outbox.HANDOFF_COPY: _copy,
    outbox.HANDOFF_REPLY: _reply,
    outbox.HANDOFF_REPLY_COPY: _copy,
    outbox.HANDOFF_ANSWERED: _answered,
}
