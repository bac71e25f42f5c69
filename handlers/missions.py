"""The secretary's business: missions, statements and invoices, earnings, mail merges.

Every command and button here is hers alone: the sender is checked against config at each
call (a button's data can be replayed by anyone who has seen it); anyone else is refused
politely, the attempt is logged, and nothing changes.

Buttons carry what they choose (``m:`` for missions, ``mm:`` for mail merges). Typed steps
(a description, a fee, a day, a mail-merge text) wait in ``context.user_data`` with the
draft they belong to; a command, half an hour of silence or a restart forgets them, and the
flow is simply started again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes

from bot import mailmerge
from bot.agenda import day_bounds
from bot.config import Business
from bot.earnings_chart import Series, render_chart
from bot.i18n import LANGUAGES, pick_language
from bot.invoice import StatementRow, long_date, render_pdf, short_date, statement_csv
from bot.missions import (
    MAIL_MERGE_KIND,
    MAX_MERGE_TEXT,
    PLACEHOLDERS,
    Audience,
    AudienceChoice,
    InputError,
    Month,
    earnings_by_month,
    invoice_number,
    kind_label,
    month_label,
    normalise,
    parse_day,
    parse_description,
    parse_fee,
    parse_minutes,
    parse_mission_line,
    parse_template,
    render,
    short_month_label,
    totals_by_kind,
)
from handlers.common import DEPS_KEY, Deps, deps, is_secretary, keyboard, reply, staff_language
from storage.missions import (
    Invoice,
    Mission,
    MissionLocked,
    MissionStatus,
    NewMission,
    Party,
    Recipient,
    StaleMission,
)

log = logging.getLogger(__name__)

STEP_KEY = "missions:step"
DRAFT_KEY = "missions:draft"
MERGE_KEY = "missions:mail_merge"
TASKS_KEY = "missions:mail_merge_tasks"  # in bot_data: merge id -> its sending task
STEP_TTL = timedelta(minutes=30)
LISTED = 20  # mission cards shown by /missions
# Characters of mission lines in the statement message (Telegram takes 4096 in all, and the
# totals follow); the CSV has every line.
STATEMENT_ROOM = 3000
PAYMENT_DAYS = 30  # an invoice is due this long after it is issued (French default)
MONTHS_SHOWN = 12  # /gains: the full months before this one
MINUTE_CHOICES = (15, 30, 45, 60, 90, 120)
_NONE = "-"


class _Stale(Exception):
    """Callback data that no longer (or never did) make sense."""


class _Lost(Exception):
    """The flow's draft is gone: a command, half an hour of silence, or a restart."""


# -- helpers ---------------------------------------------------------------------------------


def _language(context: ContextTypes.DEFAULT_TYPE, user: User) -> str:
    return staff_language(context, user.id)


async def _allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Is the sender a secretary? If not: say so politely, log it, change nothing."""
    user = update.effective_user
    if is_secretary(context, user):
        return True
    d = deps(context)
    query = update.callback_query
    what = query.data if query else (update.effective_message.text or "")[:40]
    log.warning("refused %r from user %s: not a secretary", what, user.id if user else None)
    language = pick_language(user.language_code if user else None, d.settings.language)
    text = d.i18n.text(language, "error.not_allowed")
    if query is not None:
        await query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    return False


def _kind(d: Deps, language: str, kind: str) -> str:
    return kind_label(d.i18n, language, kind)


def _kind_names(d: Deps) -> dict[str, str]:
    """Every way to name a kind in the one-line form: its key or its name, in any language."""
    names = {}
    for kind in d.settings.mission_kinds:
        names[normalise(kind)] = kind
        for language in LANGUAGES:
            names[normalise(_kind(d, language, kind))] = kind
    return names


def _business(d: Deps, business_id: int) -> Business | None:
    return next(
        (b for b in d.settings.businesses if d.store.business_ids.get(b.slug) == business_id),
        None,
    )


def _business_name(d: Deps, business_id: int) -> str:
    business = _business(d, business_id)
    if business is not None:
        return business.name
    # Dropped from config since: its missions keep their history under its slug.
    return next((s for s, i in d.store.business_ids.items() if i == business_id), "?")


def _business_id(d: Deps, business: Business) -> int:
    return d.store.business_ids[business.slug]


def _office_zone(d: Deps) -> ZoneInfo:
    return ZoneInfo(d.settings.timezone)


def _today(d: Deps, zone: ZoneInfo) -> date:
    return d.clock.now().astimezone(zone).date()


def _int(text: str) -> int:
    if not text.isdigit():
        raise _Stale(text)
    return int(text)


def _day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def _parse_day_code(code: str) -> date:
    try:
        return datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        raise _Stale(code) from None


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def _error_text(d: Deps, language: str, error: InputError) -> str:
    return d.i18n.text(language, error.key, **error.values)


def _business_buttons(d: Deps, prefix: str) -> list[list[tuple[str, str]]]:
    return [[(b.name, f"{prefix}:{_business_id(d, b)}")] for b in d.settings.businesses]


# -- typed steps -----------------------------------------------------------------------------


def _await_text(context: ContextTypes.DEFAULT_TYPE, step: str, **values: object) -> None:
    context.user_data[STEP_KEY] = {"step": step, "at": deps(context).clock.now(), **values}


def _awaited(context: ContextTypes.DEFAULT_TYPE) -> dict | None:
    step = context.user_data.get(STEP_KEY)
    if step is None:
        return None
    if deps(context).clock.now() - step["at"] > STEP_TTL:
        context.user_data.pop(STEP_KEY, None)
        return None
    return step


def _forget(context: ContextTypes.DEFAULT_TYPE) -> None:
    for key in (STEP_KEY, DRAFT_KEY, MERGE_KEY):
        context.user_data.pop(key, None)


async def forget_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command ends a typed step: the secretary moved on (the command itself goes on)."""
    context.user_data.pop(STEP_KEY, None)


async def text_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A secretary's typed text, when one of these flows waits for it; else left to others."""
    step = _awaited(context)
    if step is None or not is_secretary(context, update.effective_user):
        return
    d = deps(context)
    language = _language(context, update.effective_user)
    text = update.effective_message.text
    try:
        await _TEXT_STEPS[step["step"]](update, context, d, language, step, text)
    except InputError as error:
        await update.effective_message.reply_text(_error_text(d, language, error))
    except _Lost:
        _forget(context)
        await update.effective_message.reply_text(d.i18n.text(language, "missions.flow_lost"))
    raise ApplicationHandlerStop


# -- /mission: a new mission -----------------------------------------------------------------


async def new_mission(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/mission`` opens the guided flow; ``/mission <business> <kind> "<what>" [fee] [due]``
    creates it at once."""
    if not await _allowed(update, context):
        return
    d = deps(context)
    language = _language(context, update.effective_user)
    _forget(context)
    command_and_line = (update.effective_message.text or "").split(maxsplit=1)
    if len(command_and_line) == 2:
        await _one_line(update, context, d, language, command_and_line[1])
        return
    context.user_data[DRAFT_KEY] = {}
    if len(d.settings.businesses) == 1:
        await _ask_kind(update, context, d, language, _business_id(d, d.settings.businesses[0]))
        return
    rows = [*_business_buttons(d, "m:nb"), [_abandon_button(d, language)]]
    await reply(update, d.i18n.text(language, "missions.which_business"), keyboard(*rows))


async def _one_line(
    update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, language: str, line: str
) -> None:
    slugs = [b.slug for b in d.settings.businesses]
    try:
        form = parse_mission_line(line, slugs, _kind_names(d), _today(d, _office_zone(d)))
    except InputError as error:
        await update.effective_message.reply_text(_error_text(d, language, error))
        return
    business = d.settings.business(form.slug)
    fee = form.fee if form.fee is not None else d.settings.mission_kinds[form.kind]
    new = NewMission(_business_id(d, business), form.kind, form.description, fee, form.due_on)
    await _create(update, context, d, language, new)


def _abandon_button(d: Deps, language: str) -> tuple[str, str]:
    return (d.i18n.text(language, "missions.abandon"), "m:x")


async def _ask_kind(
    update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, language: str, business_id: int
) -> None:
    context.user_data[DRAFT_KEY] = {"business": business_id}
    labels = [
        (_kind(d, language, kind), f"m:nk:{index}")
        for index, kind in enumerate(d.settings.mission_kinds)
    ]
    rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
    rows.append([_abandon_button(d, language)])
    text = d.i18n.text(language, "missions.which_kind", business=_business_name(d, business_id))
    await reply(update, text, keyboard(*rows))


def _draft(context: ContextTypes.DEFAULT_TYPE, *needed: str) -> dict:
    draft = context.user_data.get(DRAFT_KEY)
    if draft is None or any(key not in draft for key in needed):
        raise _Lost("no mission draft")
    return draft


async def _new_business(update, context, d: Deps, language: str, args: list[str]) -> None:
    business_id = _int(args[0])
    if _business(d, business_id) is None:
        raise _Stale(args[0])
    _draft(context)
    await _ask_kind(update, context, d, language, business_id)


async def _new_kind(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _draft(context, "business")
    kinds = list(d.settings.mission_kinds)
    index = _int(args[0])
    if index >= len(kinds):
        raise _Stale(args[0])
    draft["kind"] = kinds[index]
    _await_text(context, "description")
    text = d.i18n.text(
        language,
        "missions.describe",
        kind=_kind(d, language, draft["kind"]),
        business=_business_name(d, draft["business"]),
    )
    await reply(update, text, keyboard([_abandon_button(d, language)]))


async def _typed_description(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _draft(context, "kind")
    draft["description"] = parse_description(text)
    _await_text(context, "fee")
    fee = d.settings.mission_kinds.get(draft["kind"], 0)
    buttons = keyboard(
        [(d.i18n.text(language, "missions.default_fee", fee=d.i18n.money(language, fee)), "m:nf")],
        [_abandon_button(d, language)],
    )
    await update.effective_message.reply_text(
        d.i18n.text(language, "missions.which_fee"), reply_markup=buttons
    )


async def _default_fee(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _draft(context, "kind", "description")
    fee = d.settings.mission_kinds.get(draft["kind"], 0)
    await _ask_due(update, context, d, language, draft, fee)


async def _typed_fee(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _draft(context, "kind", "description")
    await _ask_due(update, context, d, language, draft, parse_fee(text))


async def _ask_due(update, context, d: Deps, language: str, draft: dict, fee: int) -> None:
    draft["fee"] = fee
    _await_text(context, "due")
    today = _today(d, _office_zone(d))
    choices = (
        ("missions.due_today", today),
        ("missions.due_tomorrow", today + timedelta(days=1)),
        ("missions.due_week", today + timedelta(days=7)),
    )
    rows = [
        [(d.i18n.text(language, key), f"m:nd:{_day_code(day)}") for key, day in choices],
        [(d.i18n.text(language, "missions.due_none"), f"m:nd:{_NONE}")],
        [_abandon_button(d, language)],
    ]
    await reply(update, d.i18n.text(language, "missions.which_due"), keyboard(*rows))


async def _chosen_due(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _draft(context, "fee")
    due = None if args[0] == _NONE else _parse_day_code(args[0])
    await _create_from_draft(update, context, d, language, draft, due)


async def _typed_due(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _draft(context, "fee")
    due = parse_day(text, _today(d, _office_zone(d)), future=True)
    await _create_from_draft(update, context, d, language, draft, due)


async def _create_from_draft(
    update, context, d: Deps, language: str, draft: dict, due: date | None
) -> None:
    new = NewMission(draft["business"], draft["kind"], draft["description"], draft["fee"], due)
    _forget(context)
    await _create(update, context, d, language, new)


async def _create(update, context, d: Deps, language: str, new: NewMission) -> None:
    mission = await d.store.missions.create(new, now=d.clock.now(), actor=update.effective_user.id)
    log.info("secretary %s created mission %s", update.effective_user.id, mission.id)
    text = d.i18n.text(language, "missions.created") + "\n\n" + _card(d, language, mission)
    await reply(update, text, _card_buttons(d, language, mission))


async def _abandon(update, context, d: Deps, language: str, args: list[str]) -> None:
    _forget(context)
    await reply(update, d.i18n.text(language, "missions.abandoned"))


# -- mission cards: /missions, started, done, cancelled --------------------------------------


def _card(d: Deps, language: str, mission: Mission) -> str:
    lines = [
        d.i18n.text(
            language,
            "missions.card",
            id=mission.id,
            business=_business_name(d, mission.business_id),
        ),
        f"{_kind(d, language, mission.kind)} — {mission.description}",
        d.i18n.text(language, "missions.card_fee", fee=d.i18n.money(language, mission.fee)),
    ]
    if mission.due_on:
        lines.append(
            d.i18n.text(language, "missions.card_due", day=d.i18n.day(language, mission.due_on))
        )
    status = d.i18n.text(language, f"mission_status.{mission.status}")
    lines.append(d.i18n.text(language, "missions.card_status", status=status))
    if mission.minutes_spent:
        lines.append(
            d.i18n.text(
                language, "missions.card_minutes", duration=_duration(mission.minutes_spent)
            )
        )
    if mission.locked:
        lines.append(d.i18n.text(language, "missions.card_locked"))
    return "\n".join(lines)


def _card_buttons(d: Deps, language: str, mission: Mission) -> InlineKeyboardMarkup | None:
    row = []
    if mission.status == MissionStatus.OPEN:
        row.append((d.i18n.text(language, "missions.started"), f"m:s:{mission.id}"))
    if mission.status in (MissionStatus.OPEN, MissionStatus.STARTED):
        row.append((d.i18n.text(language, "missions.done"), f"m:d:{mission.id}"))
        row.append((d.i18n.text(language, "missions.cancel"), f"m:c:{mission.id}"))
    return keyboard(row) if row else None


async def list_missions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/missions [business]``: what is open or started, the soonest due first."""
    if not await _allowed(update, context):
        return
    d = deps(context)
    language = _language(context, update.effective_user)
    _forget(context)
    business_id = None
    if context.args:
        business = d.settings.business(context.args[0].lower())
        if business is None:
            known = ", ".join(b.slug for b in d.settings.businesses)
            await update.effective_message.reply_text(
                d.i18n.text(
                    language, "missions.unknown_business", slug=context.args[0], known=known
                )
            )
            return
        business_id = _business_id(d, business)
    missions = await d.store.missions.active(business_id)
    if not missions:
        await update.effective_message.reply_text(d.i18n.text(language, "missions.none_open"))
        return
    header = d.i18n.text(language, "missions.open_count", count=len(missions))
    if len(missions) > LISTED:
        header += "\n" + d.i18n.text(language, "missions.open_first", count=LISTED)
    await update.effective_message.reply_text(header)
    for mission in missions[:LISTED]:
        await update.effective_message.reply_text(
            _card(d, language, mission), reply_markup=_card_buttons(d, language, mission)
        )


async def _mission_change(
    update: Update,
    d: Deps,
    language: str,
    change: Callable[[], Awaitable[Mission]],
    mission_id: int,
) -> Mission | None:
    """Apply a change; when it is refused, say why and show the mission as it is."""
    try:
        return await change()
    except StaleMission as stale:
        status = d.i18n.text(language, f"mission_status.{stale.mission.status}")
        await update.callback_query.answer(
            d.i18n.text(language, "missions.already", status=status), show_alert=True
        )
        await _edit_card(update, d, language, stale.mission)
    except MissionLocked:
        await update.callback_query.answer(
            d.i18n.text(language, "missions.locked"), show_alert=True
        )
    except LookupError:
        raise _Stale(str(mission_id)) from None
    return None


async def _edit_card(update: Update, d: Deps, language: str, mission: Mission) -> None:
    try:
        await update.callback_query.edit_message_text(
            _card(d, language, mission), reply_markup=_card_buttons(d, language, mission)
        )
    except BadRequest as error:
        log.info("mission card not edited: %s", error)


async def _start(update, context, d: Deps, language: str, args: list[str]) -> None:
    mission_id = _int(args[0])
    now = d.clock.now()
    mission = await _mission_change(
        update, d, language, lambda: d.store.missions.start(mission_id, now=now), mission_id
    )
    if mission is not None:
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)


async def _done(update, context, d: Deps, language: str, args: list[str]) -> None:
    mission_id = _int(args[0])
    now = d.clock.now()
    mission = await _mission_change(
        update, d, language, lambda: d.store.missions.finish(mission_id, now=now), mission_id
    )
    if mission is None:
        return
    await update.callback_query.answer()
    log.info("secretary %s finished mission %s", update.effective_user.id, mission.id)
    _forget(context)
    message = update.effective_message
    _await_text(
        context, "minutes", mission=mission.id, chat=message.chat_id, message=message.message_id
    )
    labels = [(_duration(m), f"m:t:{mission.id}:{m}") for m in MINUTE_CHOICES]
    buttons = keyboard(
        labels[:3],
        labels[3:],
        [(d.i18n.text(language, "missions.skip"), f"m:t:{mission.id}:{_NONE}")],
    )
    text = _card(d, language, mission) + "\n\n" + d.i18n.text(language, "missions.ask_minutes")
    await update.callback_query.edit_message_text(text, reply_markup=buttons)


async def _minutes_button(update, context, d: Deps, language: str, args: list[str]) -> None:
    mission_id = _int(args[0])
    step = _awaited(context)
    if step and step.get("mission") == mission_id:
        context.user_data.pop(STEP_KEY, None)
    if args[1] == _NONE:
        mission = await d.store.missions.get(mission_id)
        if mission is None:
            raise _Stale(args[0])
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)
        return
    minutes = _int(args[1])
    mission = await _mission_change(
        update,
        d,
        language,
        lambda: d.store.missions.set_minutes(mission_id, minutes),
        mission_id,
    )
    if mission is not None:
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)


async def _typed_minutes(update, context, d: Deps, language: str, step, text: str) -> None:
    minutes = parse_minutes(text)
    context.user_data.pop(STEP_KEY, None)
    try:
        mission = await d.store.missions.set_minutes(step["mission"], minutes)
    except MissionLocked:
        # Invoiced between the tap on Done and the typed time.
        await update.effective_message.reply_text(d.i18n.text(language, "missions.locked"))
        return
    try:
        # The card loses its time buttons and shows the time instead.
        await context.bot.edit_message_text(
            _card(d, language, mission), chat_id=step["chat"], message_id=step["message"]
        )
    except BadRequest as error:
        log.info("mission card not edited: %s", error)
    await update.effective_message.reply_text(
        d.i18n.text(language, "missions.minutes_saved", duration=_duration(minutes))
    )


async def _ask_cancel(update, context, d: Deps, language: str, args: list[str]) -> None:
    mission = await d.store.missions.get(_int(args[0]))
    if mission is None:
        raise _Stale(args[0])
    await update.callback_query.answer()
    buttons = keyboard(
        [
            (d.i18n.text(language, "missions.cancel_yes"), f"m:cc:{mission.id}"),
            (d.i18n.text(language, "missions.cancel_no"), f"m:k:{mission.id}"),
        ]
    )
    text = _card(d, language, mission) + "\n\n" + d.i18n.text(language, "missions.cancel_ask")
    await update.callback_query.edit_message_text(text, reply_markup=buttons)


async def _cancel(update, context, d: Deps, language: str, args: list[str]) -> None:
    mission_id = _int(args[0])
    now = d.clock.now()
    mission = await _mission_change(
        update, d, language, lambda: d.store.missions.cancel(mission_id, now=now), mission_id
    )
    if mission is not None:
        log.info("secretary %s cancelled mission %s", update.effective_user.id, mission.id)
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)


async def _keep(update, context, d: Deps, language: str, args: list[str]) -> None:
    mission = await d.store.missions.get(_int(args[0]))
    if mission is None:
        raise _Stale(args[0])
    await update.callback_query.answer()
    await _edit_card(update, d, language, mission)


# -- /releve: the month's statement, its CSV, its invoice ------------------------------------


async def statement(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/releve [business] [YYYY-MM]``: the month's done missions (this month by default)."""
    if not await _allowed(update, context):
        return
    d = deps(context)
    language = _language(context, update.effective_user)
    _forget(context)
    try:
        business, month = _statement_arguments(d, list(context.args or []))
    except InputError as error:
        await update.effective_message.reply_text(_error_text(d, language, error))
        return
    if business is None and len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    if business is None:
        text = d.i18n.text(language, "statement.which_business")
        rows = [
            [(b.name, f"m:r:{_business_id(d, b)}:{(month or _current_month(d, b)).code}")]
            for b in d.settings.businesses
        ]
        await update.effective_message.reply_text(text, reply_markup=keyboard(*rows))
        return
    await _send_statement(update, d, language, business, month or _current_month(d, business))


def _statement_arguments(d: Deps, args: list[str]) -> tuple[Business | None, Month | None]:
    """A business's slug and a month, in either order, each optional."""
    if len(args) > 2:
        raise InputError("statement.usage")
    business, month = None, None
    for arg in args:
        found = d.settings.business(arg.lower())
        if found is not None and business is None:
            business = found
        elif month is None and any(c.isdigit() for c in arg):
            month = Month.parse(arg)
        else:
            known = ", ".join(b.slug for b in d.settings.businesses)
            raise InputError("missions.unknown_business", slug=arg, known=known)
    return business, month


def _current_month(d: Deps, business: Business) -> Month:
    return Month.of(_today(d, d.settings.zone(business)))


async def _statement_button(update, context, d: Deps, language: str, args: list[str]) -> None:
    business = _business(d, _int(args[0]))
    if business is None:
        raise _Stale(args[0])
    try:
        month = Month.from_code(args[1])
    except InputError:
        raise _Stale(args[1]) from None
    await update.callback_query.answer()
    await _send_statement(update, d, language, business, month)


async def _send_statement(
    update: Update, d: Deps, language: str, business: Business, month: Month
) -> None:
    business_id = _business_id(d, business)
    zone = d.settings.zone(business)
    first, last = month.bounds(zone)
    missions = await d.store.missions.done_on(business_id, first, last)
    invoices = await d.store.missions.invoices_for(business_id, str(month))
    message = update.effective_message
    text, markup = _statement_text(d, language, business, month, missions, invoices)
    await message.reply_text(text, reply_markup=markup)
    if not missions:
        return
    numbers = {
        line.mission_id: invoice_number(invoice.year, invoice.sequence)
        for invoice in invoices
        for line in invoice.lines
    }
    rows = [
        StatementRow(
            done_on=m.done_at.astimezone(zone).date(),
            kind=_kind(d, language, m.kind),
            description=m.description,
            minutes=m.minutes_spent,
            cents=m.fee,
            invoice=numbers.get(m.id),
        )
        for m in missions
    ]
    headings = [
        d.i18n.text(language, key)
        for key in (
            "statement.col_date",
            "statement.col_kind",
            "statement.col_description",
            "statement.col_minutes",
            "statement.col_amount",
            "statement.col_invoice",
        )
    ]
    data = statement_csv(rows, language=language, headings=headings)
    await message.reply_document(document=data, filename=f"releve-{business.slug}-{month}.csv")
    for invoice in invoices:
        await _send_invoice(message, d, business, invoice)


def _statement_text(
    d: Deps,
    language: str,
    business: Business,
    month: Month,
    missions: list[Mission],
    invoices: list[Invoice],
) -> tuple[str, InlineKeyboardMarkup]:
    title = d.i18n.text(
        language, "statement.title", business=business.name, month=month_label(language, month)
    )
    lines = [title]
    if not missions:
        lines.append(d.i18n.text(language, "statement.none"))
    zone = d.settings.zone(business)
    room = STATEMENT_ROOM
    for shown, mission in enumerate(missions):
        day = short_date(language, mission.done_at.astimezone(zone).date())
        lock = " 🔒" if mission.locked else ""
        line = (
            f"• {day} · {_kind(d, language, mission.kind)} — {mission.description} · "
            f"{d.i18n.money(language, mission.fee)}{lock}"
        )
        room -= len(line) + 1
        if room < 0:
            left = len(missions) - shown
            lines.append(d.i18n.text(language, "statement.more", count=left))
            break
        lines.append(line)
    if missions:
        lines.append("")
        lines.append(d.i18n.text(language, "statement.by_kind"))
        order = list(d.settings.mission_kinds)
        for total in totals_by_kind(((m.kind, m.fee) for m in missions), order):
            lines.append(
                d.i18n.text(
                    language,
                    "statement.kind_line",
                    kind=_kind(d, language, total.kind),
                    count=total.count,
                    total=d.i18n.money(language, total.cents),
                )
            )
        total = sum(m.fee for m in missions)
        lines.append(d.i18n.text(language, "statement.total", total=d.i18n.money(language, total)))
    for invoice in invoices:
        issued = invoice.issued_at.astimezone(_office_zone(d)).date()
        lines.append(
            d.i18n.text(
                language,
                "statement.invoiced",
                number=invoice_number(invoice.year, invoice.sequence),
                date=long_date(language, issued),
                total=d.i18n.money(language, invoice.total),
            )
        )
    business_id = _business_id(d, business)
    unbilled = [m for m in missions if not m.locked]
    rows = []
    if unbilled:
        to_invoice = d.i18n.money(language, sum(m.fee for m in unbilled))
        lines.append(d.i18n.text(language, "statement.to_invoice", total=to_invoice))
        if d.settings.billing is None:
            lines.append(d.i18n.text(language, "statement.no_billing"))
        else:
            label = d.i18n.text(language, "statement.issue")
            rows.append([(label, f"m:i:{business_id}:{month.code}")])
    before, after = month.shift(-1), month.shift(1)
    navigation = [
        (
            d.i18n.text(language, "statement.previous", month=month_label(language, before)),
            f"m:r:{business_id}:{before.code}",
        )
    ]
    if month < _current_month(d, business):
        navigation.append(
            (
                d.i18n.text(language, "statement.next", month=month_label(language, after)),
                f"m:r:{business_id}:{after.code}",
            )
        )
    rows.append(navigation)
    return "\n".join(lines), keyboard(*rows)


async def _issue(update, context, d: Deps, language: str, args: list[str]) -> None:
    """Invoice the month's missions not invoiced yet: a number is taken only here."""
    business = _business(d, _int(args[0]))
    if business is None:
        raise _Stale(args[0])
    try:
        month = Month.from_code(args[1])
    except InputError:
        raise _Stale(args[1]) from None
    query = update.callback_query
    billing = d.settings.billing
    if billing is None:
        await query.answer(d.i18n.text(language, "statement.no_billing"), show_alert=True)
        return
    business_id = _business_id(d, business)
    first, last = month.bounds(d.settings.zone(business))
    now = d.clock.now()
    issued_on = now.astimezone(_office_zone(d)).date()
    invoice = await d.store.missions.issue_invoice(
        business_id,
        period=str(month),
        first=first,
        last=last,
        year=issued_on.year,
        now=now,
        due_on=issued_on + timedelta(days=PAYMENT_DAYS),
        seller=Party(
            name=billing.name,
            address=billing.address,
            siret=billing.siret,
            email=billing.email,
            iban=billing.iban,
            vat_exempt=billing.vat_exempt,
        ),
        client=Party(name=business.name, address=business.address),
    )
    if invoice is None:
        await query.answer(d.i18n.text(language, "statement.nothing_to_invoice"), show_alert=True)
        return
    number = invoice_number(invoice.year, invoice.sequence)
    log.info("secretary %s issued invoice %s", update.effective_user.id, number)
    await query.answer()
    missions = await d.store.missions.done_on(business_id, first, last)
    invoices = await d.store.missions.invoices_for(business_id, str(month))
    text, markup = _statement_text(d, language, business, month, missions, invoices)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        log.info("statement not edited: %s", error)
    await _send_invoice(update.effective_message, d, business, invoice)


async def _send_invoice(message: Message, d: Deps, business: Business, invoice: Invoice) -> None:
    # The invoice speaks the office's language: it goes to the employer.
    language = d.settings.language
    number = invoice_number(invoice.year, invoice.sequence)
    period = Month.parse(invoice.period)
    pdf = await asyncio.to_thread(
        render_pdf,
        invoice,
        i18n=d.i18n,
        language=language,
        zone=_office_zone(d),
        kind_label=lambda kind: _kind(d, language, kind),
        period_label=month_label(language, period),
    )
    caption = d.i18n.text(
        language,
        "invoice.caption",
        number=number,
        business=business.name,
        total=d.i18n.money(language, invoice.total),
    )
    await message.reply_document(document=pdf, filename=f"facture-{number}.pdf", caption=caption)


# -- /gains: earnings ------------------------------------------------------------------------


async def earnings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """This month so far and the last twelve, by business, with last year's where known."""
    if not await _allowed(update, context):
        return
    d = deps(context)
    language = _language(context, update.effective_user)
    _forget(context)
    zone = _office_zone(d)
    today = _today(d, zone)
    current = Month.of(today)
    months = [current.shift(-n) for n in range(MONTHS_SHOWN, -1, -1)]
    # Two years back, a day of margin each side for businesses in other zones.
    first = months[0].shift(-12).bounds(zone)[0] - timedelta(days=1)
    entries = await d.store.missions.earnings(first, d.clock.now() + timedelta(days=1))
    table = earnings_by_month(entries, lambda b: _business_zone(d, b, zone))

    def total(month: Month) -> int:
        return sum(table.get(month, {}).values())

    def money(cents: int) -> str:
        return d.i18n.money(language, cents)

    lines = [d.i18n.text(language, "earnings.title")]
    lines.append(
        d.i18n.text(
            language,
            "earnings.this_month",
            day=d.i18n.day(language, today),
            total=money(total(current)),
        )
    )
    for business_id, cents in sorted(table.get(current, {}).items()):
        lines.append(
            d.i18n.text(
                language,
                "earnings.business_line",
                business=_business_name(d, business_id),
                total=money(cents),
            )
        )
    if total(current.shift(-12)):
        lines.append(
            d.i18n.text(
                language,
                "earnings.last_year",
                month=month_label(language, current.shift(-12)),
                total=money(total(current.shift(-12))),
            )
        )
    past = months[:-1]
    year_total = sum(total(m) for m in past)
    lines.append("")
    lines.append(
        d.i18n.text(
            language,
            "earnings.twelve",
            total=money(year_total),
            average=money(round(year_total / MONTHS_SHOWN)),
        )
    )
    by_business: dict[int, int] = {}
    for month in past:
        for business_id, cents in table.get(month, {}).items():
            by_business[business_id] = by_business.get(business_id, 0) + cents
    for business_id, cents in sorted(by_business.items()):
        lines.append(
            d.i18n.text(
                language,
                "earnings.business_line",
                business=_business_name(d, business_id),
                total=money(cents),
            )
        )
    for month in reversed(past):
        before = month.shift(-12)
        if not total(month) and not total(before):
            continue  # the chart shows the empty months; the list keeps to those that earned
        line = d.i18n.text(
            language,
            "earnings.month_line",
            month=month_label(language, month),
            total=money(total(month)),
        )
        if total(before):
            line += " " + d.i18n.text(
                language,
                "earnings.month_before",
                month=month_label(language, before),
                total=money(total(before)),
            )
        lines.append(line)
    await update.effective_message.reply_text("\n".join(lines))

    businesses = sorted({b for m in months for b in table.get(m, {})})
    png = await asyncio.to_thread(
        render_chart,
        months=[short_month_label(language, m) for m in months],
        series=[
            Series(_business_name(d, b), [table.get(m, {}).get(b, 0) for m in months])
            for b in businesses
        ],
        last_year=[total(m.shift(-12)) or None for m in months],
        title=d.i18n.text(language, "earnings.chart_title"),
        last_year_label=d.i18n.text(language, "earnings.chart_last_year"),
        money=lambda euros: format_currency(
            euros, "EUR", format="#,##0 ¤", locale=language, currency_digits=False
        ),
    )
    await update.effective_message.reply_photo(photo=png, filename=f"gains-{current}.png")


def _business_zone(d: Deps, business_id: int, default: ZoneInfo) -> ZoneInfo:
    business = _business(d, business_id)
    return d.settings.zone(business) if business else default


# -- /publipostage: mail merge ---------------------------------------------------------------


async def mail_merge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Choose a business, an audience, write the text, preview it, send."""
    if not await _allowed(update, context):
        return
    d = deps(context)
    language = _language(context, update.effective_user)
    _forget(context)
    context.user_data[MERGE_KEY] = {}
    if len(d.settings.businesses) == 1:
        await _ask_audience(update, context, d, language, _business_id(d, d.settings.businesses[0]))
        return
    rows = [*_business_buttons(d, "mm:b"), [_merge_abandon_button(d, language)]]
    await reply(update, d.i18n.text(language, "mailmerge.which_business"), keyboard(*rows))


def _merge_abandon_button(d: Deps, language: str) -> tuple[str, str]:
    return (d.i18n.text(language, "missions.abandon"), "mm:x")


def _merge_draft(context: ContextTypes.DEFAULT_TYPE, *needed: str) -> dict:
    draft = context.user_data.get(MERGE_KEY)
    if draft is None or any(key not in draft for key in needed):
        raise _Lost("no mail merge draft")
    return draft


async def _ask_audience(update, context, d: Deps, language: str, business_id: int) -> None:
    context.user_data[MERGE_KEY] = {"business": business_id}
    context.user_data.pop(STEP_KEY, None)
    rows = [
        [(d.i18n.text(language, "mailmerge.audience_all_button"), "mm:a:all")],
        [(d.i18n.text(language, "mailmerge.audience_day_button"), "mm:a:day")],
        [(d.i18n.text(language, "mailmerge.audience_since_button"), "mm:a:since")],
        [_merge_abandon_button(d, language)],
    ]
    text = d.i18n.text(
        language, "mailmerge.which_audience", business=_business_name(d, business_id)
    )
    await reply(update, text, keyboard(*rows))


async def _merge_business(update, context, d: Deps, language: str, args: list[str]) -> None:
    business_id = _int(args[0])
    if _business(d, business_id) is None:
        raise _Stale(args[0])
    await _ask_audience(update, context, d, language, business_id)


async def _merge_audience(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _merge_draft(context, "business")
    try:
        audience = Audience(args[0])
    except ValueError:
        raise _Stale(args[0]) from None
    if audience == Audience.ALL:
        await _audience_chosen(update, context, d, language, draft, AudienceChoice(audience))
        return
    today = _today(d, _merge_zone(d, draft))
    if audience == Audience.DAY:
        _await_text(context, "merge_day")
        choices = [
            ("mailmerge.day_today", today),
            ("mailmerge.day_tomorrow", today + timedelta(days=1)),
            ("mailmerge.day_after", today + timedelta(days=2)),
        ]
        prefix, question = "mm:d", "mailmerge.which_day"
    else:
        _await_text(context, "merge_since")
        choices = [
            ("mailmerge.since_month", today - timedelta(days=30)),
            ("mailmerge.since_quarter", today - timedelta(days=91)),
            ("mailmerge.since_year", today - timedelta(days=365)),
        ]
        prefix, question = "mm:s", "mailmerge.which_since"
    rows = [
        [(d.i18n.text(language, key), f"{prefix}:{_day_code(day)}") for key, day in choices],
        [_merge_abandon_button(d, language)],
    ]
    await reply(update, d.i18n.text(language, question), keyboard(*rows))


def _merge_zone(d: Deps, draft: dict) -> ZoneInfo:
    return _business_zone(d, draft["business"], _office_zone(d))


async def _merge_day_button(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _merge_draft(context, "business")
    choice = AudienceChoice(Audience.DAY, _parse_day_code(args[0]))
    await _audience_chosen(update, context, d, language, draft, choice)


async def _merge_since_button(update, context, d: Deps, language: str, args: list[str]) -> None:
    draft = _merge_draft(context, "business")
    choice = AudienceChoice(Audience.SINCE, _parse_day_code(args[0]))
    await _audience_chosen(update, context, d, language, draft, choice)


async def _typed_merge_day(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _merge_draft(context, "business")
    today = _today(d, _merge_zone(d, draft))
    choice = AudienceChoice(Audience.DAY, parse_day(text, today, future=True))
    await _audience_chosen(update, context, d, language, draft, choice)


async def _typed_merge_since(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _merge_draft(context, "business")
    today = _today(d, _merge_zone(d, draft))
    choice = AudienceChoice(Audience.SINCE, parse_day(text, today, future=False))
    await _audience_chosen(update, context, d, language, draft, choice)


async def _recipients(d: Deps, business_id: int, choice: AudienceChoice) -> list[Recipient]:
    merges = d.store.missions.mail_merges
    zone = _business_zone(d, business_id, _office_zone(d))
    if choice.audience == Audience.ALL:
        return await merges.everyone(business_id)
    if choice.audience == Audience.DAY:
        first, last = day_bounds(choice.day, zone)
        return await merges.booked_between(business_id, first, last)
    first, _ = day_bounds(choice.day, zone)
    return await merges.seen_between(business_id, first, d.clock.now())


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
        context.user_data.pop(STEP_KEY, None)
        buttons = keyboard(
            [(d.i18n.text(language, "mailmerge.other_audience"), f"mm:b:{draft['business']}")],
            [_merge_abandon_button(d, language)],
        )
        await reply(update, d.i18n.text(language, "mailmerge.nobody", audience=audience), buttons)
        return
    draft["audience"] = choice.code
    draft.pop("template", None)
    _await_text(context, "merge_template")
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
    zone = _business_zone(d, business_id, _office_zone(d))
    business = _business_name(d, business_id)
    texts = []
    for recipient in recipients:
        values = {"prenom": recipient.first_name, "cabinet": business}
        if recipient.starts_at is not None:
            local = recipient.starts_at.astimezone(zone)
            values["date"] = d.i18n.day(language, local)
            values["heure"] = d.i18n.time(language, local)
        text = render(pieces, values)
        if len(text) > MAX_MERGE_TEXT:
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
    context.user_data.pop(STEP_KEY, None)
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
    _await_text(context, "merge_template")
    await update.callback_query.answer()
    await update.effective_message.reply_text(d.i18n.text(language, "mailmerge.rewrite"))


async def _merge_abandon(update, context, d: Deps, language: str, args: list[str]) -> None:
    _forget(context)
    await reply(update, d.i18n.text(language, "mailmerge.abandoned"))


async def _merge_go(update, context, d: Deps, language: str, args: list[str]) -> None:
    """Confirmed: the run and its mission are stored at once, then sending starts."""
    draft = _merge_draft(context, "business", "audience", "template")
    _forget(context)
    business_id = draft["business"]
    choice = AudienceChoice.parse(draft["audience"])
    # The audience is read again: someone may have joined since the preview.
    recipients = await _recipients(d, business_id, choice)
    try:
        texts = _texts(d, language, business_id, draft["template"], choice, recipients)
    except InputError as error:
        await reply(update, _error_text(d, language, error))
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
    fee = d.settings.mission_kinds.get(MAIL_MERGE_KIND, 0)
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
        business_name=_business_name(d, merge.business_id),
        keep_going=lambda: application.running,
    )
    await mailmerge.run(job, merge)


async def resume_mail_merges(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start-up: carry on with the runs a stop interrupted."""
    d = deps(context)
    for merge in await d.store.missions.mail_merges.running():
        log.info("resuming mail merge %s", merge.id)
        start_mail_merge(context.application, merge.id)


# -- buttons ---------------------------------------------------------------------------------

ButtonHandler = Callable[..., Awaitable[None]]

_MISSION_BUTTONS: dict[str, tuple[int, ButtonHandler]] = {
    # action: (number of arguments, handler)
    "nb": (1, _new_business),
    "nk": (1, _new_kind),
    "nf": (0, _default_fee),
    "nd": (1, _chosen_due),
    "x": (0, _abandon),
    "s": (1, _start),
    "d": (1, _done),
    "t": (2, _minutes_button),
    "c": (1, _ask_cancel),
    "cc": (1, _cancel),
    "k": (1, _keep),
    "r": (2, _statement_button),
    "i": (2, _issue),
}

_MERGE_BUTTONS: dict[str, tuple[int, ButtonHandler]] = {
    "b": (1, _merge_business),
    "a": (1, _merge_audience),
    "d": (1, _merge_day_button),
    "s": (1, _merge_since_button),
    "e": (0, _merge_edit),
    "x": (0, _merge_abandon),
    "go": (0, _merge_go),
}

_TEXT_STEPS = {
    "description": _typed_description,
    "fee": _typed_fee,
    "due": _typed_due,
    "minutes": _typed_minutes,
    "merge_day": _typed_merge_day,
    "merge_since": _typed_merge_since,
    "merge_template": _typed_template,
}


async def mission_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every ``m:`` button."""
    await _dispatch(update, context, _MISSION_BUTTONS)


async def mail_merge_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every ``mm:`` button."""
    await _dispatch(update, context, _MERGE_BUTTONS)


async def _dispatch(
    update: Update, context: ContextTypes.DEFAULT_TYPE, table: dict[str, tuple[int, ButtonHandler]]
) -> None:
    if not await _allowed(update, context):
        return
    d = deps(context)
    query = update.callback_query
    language = _language(context, update.effective_user)
    _, action, *args = query.data.split(":")
    entry = table.get(action)
    try:
        if entry is None or len(args) != entry[0]:
            raise _Stale(query.data)
        await entry[1](update, context, d, language, args)
    except _Lost as lost:
        log.info(
            "secretary %s: %r after its flow ended (%s)", update.effective_user.id, query.data, lost
        )
        await query.answer(d.i18n.text(language, "missions.flow_lost"), show_alert=True)
    except _Stale as stale:
        log.warning(
            "secretary %s: unusable button %r (%s)", update.effective_user.id, query.data, stale
        )
        await query.answer(d.i18n.text(language, "error.stale_button"), show_alert=True)
    except InputError as error:
        await query.answer()
        await update.effective_message.reply_text(_error_text(d, language, error))
