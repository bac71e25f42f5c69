"""The office acting on any appointment: moving it (to a time the secretary picks, confirmed
at once, or by asking the patient to choose), cancelling it with or without a reason, and
doing either for every appointment a new block hits. What the patient is owed goes through
the outbox with the change; a phone caller is listed for the secretary to call.

``om:<appointment id>`` is the office's move: any secretary button may lead to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks, office, outbox
from bot.agenda import Slot
from bot.booking import Offer
from bot.config import Business
from bot.missions import InputError
from handlers import offers, steps, waitlist
from handlers.common import Deps, appointment_values, deps, keyboard, reply, staff_language
from handlers.delivery import Rendered, Renderer
from handlers.notices import about_appointment
from handlers.staff import (
    answer_stale,
    audit,
    contact_of,
    day_code,
    patient_of,
    require_secretary,
    snapshot,
)
from storage.appointments import HOLDING, AlreadyHeld, Appointment, SlotTaken, StaleStatus
from storage.blocks import Block
from storage.outbox import Message

log = logging.getLogger(__name__)

# A reason is read by the patient in one message: a sentence or two.
REASON_LIMIT = 300
REASON_STEP = "office.reason"


@dataclass(frozen=True)
class OfficeFlow(offers.Flow):
    """The day and time buttons of the office's move (``om:``), not the patient's."""

    def slot(self, epoch: int, practitioner: int) -> str:
        return f"oms:{self.moving}:{epoch}:{practitioner}"

    def day(self, day: date) -> str:
        return f"omd:{self.moving}:{day_code(day)}"

    def week(self, monday: date) -> str:
        return f"omw:{self.moving}:{day_code(monday)}"

    def days(self) -> str:
        return f"om:{self.moving}"


async def _held(
    update: Update, d: Deps, language: str, appointment_id: int
) -> tuple[Appointment, Business] | None:
    """The appointment a secretary's button names, if it still holds its slot; else she is
    told why and None."""
    appointment = await d.store.appointments.get(appointment_id)
    if appointment is None:
        await answer_stale(update, d, language)
        return None
    if appointment.status not in HOLDING:
        await _already(update, d, language, appointment)
        return None
    return appointment, d.booking.business_of(appointment)


async def _already(update: Update, d: Deps, language: str, appointment: Appointment) -> None:
    status = d.i18n.text(language, f"status.{appointment.status}")
    await update.callback_query.answer(
        d.i18n.text(language, "office.already", status=status), show_alert=True
    )


async def _values(d: Deps, language: str, appointment: Appointment) -> dict[str, str]:
    business = d.booking.business_of(appointment)
    who = contact_of(appointment, await patient_of(d, appointment))
    return {"patient": who, **appointment_values(d, language, appointment, business)}


def _tell_or_call(d: Deps, language: str, appointment: Appointment, who: str) -> str:
    """Who tells the patient: the bot, or the secretary on the phone (the number is in the
    text, where Telegram makes it tappable)."""
    if appointment.patient_id is not None:
        return d.i18n.text(language, "office.patient_told")
    return d.i18n.text(language, "office.call_them", patient=who)


# -- one appointment: oa:<id>, what the office may do with it -------------------------------


def actions(d: Deps, language: str, appointment: Appointment) -> list[tuple[str, str]]:
    return [
        (d.i18n.text(language, "office.move"), f"om:{appointment.id}"),
        (d.i18n.text(language, "office.cancel"), f"oc:{appointment.id}"),
    ]


async def appointment_view(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``oa:<id>`` (a line of the agenda): the appointment, with Move, Cancel, the card."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    (appointment_id,) = callbacks.read(update.callback_query.data, "oa")
    held = await _held(update, d, language, appointment_id)
    if held is None:
        return
    appointment, _ = held
    card = (
        f"pat:p:{appointment.patient_id}"
        if appointment.patient_id is not None
        else f"pat:c:{appointment.id}"
    )
    buttons = keyboard(
        actions(d, language, appointment), [(d.i18n.text(language, "office.card"), card)]
    )
    text = d.i18n.text(language, "office.appointment", **await _values(d, language, appointment))
    await update.callback_query.answer()
    await update.effective_message.reply_text(text, reply_markup=buttons)


# -- the office's move: om:<id>, omw:<id>:<monday>, omd:<id>:<day>, oms:<id>:<start>:<index> --


async def move_days(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``om:<id>`` and ``omw:<id>:<monday>``: the days with room for the appointment's
    service, a week at a time, and (for a patient on Telegram) asking them to choose."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    button = callbacks.read(update.callback_query.data, "om", "omw")
    held = await _held(update, d, language, button.args[0])
    if held is None:
        return
    appointment, business = held
    service = business.service(appointment.service)
    values = await _values(d, language, appointment)
    ask = (
        [[(d.i18n.text(language, "office.ask_patient"), f"oma:{appointment.id}")]]
        if appointment.patient_id is not None
        else []
    )
    if service is None:
        await reply(update, d.i18n.text(language, "office.no_slot", **values), keyboard(*ask))
        return
    today = d.booking.today(business)
    last = d.booking.last_day(business)
    if button.route == "omw":
        monday = offers.monday_of(button.args[1])
    else:
        first = await d.booking.days_with_room(business, service, 1)
        monday = offers.monday_of(first[0] if first else today)
    monday = min(max(monday, offers.monday_of(today)), offers.monday_of(last))
    flow = OfficeFlow(service, appointment.id)
    days = await d.booking.days_with_room(
        business, service, first=monday, last=monday + timedelta(days=6)
    )
    rows = [[(d.i18n.short_day(language, day), flow.day(day))] for day in days]
    weeks = []
    if monday > offers.monday_of(today):
        weeks.append(
            (d.i18n.text(language, "offers.previous_week"), flow.week(monday - timedelta(7)))
        )
    if monday + timedelta(days=7) <= last:
        weeks.append((d.i18n.text(language, "offers.next_week"), flow.week(monday + timedelta(7))))
    rows += [weeks] if weeks else []
    week = d.i18n.short_day(language, monday)
    key = "office.move_which_day" if days else "office.move_week_full"
    await reply(update, d.i18n.text(language, key, week=week, **values), keyboard(*ask, *rows))


async def move_day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``omd:<id>:<day>``: that day's free times for the office's move."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    appointment_id, day = callbacks.read(update.callback_query.data, "omd")
    held = await _held(update, d, language, appointment_id)
    if held is None:
        return
    appointment, business = held
    service = business.service(appointment.service)
    if service is None:
        await answer_stale(update, d, language)
        return
    await offers.show_day(update, d, language, business, OfficeFlow(service, appointment.id), day)


async def move_to(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``oms:<id>:<start>:<practitioner>``: moved, confirmed; the patient told."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    appointment_id, start, index = callbacks.read(update.callback_query.data, "oms")
    held = await _held(update, d, language, appointment_id)
    if held is None:
        return
    appointment, business = held
    if index >= len(business.practitioners):
        await answer_stale(update, d, language)
        return
    try:
        moved = await d.booking.move_by_office(
            appointment, start, business.practitioners[index], actor=user.id
        )
    except StaleStatus as stale:
        await _already(update, d, language, stale.appointment)
        return
    except (SlotTaken, AlreadyHeld, ValueError) as error:
        log.info("secretary %s could not move %s to %s: %s", user.id, appointment.id, start, error)
        await update.callback_query.answer(
            d.i18n.text(language, "office.slot_gone"), show_alert=True
        )
        return
    log.info("secretary %s moved appointment %s", user.id, moved.id)
    await audit(
        d,
        user.id,
        "appointment.move",
        f"appointment:{moved.id}",
        snapshot(appointment),
        snapshot(moved),
    )
    values = await _values(d, language, moved)
    text = "\n".join(
        [
            d.i18n.text(language, "office.moved", **values),
            _tell_or_call(d, language, moved, values["patient"]),
        ]
    )
    await reply(update, text)
    await waitlist.offer_freed(context)


async def ask_patient(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``oma:<id>``: the patient is sent free times to choose from, each with its day."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    (appointment_id,) = callbacks.read(update.callback_query.data, "oma")
    held = await _held(update, d, language, appointment_id)
    if held is None:
        return
    appointment, _ = held
    values = await _values(d, language, appointment)
    try:
        await office.ask_to_choose(d.booking, appointment, actor=user.id, reason=None)
    except StaleStatus as stale:
        await _already(update, d, language, stale.appointment)
        return
    except ValueError as error:
        log.info(
            "secretary %s: appointment %s not offered anew: %s", user.id, appointment.id, error
        )
        await reply(update, d.i18n.text(language, "office.no_slot", **values))
        return
    await audit(d, user.id, "appointment.ask_move", f"appointment:{appointment.id}", None, None)
    await reply(update, d.i18n.text(language, "office.asked", **values))


# -- the office's cancel: oc:<id>, then a typed reason or ocn:<id> (none) ---------------------


async def ask_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``oc:<id>``: the secretary may type a reason for the patient, or tap "no reason"."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    (appointment_id,) = callbacks.read(update.callback_query.data, "oc")
    held = await _held(update, d, language, appointment_id)
    if held is None:
        return
    appointment, _ = held
    steps.await_text(context, REASON_STEP, appointment=appointment.id)
    buttons = keyboard([(d.i18n.text(language, "office.no_reason"), f"ocn:{appointment.id}")])
    values = await _values(d, language, appointment)
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        d.i18n.text(language, "office.cancel_why", **values), reply_markup=buttons
    )


async def cancel_without_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ocn:<id>``: cancelled, the patient told without a reason."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    (appointment_id,) = callbacks.read(update.callback_query.data, "ocn")
    step = steps.awaited(context)
    if step is not None and step["step"] == REASON_STEP:
        steps.forget(context)
    text = await _cancel(update, d, language, appointment_id, None)
    if text is not None:
        await reply(update, text)
        await waitlist.offer_freed(context)


async def _typed_reason(update, context, d: Deps, language: str, step, text: str) -> None:
    reason = " ".join(text.split())
    if len(reason) > REASON_LIMIT:
        raise InputError("office.reason_too_long", limit=REASON_LIMIT)
    steps.forget(context)
    done = await _cancel(update, d, language, step["appointment"], reason or None)
    if done is not None:
        await update.effective_message.reply_text(done)
        await waitlist.offer_freed(context)


async def _cancel(
    update: Update, d: Deps, language: str, appointment_id: int, reason: str | None
) -> str | None:
    """Cancel for the office; the answer to show, or None when she was told it could not."""
    user = update.effective_user
    before = await d.store.appointments.get(appointment_id)
    try:
        cancelled = await d.booking.cancel_by_office(appointment_id, actor=user.id, reason=reason)
    except StaleStatus as stale:
        status = d.i18n.text(language, f"status.{stale.appointment.status}")
        text = d.i18n.text(language, "office.already", status=status)
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await update.effective_message.reply_text(text)
        return None
    except LookupError:
        log.warning("secretary %s cancelled unknown appointment %s", user.id, appointment_id)
        if update.callback_query is not None:
            await answer_stale(update, d, language)
        return None
    log.info("secretary %s cancelled appointment %s", user.id, cancelled.id)
    await audit(
        d,
        user.id,
        "appointment.cancel",
        f"appointment:{cancelled.id}",
        snapshot(before),
        snapshot(cancelled),
    )
    values = await _values(d, language, cancelled)
    return "\n".join(
        [
            d.i18n.text(language, "office.cancelled", **values),
            _tell_or_call(d, language, cancelled, values["patient"]),
        ]
    )


TEXT_STEPS: dict[str, steps.StepHandler] = {REASON_STEP: _typed_reason}


# -- what a new block hits: blk:ask:<block id>, blk:cx:<block id> -----------------------------


def hits_text(d: Deps, language: str, hits: list[tuple[Appointment, str]]) -> list[str]:
    """The appointments a block hits, each with its day, time, patient and service."""
    lines = [d.i18n.text(language, "office.block_hits", count=len(hits))]
    for appointment, who in hits:
        business = d.booking.business_of(appointment)
        values = appointment_values(d, language, appointment, business)
        lines.append(d.i18n.text(language, "office.block_hit_line", who=who, **values))
    return lines


def hits_buttons(d: Deps, language: str, block: Block) -> list[list[tuple[str, str]]]:
    return [
        [(d.i18n.text(language, "office.block_ask_all"), f"blk:ask:{block.id}")],
        [(d.i18n.text(language, "office.block_cancel_all"), f"blk:cx:{block.id}")],
    ]


async def block_hits(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every appointment still inside a block: each patient asked to choose a new time
    (``blk:ask``) or cancelled with the block's reason (``blk:cx``); one transaction each.
    Phone callers are listed, with their numbers, for the secretary to call."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    button = callbacks.read(update.callback_query.data, "blk:ask", "blk:cx")
    (block_id,) = button
    block = await d.store.blocks.get(block_id)
    if block is None or block.removed_at is not None:
        await update.callback_query.answer(
            d.i18n.text(language, "block.already_lifted"), show_alert=True
        )
        return
    cancelling = button.route == "blk:cx"
    done, to_call, no_slot = 0, [], []
    for appointment in await office.hit_by(d.booking, await d.store.blocks.series(block)):
        who = contact_of(appointment, await patient_of(d, appointment))
        values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
        line = d.i18n.text(language, "office.block_hit_line", who=who, **values)
        try:
            if cancelling:
                await d.booking.cancel_by_office(appointment.id, actor=user.id, reason=block.reason)
            elif appointment.patient_id is not None:
                await office.ask_to_choose(
                    d.booking, appointment, actor=user.id, reason=block.reason
                )
        except StaleStatus:
            continue  # changed meanwhile (the patient moved it): nothing left to do
        except ValueError as error:
            log.info(
                "block %s: appointment %s not offered anew: %s", block.id, appointment.id, error
            )
            no_slot.append(line)
            continue
        if appointment.patient_id is None:
            to_call.append(line)
        else:
            done += 1
        action = "appointment.cancel" if cancelling else "appointment.ask_move"
        await audit(d, user.id, action, f"appointment:{appointment.id}", None, {"block": block.id})
    key = "office.block_cancelled" if cancelling else "office.block_asked"
    lines = [d.i18n.text(language, key, count=done)]
    if to_call:
        lines += [d.i18n.text(language, "office.block_to_call"), *to_call]
    if no_slot:
        lines += [d.i18n.text(language, "office.block_no_slot"), *no_slot]
    await update.callback_query.answer()
    await update.effective_message.reply_text("\n".join(lines))


# -- renderers: what the patient is told ------------------------------------------------------


async def _cancelled(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    about = await about_appointment(context, message)
    if about is None:
        return None
    d, language, _, _, values = about
    text = d.i18n.text(language, "office.patient_cancelled", **values)
    if message.payload.get("reason"):
        text += "\n" + d.i18n.text(language, "office.reason_line", reason=message.payload["reason"])
    buttons = keyboard([(d.i18n.text(language, "patient.choose_another"), "book")])
    return Rendered(text, buttons)


async def _moved(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    about = await about_appointment(context, message)
    if about is None:
        return None
    d, language, _, business, values = about
    before = d.booking.local(business, datetime.fromtimestamp(message.payload["before"], UTC))
    text = d.i18n.text(
        language,
        "office.patient_moved",
        before_day=d.i18n.day(language, before),
        before_time=d.i18n.time(language, before),
        **values,
    )
    return Rendered(text)


async def _ask_move(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """Free times to choose from, each with its day; the patient's own move buttons, so
    that a tap moves the appointment as any move of theirs does."""
    about = await about_appointment(context, message)
    if about is None:
        return None
    d, language, appointment, business, values = about
    service = business.service(appointment.service)
    if service is None:
        return None
    starts = [
        (d.booking.local(business, datetime.fromtimestamp(epoch, UTC)), index)
        for epoch, index in message.payload["slots"]
        if index < len(business.practitioners)
    ]
    duration = timedelta(minutes=service.duration)
    slots = [Slot(start, start + duration, business.practitioners[i]) for start, i in starts]
    text = d.i18n.text(language, "office.patient_ask", **values)
    if message.payload.get("reason"):
        text += "\n" + d.i18n.text(language, "office.reason_line", reason=message.payload["reason"])
    flow = offers.Flow(service, moving=appointment.id)
    markup = offers.offer_keyboard(d, language, business, flow, Offer(slots, exact=False))
    return Rendered(text, markup)


RENDERERS: dict[str, Renderer] = {
    outbox.OFFICE_CANCELLED: _cancelled,
    outbox.OFFICE_MOVED: _moved,
    outbox.OFFICE_ASK_MOVE: _ask_move,
}
