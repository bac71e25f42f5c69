"""Secretaries: every business's requests in one inbox, confirmed or declined in one tap.

Each command and button checks the sender against config at every call: a button's
callback data can be replayed by anyone who has seen it.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.config import Business
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    is_secretary,
    keyboard,
    send_safely,
    staff_language,
)
from storage.appointments import Appointment, StaleStatus, Status
from storage.people import Person

log = logging.getLogger(__name__)


def _secretary_name(d: Deps, user_id: int) -> str:
    return next(s.name for s in d.settings.secretaries if s.telegram_id == user_id)


def _inbox_text(
    d: Deps, language: str, appointment: Appointment, business: Business, patient: Person | None
) -> str:
    if patient is not None:
        contact = " · ".join(
            part
            for part in (
                patient.full_name,
                f"@{patient.username}" if patient.username else None,
                patient.phone,
            )
            if part
        )
    else:
        contact = " · ".join(
            part for part in (appointment.caller_name, appointment.caller_phone) if part
        )
    key = "secretary.request" if business.requires_confirmation else "secretary.booked"
    return d.i18n.text(
        language, key, patient=contact, **appointment_values(d, language, appointment, business)
    )


def _decision_buttons(d: Deps, language: str, appointment: Appointment):
    return keyboard(
        [
            (d.i18n.text(language, "secretary.confirm"), f"req:ok:{appointment.id}"),
            (d.i18n.text(language, "secretary.decline"), f"req:no:{appointment.id}"),
        ]
    )


async def announce(
    context: ContextTypes.DEFAULT_TYPE,
    appointment: Appointment,
    business: Business,
    patient: Person | None,
) -> None:
    """Put a new request (or a direct booking) in every secretary's inbox."""
    d = deps(context)
    for secretary in d.settings.secretaries:
        language = secretary.language
        text = _inbox_text(d, language, appointment, business, patient)
        buttons = (
            _decision_buttons(d, language, appointment)
            if appointment.status == Status.REQUESTED
            else None
        )
        message_id = await send_safely(context, secretary.telegram_id, text, buttons)
        if message_id is not None:
            await d.store.appointments.remember_inbox_message(
                appointment.id, secretary.telegram_id, message_id
            )


async def refresh_inbox(
    context: ContextTypes.DEFAULT_TYPE,
    appointment: Appointment,
    outcome_key: str,
    actor: int | None,
) -> None:
    """Every secretary's copy shows what happened and loses its buttons.

    ``actor`` is the secretary who acted, None when the bot did (an expired request).
    """
    d = deps(context)
    business = d.booking.business_of(appointment)
    patient = await d.store.people.get(appointment.patient_id) if appointment.patient_id else None
    for chat_id, message_id in await d.store.appointments.inbox_messages(appointment.id):
        language = staff_language(context, chat_id)
        request_text = _inbox_text(d, language, appointment, business, patient)
        who = _secretary_name(d, actor) if actor is not None else ""
        outcome = d.i18n.text(language, outcome_key, secretary=who)
        try:
            await context.bot.edit_message_text(
                f"{request_text}\n{outcome}", chat_id=chat_id, message_id=message_id
            )
        except BadRequest as error:
            # Already showing the outcome, or deleted by the secretary: nothing to mend.
            log.info("inbox copy %s/%s not edited: %s", chat_id, message_id, error)


_OUTCOMES = {
    Status.CONFIRMED: "secretary.confirmed_by",
    Status.DECLINED: "secretary.declined_by",
}


async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm (``req:ok:<id>``) or decline (``req:no:<id>``) a patient's request."""
    d = deps(context)
    query = update.callback_query
    user = update.effective_user
    language = staff_language(context, user.id)
    if not is_secretary(context, user):
        log.warning("refused %r from user %s: not a secretary", query.data, user.id)
        await query.answer(d.i18n.text(language, "error.not_allowed"), show_alert=True)
        return
    _, action, raw_id = query.data.split(":")
    decide_with = d.booking.confirm if action == "ok" else d.booking.decline
    try:
        appointment = await decide_with(int(raw_id), actor=user.id)
    except StaleStatus as stale:
        status = d.i18n.text(language, f"status.{stale.appointment.status}")
        await query.answer(
            d.i18n.text(language, "secretary.already", status=status), show_alert=True
        )
        return
    except LookupError:
        log.warning("secretary %s acted on unknown appointment %s", user.id, raw_id)
        await query.answer(d.i18n.text(language, "error.stale_button"), show_alert=True)
        return
    await query.answer()
    log.info("secretary %s: appointment %s -> %s", user.id, appointment.id, appointment.status)
    await refresh_inbox(context, appointment, _OUTCOMES[appointment.status], user.id)
    await tell_patient(context, appointment)


async def tell_patient(context: ContextTypes.DEFAULT_TYPE, appointment: Appointment) -> None:
    if appointment.patient_id is None:
        return
    d = deps(context)
    patient = await d.store.people.get(appointment.patient_id)
    business = d.booking.business_of(appointment)
    language = patient.language
    values = appointment_values(d, language, appointment, business)
    if appointment.status == Status.CONFIRMED:
        await send_safely(
            context, patient.telegram_id, d.i18n.text(language, "patient.confirmed", **values)
        )
    else:
        buttons = keyboard([(d.i18n.text(language, "patient.choose_another"), "book")])
        await send_safely(
            context,
            patient.telegram_id,
            d.i18n.text(language, "patient.declined", **values),
            buttons,
        )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    businesses = ", ".join(b.name for b in d.settings.businesses)
    await update.effective_message.reply_text(
        d.i18n.text(
            language, "secretary.welcome", name=_secretary_name(d, user.id), businesses=businesses
        )
    )


async def tell_cancelled(
    context: ContextTypes.DEFAULT_TYPE,
    appointment: Appointment,
    business: Business,
    patient: Person,
) -> None:
    """A patient cancelled: every secretary knows the slot is free again."""
    d = deps(context)
    for secretary in d.settings.secretaries:
        language = secretary.language
        values = appointment_values(d, language, appointment, business)
        text = d.i18n.text(
            language, "secretary.patient_cancelled", patient=patient.full_name, **values
        )
        await send_safely(context, secretary.telegram_id, text)
