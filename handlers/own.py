"""Patients' own appointments: their list, cancelling, moving, saying they will come, and
answering a time the office proposed instead.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks, office, outbox
from bot.agenda import Wanted
from bot.config import Business
from bot.nlu import BookingRequest, Intent
from handlers import late, offers, series, waitlist
from handlers.common import Deps, appointment_values, deps, keyboard, person, reply, stale_button
from storage.appointments import HOLDING, AlreadyHeld, Appointment, SlotTaken, StaleStatus, Status
from storage.people import Person

log = logging.getLogger(__name__)

Flow = offers.Flow
# The soonest appointments a patient's list shows: the list is one message, edited in place.
LISTED = 20


async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    patient = await person(update, context)
    await reply(update, await appointments_text(d, patient), await waitlist.list_markup(d, patient))


async def appointments_text(d: Deps, patient: Person) -> str:
    language = patient.language
    upcoming = await d.booking.upcoming(patient.telegram_id)
    waiting = await waitlist.lines(d, patient)
    lines = [d.i18n.text(language, "patient.yours" if upcoming else "patient.none")]
    for item in series.grouped(upcoming[:LISTED]):
        if isinstance(item, list):  # the occurrences of one series, shown as one
            lines += await series.series_lines(d, language, item)
            continue
        appointment = item
        values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
        status = d.i18n.text(language, f"status.{appointment.status}")
        lines.append(d.i18n.text(language, "patient.line", status=status, **values))
    if len(upcoming) > LISTED:
        lines.append(d.i18n.text(language, "patient.more", count=len(upcoming) - LISTED))
    if waiting:
        lines += ["", *waiting]
    return "\n".join(lines)


# -- cancel, move, confirm attendance ----------------------------------------------------------

INTENTS = (Intent.CANCEL, Intent.RESCHEDULE, Intent.CONFIRM)
# The button each intent puts on an appointment when the patient must say which one.
_PICK = {Intent.CANCEL: "cx", Intent.RESCHEDULE: "mv", Intent.CONFIRM: "att"}


def _appointment_label(d: Deps, language: str, appointment: Appointment) -> str:
    business = d.booking.business_of(appointment)
    local = d.booking.local(business, appointment.starts_at)
    service = business.service(appointment.service)
    name = service.name_in(language) if service else appointment.service
    return f"{d.i18n.short_day(language, local)} {d.i18n.time(language, local)} · {name}"


async def act_on_own(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    patient: Person,
    business: Business,
    request: BookingRequest,
) -> None:
    """Cancel, move or confirm: the day named (or the old day of a move) picks which."""
    d = deps(context)
    language = patient.language
    day = request.old_day if request.intent == Intent.RESCHEDULE else request.day_from
    last = day if request.intent == Intent.RESCHEDULE else request.day_to
    candidates = await d.booking.upcoming(patient.telegram_id, day, last)
    if not candidates and day is not None:
        candidates = await d.booking.upcoming(patient.telegram_id)
    if not candidates:
        await update.effective_message.reply_text(
            d.i18n.text(language, "patient.none"), reply_markup=offers.menu(d, language)
        )
        return
    if len(candidates) > 1:
        prefix = _PICK[request.intent]
        rows = [[(_appointment_label(d, language, a), f"{prefix}:{a.id}")] for a in candidates]
        await update.effective_message.reply_text(
            d.i18n.text(language, "patient.which_appointment"), reply_markup=keyboard(*rows)
        )
        return
    (appointment,) = candidates
    if request.intent == Intent.CANCEL:
        await _ask_cancel(update, d, language, appointment)
    elif request.intent == Intent.CONFIRM:
        await _confirm_attendance(update, d, language, appointment)
    elif await _too_late(d, appointment):
        await late.warn_office(update, d, patient, appointment, outbox.WANTS_MOVE)
    else:
        # The appointment's own business: the patient may have followed another link since.
        business = d.booking.business_of(appointment)
        service = business.service(appointment.service)
        if service is None:
            await update.effective_message.reply_text(
                d.i18n.text(language, "patient.cannot_move"), reply_markup=offers.menu(d, language)
            )
            return
        flow = Flow(service, moving=appointment.id)
        if request.day_from is None and request.time_from is None:
            await offers.show_days(update, d, language, business, flow)
            return
        if request.day_from is None:
            # "plutôt à 15h": the new time, on the appointment's own day.
            old_day = d.booking.local(business, appointment.starts_at).date()
            request = replace(request, day_from=old_day, day_to=old_day)
        wanted = Wanted(
            request.day_from,
            request.day_to,
            request.time_from,
            request.time_to,
            request.practitioner,
        )
        await offers.offer_wanted(update, d, language, business, flow, wanted)


async def _own_appointment(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Person, Appointment] | None:
    """The appointment a button names, if it is the tapper's own and still holds its slot."""
    d = deps(context)
    patient = await person(update, context)
    appointment_id = callbacks.read(update.callback_query.data, *_OWN_BUTTONS).args[0]
    appointment = await d.store.appointments.get(appointment_id)
    if appointment is None or appointment.patient_id != patient.telegram_id:
        log.warning(
            "user %s tapped %r for an appointment that is not theirs",
            patient.telegram_id,
            update.callback_query.data,
        )
        await stale_button(update, context)
        return None
    if appointment.status not in HOLDING:
        status = d.i18n.text(patient.language, f"status.{appointment.status}")
        await reply(update, d.i18n.text(patient.language, "patient.already", status=status))
        return None
    return patient, appointment


# The buttons that name one of the patient's own appointments, its id first.
_OWN_BUTTONS = ("cx", "cxy", "att", "mv", "mvd", "mvw", "mvs")


async def _own_in_time(
    update: Update, context: ContextTypes.DEFAULT_TYPE, wants: str
) -> tuple[Person, Appointment] | None:
    """The tapper's own appointment, if it may still be cancelled or moved (``wants``)
    online; inside the notice the office is asked instead, and None returned."""
    own = await _own_appointment(update, context)
    if own is None:
        return None
    patient, appointment = own
    d = deps(context)
    if await _too_late(d, appointment):
        await late.warn_office(update, d, patient, appointment, wants)
        return None
    return own


async def _too_late(d: Deps, appointment: Appointment) -> bool:
    """A confirmed appointment inside the notice: changing it is the office's call. A request
    not yet confirmed is not one the office counts on: the patient may still withdraw it; nor
    is a move the office itself asked the patient to choose."""
    return (
        appointment.status == Status.CONFIRMED
        and d.booking.within_notice(appointment)
        and not await office.asked_to_choose(d.booking, appointment)
    )


async def _ask_cancel(update: Update, d: Deps, language: str, appointment: Appointment) -> None:
    values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
    buttons = keyboard(
        [
            (d.i18n.text(language, "patient.cancel_yes"), f"cxy:{appointment.id}"),
            (d.i18n.text(language, "patient.cancel_no"), "mine"),
        ],
        *series.cancel_rest_row(d, language, appointment),
    )
    await reply(update, d.i18n.text(language, "patient.cancel_sure", **values), buttons)


async def _confirm_attendance(
    update: Update, d: Deps, language: str, appointment: Appointment
) -> None:
    appointment = await d.booking.confirm_attendance(appointment.id)
    values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
    await reply(update, d.i18n.text(language, "patient.attendance_confirmed", **values))


async def ask_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``cx:<id>``: which appointment to cancel is known; one more tap to be sure."""
    own = await _own_appointment(update, context)
    if own is not None:
        patient, appointment = own
        await _ask_cancel(update, deps(context), patient.language, appointment)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``cxy:<id>``: cancelled, the slot freed, the office told."""
    own = await _own_in_time(update, context, outbox.WANTS_CANCEL)
    if own is None:
        return
    patient, appointment = own
    d = deps(context)
    appointment = await d.booking.cancel(appointment.id, actor=patient.telegram_id)
    business = d.booking.business_of(appointment)
    values = appointment_values(d, patient.language, appointment, business)
    await reply(
        update,
        d.i18n.text(patient.language, "patient.cancelled", **values),
        offers.menu(d, patient.language),
    )
    await waitlist.offer_freed(context)


async def confirm_attendance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``att:<id>``: the patient will come (a reminder's button, or a pick in a list)."""
    own = await _own_appointment(update, context)
    if own is not None:
        patient, appointment = own
        await _confirm_attendance(update, deps(context), patient.language, appointment)


async def move_days(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``mv:<id>``: the days that still have room for the appointment's service; and
    ``mvw:<id>:<monday>``, another week of them."""
    own = await _own_in_time(update, context, outbox.WANTS_MOVE)
    if own is None:
        return
    patient, appointment = own
    d = deps(context)
    business = d.booking.business_of(appointment)
    service = business.service(appointment.service)
    if service is None:
        await reply(update, d.i18n.text(patient.language, "patient.cannot_move"))
        return
    button = callbacks.read(update.callback_query.data, "mv", "mvw")
    monday = button.args[1] if button.route == "mvw" else None
    await offers.show_days(
        update, d, patient.language, business, Flow(service, appointment.id), monday
    )


async def move_day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``mvd:<id>:<YYYYMMDD>``: the free times of that day for the move."""
    own = await _own_in_time(update, context, outbox.WANTS_MOVE)
    if own is None:
        return
    patient, appointment = own
    d = deps(context)
    business = d.booking.business_of(appointment)
    flow = Flow(business.service(appointment.service), appointment.id)
    _, day = callbacks.read(update.callback_query.data, "mvd")
    await offers.show_day(update, d, patient.language, business, flow, day)


async def move_to(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``mvs:<id>:<epoch>:<practitioner>``: the tap moves the appointment."""
    own = await _own_in_time(update, context, outbox.WANTS_MOVE)
    if own is None:
        return
    patient, appointment = own
    d = deps(context)
    language = patient.language
    business = d.booking.business_of(appointment)
    _, start, index = callbacks.read(update.callback_query.data, "mvs")
    if index >= len(business.practitioners):
        await stale_button(update, context)
        return
    try:
        moved = await d.booking.move(
            appointment, start, business.practitioners[int(index)], actor=patient.telegram_id
        )
    except AlreadyHeld as held:
        await offers.already_holding(update, d, language, held.appointment)
        return
    except (SlotTaken, ValueError) as error:
        log.info("patient %s could not move to %s: %s", patient.telegram_id, start, error)
        flow = Flow(business.service(appointment.service), appointment.id)
        await offers.offer_instead(update, d, language, business, flow, start, error)
        return
    values = appointment_values(d, language, moved, business)
    key = "patient.move_requested" if moved.status == Status.REQUESTED else "patient.moved"
    await reply(update, d.i18n.text(language, key, **values))
    await waitlist.offer_freed(context)


# -- The secretary's phone: the patient's answer to a slot the office proposed instead --------
# Buttons ``prop:ok:<id>`` / ``prop:no:<id>``, sent by handlers.secretary.propose.


async def answer_proposal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The patient takes the proposed slot (confirmed at once) or turns it down (freed)."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    button = callbacks.read(update.callback_query.data, "prop:ok", "prop:no")
    (proposal_id,) = button
    try:
        proposal = await d.booking.answer_proposal(
            proposal_id, patient_id=patient.telegram_id, accept=button.route == "prop:ok"
        )
    except (LookupError, PermissionError):
        # Not a proposal made to this patient: a forwarded or forged button.
        await stale_button(update, context)
        return
    except StaleStatus as stale:
        status = d.i18n.text(language, f"status.{stale.appointment.status}")
        await reply(
            update,
            d.i18n.text(language, "proposal.too_late", status=status),
            offers.menu(d, language),
        )
        return
    business = d.booking.business_of(proposal)
    values = appointment_values(d, language, proposal, business)
    if proposal.status == Status.CONFIRMED:
        await reply(update, d.i18n.text(language, "patient.confirmed", **values))
    else:
        buttons = keyboard([(d.i18n.text(language, "patient.choose_another"), "book")])
        await reply(update, d.i18n.text(language, "proposal.refused", **values), buttons)
        await waitlist.offer_freed(context)
