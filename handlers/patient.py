"""Patients: bind to a business, book with buttons or in words.

Every step's state travels in the buttons' callback data, so a restart loses nothing. What
patients do with appointments they hold is in handlers.own.
"""

from __future__ import annotations

import logging
from datetime import date, time

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
from bot.nlu import Intent, mentions_waitlist, parse_request
from handlers import handoff, lookups, offers, own, waitlist
from handlers.answers import answer_text
from handlers.common import (
    Deps,
    StaleButton,
    appointment_values,
    deps,
    keyboard,
    person,
    reply,
    stale_button,
)
from storage.appointments import AlreadyHeld, SlotTaken, Status
from storage.people import Person

log = logging.getLogger(__name__)

Flow = offers.Flow
_NONE = "-"


# -- helpers ---------------------------------------------------------------------------------


def _business_of(d: Deps, patient: Person) -> Business | None:
    if patient.business_id is not None:
        return d.settings.business(d.store.business_slug(patient.business_id))
    if len(d.settings.businesses) == 1:
        return d.settings.businesses[0]
    return None


def _business_choice(d: Deps, language: str, page: int = 0) -> InlineKeyboardMarkup:
    return keyboard(
        *lookups.business_picker(
            d, language, lambda b: f"biz:{b.slug}", lambda number: f"bizp:{number}", page
        )
    )


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
    await reply(update, d.i18n.text(language, key), _business_choice(d, language))


# -- /start and the menu ---------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start <slug>`` from the business's deep link binds the patient to it."""
    d = deps(context)
    slug = context.args[0] if context.args else None
    linked = d.settings.business(slug) if slug else None
    patient = await person(update, context, bind_to=linked)
    language = patient.language
    business = linked if slug else _business_of(d, patient)
    if business is None:
        await _ask_business(
            update, d, language, "patient.unknown_link" if slug else "patient.which"
        )
        return
    if patient.business_id != d.booking.business_id(business):
        await d.store.people.bind(patient.telegram_id, d.booking.business_id(business))
    text = d.i18n.text(language, "patient.welcome", name=patient.first_name, business=business.name)
    await update.effective_message.reply_text(text, reply_markup=offers.menu(d, language))


async def business_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``bizp:<page>``: another page of the businesses to choose from, in place."""
    d = deps(context)
    patient = await person(update, context)
    (page,) = callbacks.read(update.callback_query.data, "bizp")
    text = d.i18n.text(patient.language, "patient.which")
    await reply(update, text, _business_choice(d, patient.language, page))


async def choose_business(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    (slug,) = callbacks.read(update.callback_query.data, "biz")
    business = d.settings.business(slug)
    if business is None:
        await stale_button(update, context)
        return
    patient = await person(update, context, bind_to=business)
    text = d.i18n.text(
        patient.language, "patient.welcome", name=patient.first_name, business=business.name
    )
    await reply(update, text, offers.menu(d, patient.language))


async def book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 1 of the buttons: which service."""
    d = deps(context)
    patient, business = await _patient_and_business(update, context)
    if business is None:
        await _ask_business(update, d, patient.language, "patient.which")
        return
    if len(business.services) == 1:
        await offers.show_days(update, d, patient.language, business, Flow(business.services[0]))
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
    await offers.show_days(update, d, patient.language, business, Flow(service))


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
    await offers.show_day(update, d, patient.language, business, Flow(service), day)


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
    await offers.offer_wanted(update, d, patient.language, business, Flow(service), wanted)


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
        await offers.already_holding(update, d, language, held.appointment)
        return
    except (SlotTaken, ValueError) as error:
        log.info("patient %s could not have %s: %s", patient.telegram_id, start, error)
        await offers.offer_instead(update, d, language, business, Flow(service), start, error)
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
    if reason is None and not talking and request.day_from is None and mentions_waitlist(text):
        # No day to wait for yet: what they wait for already, and how to wait for more.
        await waitlist.explain(update, d, patient)
        return
    if request.intent == Intent.QUESTION:
        answer = answer_text(d, language, business, text)
        if answer is not None and not talking:
            await update.effective_message.reply_text(answer, reply_markup=offers.menu(d, language))
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
            await own.appointments_text(d, patient),
            reply_markup=await waitlist.list_markup(d, patient),
        )
        return
    if request.intent in own.INTENTS:
        await own.act_on_own(update, context, patient, business, request)
        return
    if request.intent == Intent.OTHER:
        text = d.i18n.text(language, "patient.other", business=business.name)
        await update.effective_message.reply_text(text, reply_markup=offers.menu(d, language))
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
    await offers.offer_wanted(update, d, language, business, Flow(service), wanted)


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
            reply_markup=offers.menu(d, patient.language),
        )
        return
    await handoff.pass_on(update, context, patient, business, Reason.FILE)


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
    await reply(update, d.i18n.text(language, "language.set"), offers.menu(d, language))
