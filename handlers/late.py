"""Changes asked inside the cancel notice: the patient's cancel or move is not done online,
the office is asked and answers in one tap (cancel, keep, or the office's move in
handlers.office), and the patient is told.

A late cancellation the office grants is counted apart from no-shows (summary, card).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks, outbox
from handlers import offers, waitlist
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    keyboard,
    reply,
    show_outcome,
    staff_language,
)
from handlers.delivery import Rendered, Renderer
from handlers.notices import about_appointment
from handlers.staff import (
    audit,
    contact_of,
    patient_of,
    require_secretary,
    secretary_name,
    snapshot,
)
from storage.appointments import Appointment, StaleStatus
from storage.outbox import Message
from storage.people import Person

log = logging.getLogger(__name__)


# -- the patient's side ----------------------------------------------------------------------


async def warn_office(
    update: Update, d: Deps, patient: Person, appointment: Appointment, wants: str
) -> None:
    """Too late to cancel or move online: the office is asked, the patient given its phone."""
    business = d.booking.business_of(appointment)
    language = patient.language
    asked = await d.booking.ask_office(appointment.id, wants=wants, actor=patient.telegram_id)
    log.info("patient %s asked the office (%s) for %s", patient.telegram_id, wants, appointment.id)
    values = appointment_values(d, language, appointment, business)
    notice = offers.notice_text(d.settings.cancel_notice_of(business))
    key = f"late.asked_{wants}" if asked else "late.asked_already"
    text = d.i18n.text(language, key, notice=notice, **values)
    if business.phone:
        text += "\n" + d.i18n.text(language, "late.call_us", phone=business.phone)
    await reply(update, text, offers.menu(d, language))


# -- the office's side -----------------------------------------------------------------------


def _buttons(d: Deps, language: str, appointment: Appointment):
    return keyboard(
        [
            (d.i18n.text(language, "late.cancel"), f"late:cx:{appointment.id}"),
            (d.i18n.text(language, "late.keep"), f"late:keep:{appointment.id}"),
        ],
        [(d.i18n.text(language, "late.move"), f"om:{appointment.id}")],
    )


async def _asked(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A patient's late cancel or move, in each secretary's chat, with what she can do."""
    d = deps(context)
    appointment = await d.store.appointments.get(message.appointment_id)
    if appointment is None:
        return None
    business = d.booking.business_of(appointment)
    patient = await patient_of(d, appointment)
    language = staff_language(context, message.chat_id)
    left = appointment.starts_at - d.clock.now()
    text = d.i18n.text(
        language,
        f"late.to_office_{message.payload['wants']}",
        patient=contact_of(appointment, patient),
        left=offers.notice_text(max(left, timedelta(0))),
        **appointment_values(d, language, appointment, business),
    )
    late = await d.store.appointments.late_cancellations(patient_id=appointment.patient_id)
    no_shows = await d.store.appointments.no_shows(patient_id=appointment.patient_id)
    if late or no_shows:
        text += "\n" + d.i18n.text(language, "late.record", late=late, no_shows=no_shows)
    return Rendered(text, _buttons(d, language, appointment))


async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``late:cx:<id>`` cancels (a late cancellation), ``late:keep:<id>`` keeps the time."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    query = update.callback_query
    user = update.effective_user
    language = staff_language(context, user.id)
    button = callbacks.read(query.data, "late:cx", "late:keep")
    (appointment_id,) = button
    cancel = button.route == "late:cx"
    before = await d.store.appointments.get(appointment_id)
    if before is None:
        log.warning("secretary %s acted on unknown appointment %s", user.id, appointment_id)
        await query.answer(d.i18n.text(language, "error.stale_button"), show_alert=True)
        return
    try:
        appointment = await (d.booking.cancel_late if cancel else d.booking.keep)(
            appointment_id, actor=user.id
        )
    except StaleStatus as stale:
        status = d.i18n.text(language, f"status.{stale.appointment.status}")
        await query.answer(
            d.i18n.text(language, "secretary.already", status=status), show_alert=True
        )
        return
    await query.answer()
    log.info("secretary %s: late %s for %s", user.id, button.route, appointment_id)
    await audit(
        d,
        user.id,
        "late.cancel" if cancel else "late.keep",
        f"appointment:{appointment_id}",
        snapshot(before),
        snapshot(appointment),
    )
    if cancel:
        # A late cancellation is a missed slot unless someone else takes it.
        await waitlist.offer_freed(context)
    outcome = d.i18n.text(
        language,
        "late.cancelled_by" if cancel else "late.kept_by",
        secretary=secretary_name(d, user.id),
    )
    await show_outcome(update, outcome)


def _to_patient(name: str) -> Renderer:
    async def render(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
        key = name
        about = await about_appointment(context, message)
        if about is None:
            return None
        d, language, _, business, values = about
        if not business.phone:
            key = f"{key}_no_phone"
        buttons = (
            keyboard([(d.i18n.text(language, "patient.choose_another"), "book")])
            if message.kind == outbox.LATE_CANCELLED
            else None
        )
        return Rendered(d.i18n.text(language, key, **values), buttons)

    return render


RENDERERS: dict[str, Renderer] = {
    outbox.LATE_ASKED: _asked,
    outbox.LATE_CANCELLED: _to_patient("late.cancelled"),
    outbox.LATE_KEPT: _to_patient("late.kept"),
}
