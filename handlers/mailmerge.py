"""/publipostage: one text, made personal, to a business's patients (all of them, one day's,
or those seen since a day), previewed before it goes.

The sending (``bot.mailmerge``) runs in the background, stored as it goes, so that a run a
stop interrupted is resumed at start-up; the run is also a mission, to be billed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot import mailmerge
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
from storage.missions import NewMission, Recipient

log = logging.getLogger(__name__)

TASKS_KEY = "missions:mail_merge_tasks"  # in bot_data: merge id -> its sending task


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
    rows = [*lookups.business_buttons(d, "mm:b"), [_merge_abandon_button(d, language)]]
    await reply(update, d.i18n.text(language, "mailmerge.which_business"), keyboard(*rows))


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
    merges = d.store.missions.mail_merges
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
    """Confirmed: the run and its mission are stored at once, then sending starts."""
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
    merge = await d.store.missions.mail_merges.create(
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
    """The sending task of each mail merge started by this application, by merge id."""
    return application.bot_data.setdefault(TASKS_KEY, {})


def start_mail_merge(application: Application, merge_id: int) -> asyncio.Task:
    """Send a run in the background, unless it is already being sent."""
    tasks = mail_merge_tasks(application)
    running = tasks.get(merge_id)
    if running is not None and not running.done():
        return running
    task = application.create_task(
        _send_merge(application, merge_id), name=f"mail merge {merge_id}"
    )
    tasks[merge_id] = task
    return task


async def _send_merge(application: Application, merge_id: int) -> None:
    d: Deps = application.bot_data[DEPS_KEY]
    merge = await d.store.missions.mail_merges.get(merge_id)
    job = mailmerge.MailMergeRun(
        bot=application.bot,
        store=d.store,
        i18n=d.i18n,
        clock=d.clock,
        business_name=lookups.business_name(d, merge.business_id),
        keep_going=lambda: application.running,
    )
    await mailmerge.run(job, merge)


async def resume_mail_merges(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start-up: carry on with the runs a stop interrupted."""
    d = deps(context)
    for merge in await d.store.missions.mail_merges.running():
        log.info("resuming mail merge %s", merge.id)
        start_mail_merge(context.application, merge.id)


BUTTONS: dict[str, tuple[int, steps.StepHandler]] = {
    "b": (1, _merge_business),
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
