"""Patients: bind to a business, book with buttons or in words, see their appointments.

Every step's state travels in the buttons' callback data, so a restart loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, time

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import ContextTypes

from bot import callbacks
from bot.agenda import Wanted
from bot.config import Business
from bot.handoff import Reason, is_pleasantry, needs_person
from bot.i18n import LANGUAGES
from bot.nlu import BookingRequest, Intent, parse_request
from handlers import handoff, offers
from handlers.answers import answer_text
from handlers.common import Deps, StaleButton, appointment_values, deps, keyboard, person, reply
from storage.appointments import (
    HOLDING,
    AlreadyHeld,
    Appointment,
    SlotTaken,
    StaleStatus,
    Status,
)
from storage.people import Person

log = logging.getLogger(__name__)

# The patient's side of offers lives in handlers.offers; these names are kept for callers.
Flow = offers.Flow
offer_keyboard = offers.offer_keyboard
# The soonest appointments a patient's list shows: the list is one message, edited in place.
LISTED = 20
SLOTS_SHOWN = 8
_NONE = "-"


# -- helpers ---------------------------------------------------------------------------------


def _business_of(d: Deps, patient: Person) -> Business | None:
    if patient.business_id is not None:
        return d.settings.business(d.store.business_slug(patient.business_id))
    if len(d.settings.businesses) == 1:
        return d.settings.businesses[0]
    return None


def _menu(d: Deps, language: str) -> InlineKeyboardMarkup:
    return keyboard(
        [(d.i18n.text(language, "menu.book"), "book"), (d.i18n.text(language, "menu.mine"), "mine")]
    )


def _business_choice(d: Deps) -> InlineKeyboardMarkup:
    return keyboard(*[[(b.name, f"biz:{b.slug}")] for b in d.settings.businesses])


def _day_code(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else _NONE


def _time_code(moment: time | None) -> str:
    return moment.strftime("%H%M") if moment else _NONE


def _wanted_code(wanted: Wanted, business: Business) -> str:
    """What a typed request asked for, to travel in callback data (64 bytes at most)."""
    practitioner = (
        str(business.practitioners.index(wanted.practitioner)) if wanted.practitioner else _NONE
    )
    return ":".join(
        [
            _day_code(wanted.day_from),
            _day_code(wanted.day_to),
            _time_code(wanted.time_from),
            _time_code(wanted.time_to),
            practitioner,
        ]
    )


def _parse_wanted(values: list[object], business: Business) -> Wanted:
    """What a ``want:`` button carries (read by bot.callbacks), as the agenda takes it."""
    day_from, day_to, time_from, time_to, index = values
    if index is not None and index >= len(business.practitioners):
        raise StaleButton(f"no practitioner {index!r}")
    practitioner = business.practitioners[index] if index is not None else None
    return Wanted(day_from, day_to, time_from, time_to, practitioner)


async def _patient_and_business(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Person, Business | None]:
    patient = await person(update, context)
    return patient, _business_of(deps(context), patient)


async def _ask_business(update: Update, d: Deps, language: str, key: str) -> None:
    await reply(update, d.i18n.text(language, key), _business_choice(d))


# -- /start and the menu ---------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start <slug>`` from the business's deep link binds the patient to it."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    slug = context.args[0] if context.args else None
    business = d.settings.business(slug) if slug else _business_of(d, patient)
    if business is None:
        await _ask_business(
            update, d, language, "patient.unknown_link" if slug else "patient.which"
        )
        return
    await d.store.people.bind(patient.telegram_id, d.booking.business_id(business))
    text = d.i18n.text(language, "patient.welcome", name=patient.first_name, business=business.name)
    await update.effective_message.reply_text(text, reply_markup=_menu(d, language))


async def choose_business(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    patient = await person(update, context)
    (slug,) = callbacks.read(update.callback_query.data, "biz")
    business = d.settings.business(slug)
    if business is None:
        await stale_button(update, context)
        return
    await d.store.people.bind(patient.telegram_id, d.booking.business_id(business))
    text = d.i18n.text(
        patient.language, "patient.welcome", name=patient.first_name, business=business.name
    )
    await reply(update, text, _menu(d, patient.language))


async def book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 1 of the buttons: which service."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    if business is None:
        await _ask_business(update, d, patient.language, "patient.which")
        return
    if len(business.services) == 1:
        await _show_days(update, d, patient.language, business, Flow(business.services[0]))
        return
    rows = [[(s.name_in(patient.language), f"svc:{s.key}")] for s in business.services]
    await reply(update, d.i18n.text(patient.language, "patient.which_service"), keyboard(*rows))


async def choose_service(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 2: which day, among the next days that still have room."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    (key,) = callbacks.read(update.callback_query.data, "svc")
    service = business.service(key) if business else None
    if service is None:
        await stale_button(update, context)
        return
    await _show_days(update, d, patient.language, business, Flow(service))


async def _show_days(
    update: Update, d: Deps, language: str, business: Business, flow: Flow
) -> None:
    await offers.show_days(update, d, language, business, flow)


async def choose_week(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``days:<service>:<monday>``: the day picker, another week."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    key, monday = callbacks.read(update.callback_query.data, "days")
    service = business.service(key) if business else None
    if service is None:
        await stale_button(update, context)
        return
    await offers.show_days(update, d, patient.language, business, Flow(service), monday)


async def choose_day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 3: the free times of that day."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    key, day = callbacks.read(update.callback_query.data, "day")
    service = business.service(key) if business else None
    if service is None:
        await stale_button(update, context)
        return
    await _show_day(update, d, patient.language, business, Flow(service), day)


async def _show_day(
    update: Update, d: Deps, language: str, business: Business, flow: Flow, day: date | None
) -> None:
    """The free times of one day; the days with room again if it has none left."""
    if day is None:
        raise StaleButton("a day button without a day")
    offer = await d.booking.offer(business, flow.service, Wanted(day, day), limit=SLOTS_SHOWN)
    if not offer.slots or offer.slots[0].start.date() != day:
        await _show_days(update, d, language, business, flow)
        return
    intro = offers.from_day_intro(d, language, flow.service, offer.slots[0].start)
    await reply(update, intro, offers.offer_keyboard(d, language, business, flow, offer, day))


async def want(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed request that named no service: the service was just picked."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    key, *codes = callbacks.read(update.callback_query.data, "want")
    service = business.service(key) if business else None
    if service is None:
        await stale_button(update, context)
        return
    wanted = _parse_wanted(codes, business)
    await _offer_wanted(update, d, patient.language, business, Flow(service), wanted)


async def _offer_wanted(
    update: Update, d: Deps, language: str, business: Business, flow: Flow, wanted: Wanted
) -> None:
    offer = await d.booking.offer(business, flow.service, wanted)
    await offers.show_wanted(update, d, language, business, flow, wanted, offer)


async def _offer_instead(
    update: Update,
    d: Deps,
    language: str,
    business: Business,
    flow: Flow,
    start: datetime,
    error: Exception,
) -> None:
    """Taken meanwhile, or a start no longer offered (an old or forged button): either way
    the patient gets the nearest free times instead."""
    local = d.booking.local(business, start)
    wanted = Wanted(local.date(), local.date(), local.time(), local.time())
    offer = await d.booking.offer(business, flow.service, wanted)
    if not offer.slots:
        await reply(update, offers.no_room_text(d, language, business))
        return
    key = "patient.just_taken" if isinstance(error, SlotTaken) else "patient.not_offered"
    intro = d.i18n.text(language, key, service=flow.service.name_in(language))
    await reply(update, intro, offers.offer_keyboard(d, language, business, flow, offer))


async def ask_office(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ask:<service>:<day>:<time>``: a day beyond online booking, passed on to a person."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    key, day, moment = callbacks.read(update.callback_query.data, "ask")
    service = business.service(key) if business else None
    # Only a day online booking cannot reach is passed on this way: any other is bookable.
    if service is None or day <= d.booking.last_day(business):
        await stale_button(update, context)
        return
    await update.callback_query.answer()
    text = offers.asked_text(d, patient.language, service, day, moment)
    await handoff.pass_on(update, context, patient, business, Reason.UNREAD, text=text)


async def _already_holding(
    update: Update, d: Deps, language: str, appointment: Appointment
) -> None:
    """One patient, one appointment at a time in a business: the one they hold is shown."""
    values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
    text = d.i18n.text(language, "patient.already_holding", **values)
    await reply(update, text, _menu(d, language))


async def choose_slot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The patient's tap makes the request: the slot is held until a secretary answers."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    key, start, index = callbacks.read(update.callback_query.data, "slot")
    service = business.service(key) if business else None
    if service is None or index >= len(business.practitioners):
        await stale_button(update, context)
        return
    language = patient.language
    try:
        appointment = await d.booking.request(
            business,
            service,
            start,
            business.practitioners[int(index)],
            patient_id=patient.telegram_id,
        )
    except AlreadyHeld as held:
        await _already_holding(update, d, language, held.appointment)
        return
    except (SlotTaken, ValueError) as error:
        log.info("patient %s could not have %s: %s", patient.telegram_id, start, error)
        await _offer_instead(update, d, language, business, Flow(service), start, error)
        return
    values = appointment_values(d, language, appointment, business)
    key = "patient.requested" if appointment.status == Status.REQUESTED else "patient.booked"
    await reply(update, d.i18n.text(language, key, **values))
    if patient.phone is None and not context.user_data.get(_ASKED_PHONE):
        context.user_data[_ASKED_PHONE] = True
        await _ask_phone(update, d, language)


_ASKED_PHONE = "asked_phone"


async def _ask_phone(update: Update, d: Deps, language: str) -> None:
    """The office may need to call: one tap on the phone's own button shares the number.

    Asked once, after the first request: a patient who prefers not to is not nagged.
    """
    share = KeyboardButton(d.i18n.text(language, "patient.share_phone"), request_contact=True)
    await update.effective_chat.send_message(
        d.i18n.text(language, "patient.ask_phone"),
        reply_markup=ReplyKeyboardMarkup([[share]], resize_keyboard=True, one_time_keyboard=True),
    )


async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    patient = await person(update, context)
    await reply(update, await _appointments_text(d, patient), _menu(d, patient.language))


async def _appointments_text(d: Deps, patient: Person) -> str:
    language = patient.language
    upcoming = await d.booking.upcoming(patient.telegram_id)
    if not upcoming:
        return d.i18n.text(language, "patient.none")
    lines = [d.i18n.text(language, "patient.yours")]
    for appointment in upcoming[:LISTED]:
        values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
        status = d.i18n.text(language, f"status.{appointment.status}")
        lines.append(d.i18n.text(language, "patient.line", status=status, **values))
    if len(upcoming) > LISTED:
        lines.append(d.i18n.text(language, "patient.more", count=len(upcoming) - LISTED))
    return "\n".join(lines)


# -- words -----------------------------------------------------------------------------------


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message: read it, then take the patient to the right flow with buttons.

    Nothing is ever booked on a reading alone: the patient's tap makes the request.
    """
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    language = patient.language
    if business is None:
        await _ask_business(update, d, language, "patient.which")
        return
    now = d.booking.local(business, d.clock.now())
    request = parse_request(
        update.effective_message.text, now, business.services, business.practitioners
    )
    log.debug("patient %s: %s", patient.telegram_id, request.intent)
    text = update.effective_message.text
    reason = needs_person(text, request)
    talking = await handoff.open_thread(context, patient)
    if request.intent == Intent.QUESTION:
        answer = answer_text(d, language, business, text)
        if answer is not None and not talking:
            await update.effective_message.reply_text(answer, reply_markup=_menu(d, language))
            return
        reason = reason or Reason.UNREAD
    if reason is None and talking and (request.intent == Intent.OTHER or is_pleasantry(text)):
        # Talking with the office: "ok merci" is for the person on the thread, not the bot.
        reason = Reason.UNREAD
    if reason is not None:
        await handoff.pass_on(update, context, patient, business, reason)
        return
    if request.intent == Intent.LIST:
        await update.effective_message.reply_text(
            await _appointments_text(d, patient), reply_markup=_menu(d, language)
        )
        return
    if request.intent in _OWN_APPOINTMENT_INTENTS:
        await _act_on_own(update, context, patient, business, request)
        return
    if request.intent == Intent.OTHER:
        text = d.i18n.text(language, "patient.other", business=business.name)
        await update.effective_message.reply_text(text, reply_markup=_menu(d, language))
        return
    wanted = Wanted(
        request.day_from, request.day_to, request.time_from, request.time_to, request.practitioner
    )
    service = business.service(request.service) if request.service else None
    if service is None and len(business.services) == 1:
        service = business.services[0]
    if service is None:
        code = _wanted_code(wanted, business)
        rows = [[(s.name_in(language), f"want:{s.key}:{code}")] for s in business.services]
        await update.effective_message.reply_text(
            d.i18n.text(language, "patient.which_service"), reply_markup=keyboard(*rows)
        )
        return
    await _offer_wanted(update, d, language, business, Flow(service), wanted)


# -- their own appointments: cancel, move, confirm attendance ---------------------------------

_OWN_APPOINTMENT_INTENTS = (Intent.CANCEL, Intent.RESCHEDULE, Intent.CONFIRM)
# The button each intent puts on an appointment when the patient must say which one.
_PICK = {Intent.CANCEL: "cx", Intent.RESCHEDULE: "mv", Intent.CONFIRM: "att"}


def _appointment_label(d: Deps, language: str, appointment: Appointment) -> str:
    business = d.booking.business_of(appointment)
    local = d.booking.local(business, appointment.starts_at)
    service = business.service(appointment.service)
    name = service.name_in(language) if service else appointment.service
    return f"{d.i18n.short_day(language, local)} {d.i18n.time(language, local)} · {name}"


async def _act_on_own(
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
            d.i18n.text(language, "patient.none"), reply_markup=_menu(d, language)
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
    else:
        # The appointment's own business: the patient may have followed another link since.
        business = d.booking.business_of(appointment)
        service = business.service(appointment.service)
        if service is None:
            await update.effective_message.reply_text(
                d.i18n.text(language, "patient.cannot_move"), reply_markup=_menu(d, language)
            )
            return
        flow = Flow(service, moving=appointment.id)
        if request.day_from is None and request.time_from is None:
            await _show_days(update, d, language, business, flow)
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
        await _offer_wanted(update, d, language, business, flow, wanted)


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


async def _ask_cancel(update: Update, d: Deps, language: str, appointment: Appointment) -> None:
    values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
    buttons = keyboard(
        [
            (d.i18n.text(language, "patient.cancel_yes"), f"cxy:{appointment.id}"),
            (d.i18n.text(language, "patient.cancel_no"), "mine"),
        ]
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
    own = await _own_appointment(update, context)
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
        _menu(d, patient.language),
    )


async def confirm_attendance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``att:<id>``: the patient will come (a reminder's button, or a pick in a list)."""
    own = await _own_appointment(update, context)
    if own is not None:
        patient, appointment = own
        await _confirm_attendance(update, deps(context), patient.language, appointment)


async def move_days(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``mv:<id>``: the days that still have room for the appointment's service; and
    ``mvw:<id>:<monday>``, another week of them."""
    own = await _own_appointment(update, context)
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
    own = await _own_appointment(update, context)
    if own is None:
        return
    patient, appointment = own
    d = deps(context)
    business = d.booking.business_of(appointment)
    flow = Flow(business.service(appointment.service), appointment.id)
    _, day = callbacks.read(update.callback_query.data, "mvd")
    await _show_day(update, d, patient.language, business, flow, day)


async def move_to(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``mvs:<id>:<epoch>:<practitioner>``: the tap moves the appointment."""
    own = await _own_appointment(update, context)
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
        await _already_holding(update, d, language, held.appointment)
        return
    except (SlotTaken, ValueError) as error:
        log.info("patient %s could not move to %s: %s", patient.telegram_id, start, error)
        flow = Flow(business.service(appointment.service), appointment.id)
        await _offer_instead(update, d, language, business, flow, start, error)
        return
    values = appointment_values(d, language, moved, business)
    key = "patient.move_requested" if moved.status == Status.REQUESTED else "patient.moved"
    await reply(update, d.i18n.text(language, key, **values))


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


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared contact: the patient's own number is kept so the office can call back."""
    d = deps(context)
    patient = await person(update, context)
    shared = update.effective_message.contact
    if shared.user_id != patient.telegram_id:
        text = d.i18n.text(patient.language, "patient.not_your_contact")
        await update.effective_message.reply_text(text)
        return
    await d.store.people.set_phone(patient.telegram_id, shared.phone_number)
    await update.effective_message.reply_text(
        d.i18n.text(patient.language, "patient.phone_saved"), reply_markup=ReplyKeyboardRemove()
    )


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, voice notes, documents...: the bot does not read them, a person does."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    if business is None:
        await update.effective_message.reply_text(
            d.i18n.text(patient.language, "patient.unsupported"),
            reply_markup=_menu(d, patient.language),
        )
        return
    await handoff.pass_on(update, context, patient, business, Reason.FILE)


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
            update, d.i18n.text(language, "proposal.too_late", status=status), _menu(d, language)
        )
        return
    business = d.booking.business_of(proposal)
    values = appointment_values(d, language, proposal, business)
    if proposal.status == Status.CONFIRMED:
        await reply(update, d.i18n.text(language, "patient.confirmed", **values))
    else:
        buttons = keyboard([(d.i18n.text(language, "patient.choose_another"), "book")])
        await reply(update, d.i18n.text(language, "proposal.refused", **values), buttons)


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/langue`` (``/language``): French or English, whatever the phone says."""
    d = deps(context)
    patient = await person(update, context)
    buttons = keyboard(
        [(d.i18n.text(language, "language.name"), f"lang:{language}") for language in LANGUAGES]
    )
    await update.effective_message.reply_text(
        d.i18n.text(patient.language, "language.which"), reply_markup=buttons
    )


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    patient = await person(update, context)
    (language,) = callbacks.read(update.callback_query.data, "lang")
    if language not in LANGUAGES:
        raise StaleButton(f"no language {language!r}")
    await d.store.people.set_language(patient.telegram_id, language)
    await reply(update, d.i18n.text(language, "language.set"), _menu(d, language))
