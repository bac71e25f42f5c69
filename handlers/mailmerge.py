"""/publipostage: one text, made personal, to a business's patients (all of them, one day's,
or those seen since a day), previewed before it goes.

Confirming stores the run, its mission and one outbox row per recipient at once; the one
deliverer (``handlers.delivery``) sends the copies, paced by the rate limiter, and a watcher
per run edits one progress message as they go and finishes the run when none is owed. A
stop leaves the rest in the outbox, sent at the next start, where the watcher starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot import outbox
from bot.agenda import day_bounds
from bot.config import DEFAULT_MISSION_FEES
from bot.missions import (
    MAIL_MERGE_KIND,
    MAX_MERGE_TEXT,
    PLACEHOLDERS,
    Audience,
    AudienceChoice,
    InputError,
    parse_day,
    parse_template,
    render,
)
from handlers import lookups, steps
from handlers.common import DEPS_KEY, Deps, deps, keyboard, reply, telegram_length
from handlers.delivery import Rendered, Renderer
from storage.mailmerges import Counts, MailMerge, Recipient
from storage.missions import NewMission
from storage.outbox import Message

log = logging.getLogger(__name__)

TASKS_KEY = "missions:mail_merge_tasks"  # in bot_data: merge id -> its watcher
WAKERS_KEY = "missions:mail_merge_wakers"  # in bot_data: merge id -> set when a copy went
PROGRESS_EVERY = 1.0  # seconds between two edits of the progress message
SOONEST = 0.1  # seconds between two readings of a run's counts


async def mail_merge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Choose a business, an audience, write the text, preview it, send."""
    if not await steps.allowed(update, context):
        return
    d = deps(context)
    language = steps.language_of(context, update.effective_user)
    steps.forget(context)
    context.user_data[steps.MERGE_KEY] = {}
    if len(d.settings.businesses) == 1:
        await _ask_audience(
            update, context, d, language, lookups.business_id(d, d.settings.businesses[0])
        )
        return
    text = d.i18n.text(language, "mailmerge.which_business")
    await reply(update, text, _business_picker(d, language, 0))


def _business_picker(d: Deps, language: str, page: int) -> InlineKeyboardMarkup:
    rows = lookups.business_buttons(d, language, "mm:b", page)
    return keyboard(*rows, [_merge_abandon_button(d, language)])


async def _merge_business_page(update, context, d: Deps, language: str, args: list) -> None:
    """``mm:bp:<page>``: another page of the businesses, in place."""
    (page,) = args
    text = d.i18n.text(language, "mailmerge.which_business")
    await reply(update, text, _business_picker(d, language, page))


def _merge_abandon_button(d: Deps, language: str) -> tuple[str, str]:
    return (d.i18n.text(language, "missions.abandon"), "mm:x")


def _merge_draft(context: ContextTypes.DEFAULT_TYPE, *needed: str) -> dict:
    return steps.draft(context, steps.MERGE_KEY, *needed)


async def _ask_audience(update, context, d: Deps, language: str, business_id: int) -> None:
    context.user_data[steps.MERGE_KEY] = {"business": business_id}
    context.user_data.pop(steps.STEP_KEY, None)
    rows = [
        [(d.i18n.text(language, "mailmerge.audience_all_button"), "mm:a:all")],
        [(d.i18n.text(language, "mailmerge.audience_day_button"), "mm:a:day")],
        [(d.i18n.text(language, "mailmerge.audience_since_button"), "mm:a:since")],
        [_merge_abandon_button(d, language)],
    ]
    text = d.i18n.text(
        language, "mailmerge.which_audience", business=lookups.business_name(d, business_id)
    )
    await reply(update, text, keyboard(*rows))


async def _merge_business(update, context, d: Deps, language: str, args: list) -> None:
    (business_id,) = args
    if lookups.business_by_id(d, business_id) is None:
        raise steps.Stale(str(business_id))
    await _ask_audience(update, context, d, language, business_id)


async def _merge_audience(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _merge_draft(context, "business")
    try:
        audience = Audience(args[0])
    except ValueError:
        raise steps.Stale(args[0]) from None
    if audience == Audience.ALL:
        await _audience_chosen(update, context, d, language, draft, AudienceChoice(audience))
        return
    today = lookups.today(d, _merge_zone(d, draft))
    if audience == Audience.DAY:
        steps.await_text(context, "merge_day")
        choices = [
            ("mailmerge.day_today", today),
            ("mailmerge.day_tomorrow", today + timedelta(days=1)),
            ("mailmerge.day_after", today + timedelta(days=2)),
        ]
        prefix, question = "mm:d", "mailmerge.which_day"
    else:
        steps.await_text(context, "merge_since")
        choices = [
            ("mailmerge.since_month", today - timedelta(days=30)),
            ("mailmerge.since_quarter", today - timedelta(days=91)),
            ("mailmerge.since_year", today - timedelta(days=365)),
        ]
        prefix, question = "mm:s", "mailmerge.which_since"
    rows = [
        [(d.i18n.text(language, key), f"{prefix}:{steps.day_code(day)}") for key, day in choices],
        [_merge_abandon_button(d, language)],
    ]
    await reply(update, d.i18n.text(language, question), keyboard(*rows))


def _merge_zone(d: Deps, draft: dict) -> ZoneInfo:
    return lookups.business_zone(d, draft["business"], lookups.office_zone(d))


async def _merge_day_button(update, context, d: Deps, language: str, args: list) -> None:
    draft = _merge_draft(context, "business")
    choice = AudienceChoice(Audience.DAY, args[0])
    await _audience_chosen(update, context, d, language, draft, choice)


async def _merge_since_button(update, context, d: Deps, language: str, args: list) -> None:
    draft = _merge_draft(context, "business")
    choice = AudienceChoice(Audience.SINCE, args[0])
    await _audience_chosen(update, context, d, language, draft, choice)


async def _typed_merge_day(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _merge_draft(context, "business")
    today = lookups.today(d, _merge_zone(d, draft))
    choice = AudienceChoice(Audience.DAY, parse_day(text, today, future=True))
    await _audience_chosen(update, context, d, language, draft, choice)


async def _typed_merge_since(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _merge_draft(context, "business")
    today = lookups.today(d, _merge_zone(d, draft))
    choice = AudienceChoice(Audience.SINCE, parse_day(text, today, future=False))
    await _audience_chosen(update, context, d, language, draft, choice)


async def _recipients(d: Deps, business_id: int, choice: AudienceChoice) -> list[Recipient]:
    """The audience's patients; the office's own people (who may have followed a business's
    link once) are never written to as patients."""
    merges = d.store.mail_merges
    zone = lookups.business_zone(d, business_id, lookups.office_zone(d))
    if choice.audience == Audience.ALL:
        found = await merges.everyone(business_id)
    elif choice.audience == Audience.DAY:
        first, last = day_bounds(choice.day, zone)
        found = await merges.booked_between(business_id, first, last)
    else:
        first, _ = day_bounds(choice.day, zone)
        found = await merges.seen_between(business_id, first, d.clock.now())
    staff = {s.telegram_id for s in d.settings.secretaries} | {
        employer for business in d.settings.businesses for employer in business.employers
    }
    return [recipient for recipient in found if recipient.patient_id not in staff]


def _audience_label(d: Deps, language: str, choice: AudienceChoice) -> str:
    if choice.audience == Audience.ALL:
        return d.i18n.text(language, "mailmerge.audience_all")
    key = (
        "mailmerge.audience_day" if choice.audience == Audience.DAY else "mailmerge.audience_since"
    )
    return d.i18n.text(language, key, day=d.i18n.day(language, choice.day))


async def _audience_chosen(
    update, context, d: Deps, language: str, draft: dict, choice: AudienceChoice
) -> None:
    recipients = await _recipients(d, draft["business"], choice)
    audience = _audience_label(d, language, choice)
    if not recipients:
        context.user_data.pop(steps.STEP_KEY, None)
        buttons = keyboard(
            [(d.i18n.text(language, "mailmerge.other_audience"), f"mm:b:{draft['business']}")],
            [_merge_abandon_button(d, language)],
        )
        await reply(update, d.i18n.text(language, "mailmerge.nobody", audience=audience), buttons)
        return
    draft["audience"] = choice.code
    draft.pop("template", None)
    steps.await_text(context, "merge_template")
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS[choice.audience])
    text = d.i18n.text(
        language,
        "mailmerge.write",
        count=len(recipients),
        audience=audience,
        placeholders=allowed,
    )
    await reply(update, text, keyboard([_merge_abandon_button(d, language)]))


def _texts(
    d: Deps, language: str, business_id: int, template: str, choice: AudienceChoice, recipients
) -> list[tuple[int, str]]:
    """Each recipient's own text; raises InputError for a bad template or a too long text."""
    pieces = parse_template(template, PLACEHOLDERS[choice.audience])
    zone = lookups.business_zone(d, business_id, lookups.office_zone(d))
    business = lookups.business_name(d, business_id)
    texts = []
    for recipient in recipients:
        values = {"prenom": recipient.first_name, "cabinet": business}
        if recipient.starts_at is not None:
            local = recipient.starts_at.astimezone(zone)
            values["date"] = d.i18n.day(language, local)
            values["heure"] = d.i18n.time(language, local)
        text = render(pieces, values)
        if telegram_length(text) > MAX_MERGE_TEXT:
            raise InputError("mailmerge.too_long", limit=MAX_MERGE_TEXT)
        texts.append((recipient.patient_id, text))
    return texts


async def _typed_template(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _merge_draft(context, "business", "audience")
    choice = AudienceChoice.parse(draft["audience"])
    recipients = await _recipients(d, draft["business"], choice)
    texts = _texts(d, language, draft["business"], text, choice, recipients)
    if not texts:
        await update.effective_message.reply_text(
            d.i18n.text(language, "mailmerge.nobody", audience=_audience_label(d, language, choice))
        )
        return
    draft["template"] = text
    context.user_data.pop(steps.STEP_KEY, None)
    first = recipients[0]
    preview = d.i18n.text(language, "mailmerge.preview", name=first.first_name, count=len(texts))
    buttons = keyboard(
        [(d.i18n.text(language, "mailmerge.send", count=len(texts)), "mm:go")],
        [
            (d.i18n.text(language, "mailmerge.edit"), "mm:e"),
            _merge_abandon_button(d, language),
        ],
    )
    await update.effective_message.reply_text(f"{preview}\n\n{texts[0][1]}", reply_markup=buttons)


async def _merge_edit(update, context, d: Deps, language: str, args: list[str]) -> None:
    _merge_draft(context, "business", "audience")
    steps.await_text(context, "merge_template")
    await update.callback_query.answer()
    await update.effective_message.reply_text(d.i18n.text(language, "mailmerge.rewrite"))


async def _merge_abandon(update, context, d: Deps, language: str, args: list[str]) -> None:
    steps.forget(context)
    await reply(update, d.i18n.text(language, "mailmerge.abandoned"))


async def _merge_go(update, context, d: Deps, language: str, args: list[str]) -> None:
    """Confirmed: the run, its mission and its copies owed are stored at once; the deliverer
    sends them, watched from here."""
    draft = _merge_draft(context, "business", "audience", "template")
    steps.forget(context)
    business_id = draft["business"]
    choice = AudienceChoice.parse(draft["audience"])
    # The audience is read again: someone may have joined since the preview.
    recipients = await _recipients(d, business_id, choice)
    try:
        texts = _texts(d, language, business_id, draft["template"], choice, recipients)
    except InputError as error:
        await reply(update, steps.error_text(d, language, error))
        return
    if not texts:
        audience = _audience_label(d, language, choice)
        await reply(update, d.i18n.text(language, "mailmerge.nobody", audience=audience))
        return
    description = d.i18n.text(
        language,
        "mailmerge.mission",
        audience=_audience_label(d, language, choice),
        count=len(texts),
    )
    # A config that left mail merges out of its fees still bills them at the usual price.
    fee = d.settings.mission_kinds.get(MAIL_MERGE_KIND, DEFAULT_MISSION_FEES[MAIL_MERGE_KIND] * 100)
    merge = await d.store.mail_merges.create(
        business_id=business_id,
        audience=choice.code,
        template=draft["template"],
        language=language,
        texts=texts,
        mission=NewMission(business_id, MAIL_MERGE_KIND, description, fee),
        now=d.clock.now(),
        actor=update.effective_user.id,
    )
    log.info(
        "secretary %s started mail merge %s to %s patients",
        update.effective_user.id,
        merge.id,
        len(texts),
    )
    await reply(update, d.i18n.text(language, "mailmerge.started", count=len(texts)))
    start_mail_merge(context.application, merge.id)


def mail_merge_tasks(application: Application) -> dict[int, asyncio.Task]:
    """The watcher of each mail merge started by this application, by merge id: it ends
    when the run is finished, or when the bot stops."""
    return application.bot_data.setdefault(TASKS_KEY, {})


def start_mail_merge(application: Application, merge_id: int) -> asyncio.Task:
    """Watch a run the deliverer sends, unless it is already watched."""
    tasks = mail_merge_tasks(application)
    running = tasks.get(merge_id)
    if running is not None and not running.done():
        return running
    task = application.create_task(_watch(application, merge_id), name=f"mail merge {merge_id}")
    tasks[merge_id] = task
    return task


async def resume_mail_merges(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start-up: watch again the runs a stop interrupted (the deliverer sends the rest)."""
    d = deps(context)
    for merge in await d.store.mail_merges.running():
        log.info("resuming mail merge %s", merge.id)
        start_mail_merge(context.application, merge.id)


def _wakers(application: Application) -> dict[int, asyncio.Event]:
    return application.bot_data.setdefault(WAKERS_KEY, {})


async def _copy(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A recipient's copy: the text previewed for them."""
    merge_id = message.payload["merge_id"]
    text = await deps(context).store.mail_merges.text(merge_id, message.chat_id)
    if text is None:
        return None

    async def sent(_: int) -> None:
        waker = _wakers(context.application).get(merge_id)
        if waker is not None:
            waker.set()

    return Rendered(text, after=sent)


RENDERERS: dict[str, Renderer] = {outbox.MAIL_MERGE: _copy}


# -- the secretary's view: one progress message, edited as the deliverer sends -------------


async def _watch(application: Application, merge_id: int) -> None:
    """Edit the run's progress message, at most once a period, until no copy is owed; then
    finish the run (and its mission). A stop leaves the message saying that the rest goes
    at the next start."""
    d: Deps = application.bot_data[DEPS_KEY]
    merges = d.store.mail_merges
    clock = asyncio.get_running_loop().time
    merge = await merges.get(merge_id)
    shown = await merges.counts(merge_id)
    merge = await _ensure_progress_message(
        application, d, merge, _progress_text(d, merge, shown, paused=False)
    )
    edited_at = clock()
    waker = _wakers(application).setdefault(merge_id, asyncio.Event())
    finished = False
    try:
        while application.running and not finished:
            waker.clear()
            counts = await merges.counts(merge_id)
            finished = counts.left == 0 and await merges.finish(merge_id, now=d.clock.now())
            if counts != shown and (finished or clock() - edited_at >= PROGRESS_EVERY):
                text = _progress_text(d, merge, counts, paused=False)
                await _edit_progress(application, merge, text)
                shown, edited_at = counts, clock()
            if not finished:
                # Every copy sent wakes the watcher, so that the end is seen at once; the
                # counts are still read only a few times a second, however fast copies go.
                await asyncio.sleep(SOONEST)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waker.wait(), PROGRESS_EVERY - SOONEST)
    finally:
        _wakers(application).pop(merge_id, None)
    counts = await merges.counts(merge_id)
    if not finished:
        log.info("mail merge %s paused: %s", merge_id, counts)
        await _edit_progress(application, merge, _progress_text(d, merge, counts, paused=True))
        return
    log.info("mail merge %s finished: %s", merge_id, counts)
    text = _counts_text(d, merge, "mailmerge.finished", counts)
    text += "\n" + d.i18n.text(merge.language, "mailmerge.recorded")
    await _tell(application, merge.progress_chat_id, text)


def _counts_text(d: Deps, merge: MailMerge, key: str, counts: Counts) -> str:
    text = d.i18n.text(
        merge.language,
        key,
        business=lookups.business_name(d, merge.business_id),
        sent=counts.sent,
        blocked=counts.blocked,
        failed=counts.failed,
        left=counts.left,
    )
    if counts.unknown:
        text += "\n" + d.i18n.text(merge.language, "mailmerge.uncertain", count=counts.unknown)
    return text


def _progress_text(d: Deps, merge: MailMerge, counts: Counts, *, paused: bool) -> str:
    text = _counts_text(d, merge, "mailmerge.progress", counts)
    if paused:
        text += "\n" + d.i18n.text(merge.language, "mailmerge.paused")
    return text


async def _ensure_progress_message(
    application: Application, d: Deps, merge: MailMerge, text: str
) -> MailMerge:
    """The message edited as the run goes, now saying ``text``: the one recorded, or a new
    one."""
    if merge.progress_message_id is not None and await _edit_progress(application, merge, text):
        return merge
    chat_id = merge.progress_chat_id or merge.created_by
    message_id = await _tell(application, chat_id, text)
    if message_id is None:
        return merge
    merges = d.store.mail_merges
    await merges.set_progress_message(merge.id, chat_id, message_id)
    return await merges.get(merge.id)


async def _edit_progress(application: Application, merge: MailMerge, text: str) -> bool:
    """Best effort: a progress message that cannot be edited loses nothing but the view."""
    if merge.progress_message_id is None:
        return False
    try:
        await application.bot.edit_message_text(
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


async def _tell(application: Application, chat_id: int | None, text: str) -> int | None:
    if chat_id is None:
        return None
    try:
        message = await application.bot.send_message(chat_id, text)
    except TelegramError as error:
        log.warning("could not tell chat %s about a mail merge: %s", chat_id, error)
        return None
    return message.message_id


BUTTONS: dict[str, tuple[int, steps.StepHandler]] = {
    "b": (1, _merge_business),
    "bp": (1, _merge_business_page),
    "a": (1, _merge_audience),
    "d": (1, _merge_day_button),
    "s": (1, _merge_since_button),
    "e": (0, _merge_edit),
    "x": (0, _merge_abandon),
    "go": (0, _merge_go),
}

TEXT_STEPS: dict[str, steps.StepHandler] = {
    "merge_day": _typed_merge_day,
    "merge_since": _typed_merge_since,
    "merge_template": _typed_template,
}
