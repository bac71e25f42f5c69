"""What the bot tells patients about their appointments, and staff about patients: the
outbox's renderers for the messages a change of an appointment owes (see bot.outbox)."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import ContextTypes

from bot import outbox
from bot.config import Business
from handlers.common import Deps, appointment_values, deps, keyboard, staff_language
from handlers.delivery import Rendered, Renderer
from handlers.staff import contact_of, patient_of
from storage.appointments import Appointment
from storage.outbox import Message


async def about_appointment(
    context: ContextTypes.DEFAULT_TYPE, message: Message
) -> tuple[Deps, str, Appointment, Business, dict[str, str]] | None:
    """What a patient's message needs, or None when it is moot: the appointment changed
    since it was owed (a newer message says so), or the patient is gone."""
    d = deps(context)
    appointment = await d.store.appointments.get(message.appointment_id)
    if appointment is None or not outbox.is_current(message.payload, appointment):
        return None
    patient = await d.store.people.get(message.chat_id)
    if patient is None:
        return None
    business = d.booking.business_of(appointment)
    values = appointment_values(d, patient.language, appointment, business)
    return d, patient.language, appointment, business, values


def _patient_notice(key: str, *, book_again: bool = False) -> Renderer:
    async def render(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
        about = await about_appointment(context, message)
        if about is None:
            return None
        d, language, _, _, values = about
        buttons = (
            keyboard([(d.i18n.text(language, "patient.choose_another"), "book")])
            if book_again
            else None
        )
        return Rendered(d.i18n.text(language, key, **values), buttons)

    return render


async def staff_notice(
    context: ContextTypes.DEFAULT_TYPE, message: Message, key: str, **extra: str
) -> Rendered | None:
    """A notice about an appointment to a secretary or an employer, in their language."""
    d = deps(context)
    appointment = await d.store.appointments.get(message.appointment_id)
    if appointment is None:
        return None
    business = d.booking.business_of(appointment)
    patient = await patient_of(d, appointment)
    language = staff_language(context, message.chat_id)
    values = appointment_values(d, language, appointment, business)
    who = contact_of(appointment, patient)
    return Rendered(d.i18n.text(language, key, patient=who, **values, **extra))


async def _patient_cancelled(
    context: ContextTypes.DEFAULT_TYPE, message: Message
) -> Rendered | None:
    """A patient cancelled: every secretary knows the slot is free again."""
    return await staff_notice(context, message, "secretary.patient_cancelled")


async def _proposal(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """The office's other slot, for the patient to take or turn down in one tap."""
    about = await about_appointment(context, message)
    if about is None:
        return None
    d, language, proposal, business, values = about
    asked = d.booking.local(business, datetime.fromtimestamp(message.payload["asked"], UTC))
    text = d.i18n.text(
        language,
        "proposal.offer",
        asked_day=d.i18n.day(language, asked),
        asked_time=d.i18n.time(language, asked),
        **values,
    )
    buttons = keyboard(
        [
            (d.i18n.text(language, "proposal.accept"), f"prop:ok:{proposal.id}"),
            (d.i18n.text(language, "proposal.refuse"), f"prop:no:{proposal.id}"),
        ]
    )
    return Rendered(text, buttons)


async def _proposal_answered(
    context: ContextTypes.DEFAULT_TYPE, message: Message
) -> Rendered | None:
    """The patient took or turned down a proposed slot: every secretary is told."""
    key = (
        "proposal.accepted_by_patient"
        if message.payload.get("accepted")
        else "proposal.refused_by_patient"
    )
    return await staff_notice(context, message, key)


async def _unreachable(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A patient the bot could not tell something: the office can call them instead."""
    d = deps(context)
    language = staff_language(context, message.chat_id)
    patient = await d.store.people.get(message.payload["patient_id"])
    about = d.i18n.text(language, f"outbox.about.{message.payload['about']}")
    reason = d.i18n.text(language, f"outbox.reason.{message.payload['reason']}")
    appointment = (
        await d.store.appointments.get(message.appointment_id) if message.appointment_id else None
    )
    if appointment is None:
        who = contact_of(None, patient) if patient else str(message.payload["patient_id"])
        text = d.i18n.text(
            language, "outbox.unreachable_plain", patient=who, about=about, reason=reason
        )
        return Rendered(text)
    business = d.booking.business_of(appointment)
    values = appointment_values(d, language, appointment, business)
    return Rendered(
        d.i18n.text(
            language,
            "outbox.unreachable",
            patient=contact_of(appointment, patient),
            about=about,
            reason=reason,
            **values,
        )
    )


RENDERERS: dict[str, Renderer] = {
    outbox.CONFIRMED: _patient_notice("patient.confirmed"),
    outbox.DECLINED: _patient_notice("patient.declined", book_again=True),
    outbox.MOVE_REFUSED: _patient_notice("patient.move_refused"),
    outbox.MOVE_EXPIRED: _patient_notice("patient.move_expired"),
    outbox.NO_SHOW: _patient_notice("patient.no_show_follow_up", book_again=True),
    outbox.PROPOSAL: _proposal,
    outbox.PROPOSAL_ANSWERED: _proposal_answered,
    outbox.PATIENT_CANCELLED: _patient_cancelled,
    outbox.UNREACHABLE: _unreachable,
}
