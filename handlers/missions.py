"""/mission and /missions: the jobs the secretary does for her employers, each from its
creation to done (with the time it took) or cancelled.

A new mission is written in one line, or step by step (business, kind, description, fee, due
day) with its draft kept between the steps (``handlers.steps``). Its buttons are ``m:``,
a prefix the statements' buttons share (``handlers.statements``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.i18n import LANGUAGES
from bot.missions import (
    InputError,
    normalise,
    parse_day,
    parse_description,
    parse_fee,
    parse_minutes,
    parse_mission_line,
)
from handlers import lookups, steps
from handlers.common import Deps, deps, keyboard, reply
from handlers.staff import audit, business_slugs
from storage.missions import (
    Mission,
    MissionBusy,
    MissionLocked,
    MissionStatus,
    NewMission,
    StaleMission,
)

log = logging.getLogger(__name__)

LISTED = 20  # mission cards shown by /missions
MINUTE_CHOICES = (15, 30, 45, 60, 90, 120)
_NONE = "-"


def _kind_names(d: Deps) -> dict[str, str]:
    """Every way to name a kind in the one-line form: its key or its name, in any language."""
    names = {}
    for kind in d.settings.mission_kinds:
        names[normalise(kind)] = kind
        for language in LANGUAGES:
            names[normalise(lookups.kind_name(d, language, kind))] = kind
    return names


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


# -- /mission: a new mission -----------------------------------------------------------------


async def new_mission(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/mission`` opens the guided flow; ``/mission <business> <kind> "<what>" [fee] [due]``
    creates it at once."""
    if not await steps.allowed(update, context):
        return
    d = deps(context)
    language = steps.language_of(context, update.effective_user)
    steps.forget(context)
    command_and_line = (update.effective_message.text or "").split(maxsplit=1)
    if len(command_and_line) == 2:
        await _one_line(update, context, d, language, command_and_line[1])
        return
    context.user_data[steps.DRAFT_KEY] = {}
    if len(d.settings.businesses) == 1:
        await _ask_kind(
            update, context, d, language, lookups.business_id(d, d.settings.businesses[0])
        )
        return
    text = d.i18n.text(language, "missions.which_business")
    await reply(update, text, _business_picker(d, language, 0))


def _business_picker(d: Deps, language: str, page: int) -> InlineKeyboardMarkup:
    rows = lookups.business_buttons(d, language, "m:nb", page)
    return keyboard(*rows, [_abandon_button(d, language)])


async def _new_business_page(update, context, d: Deps, language: str, args: list) -> None:
    """``m:nbp:<page>``: another page of the businesses, in place, while the draft waits."""
    (page,) = args
    _draft(context)
    text = d.i18n.text(language, "missions.which_business")
    await reply(update, text, _business_picker(d, language, page))


async def _one_line(
    update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, language: str, line: str
) -> None:
    slugs = [b.slug for b in d.settings.businesses]
    try:
        form = parse_mission_line(
            line, slugs, _kind_names(d), lookups.today(d, lookups.office_zone(d))
        )
    except InputError as error:
        await update.effective_message.reply_text(steps.error_text(d, language, error))
        return
    business = d.settings.business(form.slug)
    fee = form.fee if form.fee is not None else d.settings.mission_kinds[form.kind]
    new = NewMission(
        lookups.business_id(d, business), form.kind, form.description, fee, form.due_on
    )
    await _create(update, context, d, language, new)


def _abandon_button(d: Deps, language: str) -> tuple[str, str]:
    return (d.i18n.text(language, "missions.abandon"), "m:x")


async def _ask_kind(
    update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, language: str, business_id: int
) -> None:
    context.user_data[steps.DRAFT_KEY] = {"business": business_id}
    labels = [
        (lookups.kind_name(d, language, kind), f"m:nk:{index}")
        for index, kind in enumerate(d.settings.mission_kinds)
    ]
    rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
    rows.append([_abandon_button(d, language)])
    text = d.i18n.text(
        language, "missions.which_kind", business=lookups.business_name(d, business_id)
    )
    await reply(update, text, keyboard(*rows))


def _draft(context: ContextTypes.DEFAULT_TYPE, *needed: str) -> dict:
    return steps.draft(context, steps.DRAFT_KEY, *needed)


async def _new_business(update, context, d: Deps, language: str, args: list) -> None:
    (business_id,) = args
    if lookups.business_by_id(d, business_id) is None:
        raise steps.Stale(str(business_id))
    _draft(context)
    await _ask_kind(update, context, d, language, business_id)


async def _new_kind(update, context, d: Deps, language: str, args: list) -> None:
    draft = _draft(context, "business")
    kinds = list(d.settings.mission_kinds)
    (index,) = args
    if index >= len(kinds):
        raise steps.Stale(str(index))
    draft["kind"] = kinds[index]
    steps.await_text(context, "description")
    text = d.i18n.text(
        language,
        "missions.describe",
        kind=lookups.kind_name(d, language, draft["kind"]),
        business=lookups.business_name(d, draft["business"]),
    )
    await reply(update, text, keyboard([_abandon_button(d, language)]))


async def _typed_description(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _draft(context, "kind")
    draft["description"] = parse_description(text)
    steps.await_text(context, "fee")
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
    steps.await_text(context, "due")
    today = lookups.today(d, lookups.office_zone(d))
    choices = (
        ("missions.due_today", today),
        ("missions.due_tomorrow", today + timedelta(days=1)),
        ("missions.due_week", today + timedelta(days=7)),
    )
    rows = [
        [(d.i18n.text(language, key), f"m:nd:{steps.day_code(day)}") for key, day in choices],
        [(d.i18n.text(language, "missions.due_none"), f"m:nd:{_NONE}")],
        [_abandon_button(d, language)],
    ]
    await reply(update, d.i18n.text(language, "missions.which_due"), keyboard(*rows))


async def _chosen_due(update, context, d: Deps, language: str, args: list) -> None:
    draft = _draft(context, "fee")
    (due,) = args
    await _create_from_draft(update, context, d, language, draft, due)


async def _typed_due(update, context, d: Deps, language: str, step, text: str) -> None:
    draft = _draft(context, "fee")
    due = parse_day(text, lookups.today(d, lookups.office_zone(d)), future=True)
    await _create_from_draft(update, context, d, language, draft, due)


async def _create_from_draft(
    update, context, d: Deps, language: str, draft: dict, due: date | None
) -> None:
    new = NewMission(draft["business"], draft["kind"], draft["description"], draft["fee"], due)
    steps.forget(context)
    await _create(update, context, d, language, new)


async def _create(update, context, d: Deps, language: str, new: NewMission) -> None:
    mission = await d.store.missions.create(new, now=d.clock.now(), actor=update.effective_user.id)
    log.info("secretary %s created mission %s", update.effective_user.id, mission.id)
    await _audit(update, d, "mission.create", mission)
    text = d.i18n.text(language, "missions.created") + "\n\n" + _card(d, language, mission)
    await reply(update, text, _card_buttons(d, language, mission))


async def _abandon(update, context, d: Deps, language: str, args: list[str]) -> None:
    steps.forget(context)
    await reply(update, d.i18n.text(language, "missions.abandoned"))


# -- mission cards: /missions, started, done, cancelled --------------------------------------


def _card(d: Deps, language: str, mission: Mission) -> str:
    lines = [
        d.i18n.text(
            language,
            "missions.card",
            id=mission.id,
            business=lookups.business_name(d, mission.business_id),
        ),
        f"{lookups.kind_name(d, language, mission.kind)} — {mission.description}",
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
    if not await steps.allowed(update, context):
        return
    d = deps(context)
    language = steps.language_of(context, update.effective_user)
    steps.forget(context)
    business_id = None
    if context.args:
        business = d.settings.business(context.args[0].lower())
        if business is None:
            known = business_slugs(d, language)
            await update.effective_message.reply_text(
                d.i18n.text(
                    language, "missions.unknown_business", slug=context.args[0], known=known
                )
            )
            return
        business_id = lookups.business_id(d, business)
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
    except MissionBusy:
        await update.callback_query.answer(
            d.i18n.text(language, "missions.still_sending"), show_alert=True
        )
    except LookupError:
        raise steps.Stale(str(mission_id)) from None
    return None


async def _audit(update: Update, d: Deps, action: str, mission: Mission) -> None:
    """The mission as it is after the change: the employer's journal tells of it."""
    after = {
        "business_id": mission.business_id,
        "kind": mission.kind,
        "description": mission.description,
        "fee": mission.fee,
        "status": mission.status,
    }
    await audit(
        d,
        update.effective_user.id,
        action,
        f"mission:{mission.id}",
        None,
        after,
    )


async def _edit_card(update: Update, d: Deps, language: str, mission: Mission) -> None:
    try:
        await update.callback_query.edit_message_text(
            _card(d, language, mission), reply_markup=_card_buttons(d, language, mission)
        )
    except BadRequest as error:
        log.info("mission card not edited: %s", error)


async def _start(update, context, d: Deps, language: str, args: list) -> None:
    (mission_id,) = args
    now = d.clock.now()
    mission = await _mission_change(
        update, d, language, lambda: d.store.missions.start(mission_id, now=now), mission_id
    )
    if mission is not None:
        await _audit(update, d, "mission.start", mission)
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)


async def _done(update, context, d: Deps, language: str, args: list) -> None:
    (mission_id,) = args
    now = d.clock.now()
    mission = await _mission_change(
        update, d, language, lambda: d.store.missions.finish(mission_id, now=now), mission_id
    )
    if mission is None:
        return
    log.info("secretary %s finished mission %s", update.effective_user.id, mission.id)
    await _audit(update, d, "mission.done", mission)
    steps.forget(context)
    message = update.effective_message
    steps.await_text(
        context, "minutes", mission=mission.id, chat=message.chat_id, message=message.message_id
    )
    labels = [(_duration(m), f"m:t:{mission.id}:{m}") for m in MINUTE_CHOICES]
    buttons = keyboard(
        labels[:3],
        labels[3:],
        [(d.i18n.text(language, "missions.skip"), f"m:t:{mission.id}:{_NONE}")],
    )
    text = _card(d, language, mission) + "\n\n" + d.i18n.text(language, "missions.ask_minutes")
    await reply(update, text, buttons)


async def _minutes_button(update, context, d: Deps, language: str, args: list) -> None:
    mission_id, minutes = args
    step = steps.awaited(context)
    if step and step.get("mission") == mission_id:
        context.user_data.pop(steps.STEP_KEY, None)
    if minutes is None:
        mission = await d.store.missions.get(mission_id)
        if mission is None:
            raise steps.Stale(str(mission_id))
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)
        return
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
    context.user_data.pop(steps.STEP_KEY, None)
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


async def _ask_cancel(update, context, d: Deps, language: str, args: list) -> None:
    (mission_id,) = args
    mission = await d.store.missions.get(mission_id)
    if mission is None:
        raise steps.Stale(str(mission_id))
    buttons = keyboard(
        [
            (d.i18n.text(language, "missions.cancel_yes"), f"m:cc:{mission.id}"),
            (d.i18n.text(language, "missions.cancel_no"), f"m:k:{mission.id}"),
        ]
    )
    text = _card(d, language, mission) + "\n\n" + d.i18n.text(language, "missions.cancel_ask")
    await reply(update, text, buttons)


async def _cancel(update, context, d: Deps, language: str, args: list) -> None:
    (mission_id,) = args
    now = d.clock.now()
    mission = await _mission_change(
        update, d, language, lambda: d.store.missions.cancel(mission_id, now=now), mission_id
    )
    if mission is not None:
        log.info("secretary %s cancelled mission %s", update.effective_user.id, mission.id)
        await _audit(update, d, "mission.cancel", mission)
        await update.callback_query.answer()
        await _edit_card(update, d, language, mission)


async def _keep(update, context, d: Deps, language: str, args: list) -> None:
    (mission_id,) = args
    mission = await d.store.missions.get(mission_id)
    if mission is None:
        raise steps.Stale(str(mission_id))
    await update.callback_query.answer()
    await _edit_card(update, d, language, mission)


BUTTONS: dict[str, tuple[int, steps.StepHandler]] = {
    "nb": (1, _new_business),
    "nbp": (1, _new_business_page),
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
}

TEXT_STEPS: dict[str, steps.StepHandler] = {
    "description": _typed_description,
    "fee": _typed_fee,
    "due": _typed_due,
    "minutes": _typed_minutes,
}
