"""The office books for a patient on Telegram, from their card: the service, then the days and
times a patient would be offered, and the tap books it confirmed; the patient is told as for
any confirmation. (A phone caller is booked with /rdv.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.config import Business, Service
from handlers import offers
from handlers.common import Deps, appointment_values, deps, keyboard, reply, staff_language
from handlers.staff import answer_stale, audit, contact_of, day_code, require_secretary, snapshot
from storage.appointments import SlotTaken
from storage.people import Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingFlow(offers.Flow):
    """The day and time buttons of the office booking for ``patient``."""

    patient: int = 0

    def slot(self, epoch: int, practitioner: int) -> str:
        return f"obt:{self.patient}:{self.service.key}:{epoch}:{practitioner}"

    def day(self, day: date) -> str:
        return f"obd:{self.patient}:{self.service.key}:{day_code(day)}"

    def week(self, monday: date) -> str:
        return f"obw:{self.patient}:{self.service.key}:{day_code(monday)}"

    def days(self) -> str:
        return f"obs:{self.patient}:{self.service.key}"


async def business_of(d: Deps, patient: Person) -> Business | None:
    """The business the office books the patient with: their latest appointment's, else the
    one whose link they followed."""
    appointments = await d.store.patients.appointments_of(patient_id=patient.telegram_id)
    business_id = appointments[-1].business_id if appointments else patient.business_id
    if business_id is None:
        return None
    return d.settings.business(d.store.business_slug(business_id))


async def _patient_and_business(
    update: Update, d: Deps, language: str, patient_id: int
) -> tuple[Person, Business] | None:
    patient = await d.store.people.get(patient_id)
    business = await business_of(d, patient) if patient is not None else None
    if business is None:
        await answer_stale(update, d, language)
        return None
    return patient, business


async def choose_service(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``pat:b:<patient>``: which service to book for them."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    (patient_id,) = callbacks.read(update.callback_query.data, "pat:b")
    found = await _patient_and_business(update, d, language, patient_id)
    if found is None:
        return
    patient, business = found
    rows = [
        [(service.name_in(language), f"obs:{patient_id}:{service.key}")]
        for service in business.services
    ]
    text = d.i18n.text(
        language, "booking.which_service", patient=contact_of(None, patient), business=business.name
    )
    await reply(update, text, keyboard(*rows))


async def _flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, route: str
) -> tuple[Deps, str, Person, Business, BookingFlow, callbacks.Callback] | None:
    if not await require_secretary(update, context):
        return None
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    button = callbacks.read(update.callback_query.data, route)
    found = await _patient_and_business(update, d, language, button.args[0])
    if found is None:
        return None
    patient, business = found
    service: Service | None = business.service(button.args[1])
    if service is None:
        await answer_stale(update, d, language)
        return None
    return d, language, patient, business, BookingFlow(service, patient=patient.telegram_id), button


async def days(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``obs:<patient>:<service>`` and ``obw:<patient>:<service>:<monday>``: the days."""
    route = callbacks.read(update.callback_query.data, "obs", "obw").route
    found = await _flow(update, context, route)
    if found is not None:
        d, language, _, business, flow, button = found
        monday = button.args[2] if route == "obw" else None
        await offers.show_days(update, d, language, business, flow, monday)


async def day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``obd:<patient>:<service>:<day>``: that day's free times."""
    found = await _flow(update, context, "obd")
    if found is not None:
        d, language, _, business, flow, button = found
        await offers.show_day(update, d, language, business, flow, button.args[2])


async def book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``obt:<patient>:<service>:<start>:<practitioner>``: booked, confirmed; the patient told."""
    found = await _flow(update, context, "obt")
    if found is None:
        return
    d, language, patient, business, flow, button = found
    user = update.effective_user
    _, _, start, index = button
    if index >= len(business.practitioners):
        await answer_stale(update, d, language)
        return
    try:
        booked = await d.booking.book_by_office(
            business,
            flow.service,
            start,
            business.practitioners[index],
            patient_id=patient.telegram_id,
            actor=user.id,
        )
    except (SlotTaken, ValueError) as error:
        log.info("secretary %s could not book %s: %s", user.id, start, error)
        await offers.offer_instead(update, d, language, business, flow, start, error)
        return
    log.info("secretary %s booked appointment %s for a patient", user.id, booked.id)
    await audit(d, user.id, "appointment.book", f"appointment:{booked.id}", None, snapshot(booked))
    values = appointment_values(d, language, booked, business)
    text = d.i18n.text(language, "booking.booked", patient=contact_of(None, patient), **values)
    await reply(update, text)
