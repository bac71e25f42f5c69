"""Secretaries: every business's requests in one inbox, confirmed or declined in one tap,
or answered with another slot; requests left waiting are flagged to the employers, and
appointments once past are marked done or no-show.

Each command and button checks the sender against config at every call: a button's
callback data can be replayed by anyone who has seen it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from babel.dates import format_timedelta
from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import callbacks, outbox
from bot.agenda import Wanted
from bot.config import Business
from handlers import lookups, series, waitlist
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    is_secretary,
    keyboard,
    reply,
    staff_language,
)
from handlers.delivery import Rendered, Renderer
from handlers.notices import staff_notice
from handlers.staff import (
    PROPOSALS_SHOWN,
    answer_stale,
    audit,
    contact_of,
    in_rows,
    patient_of,
    require_secretary,
    secretary_name,
    snapshot,
)
from storage.appointments import Appointment, SlotTaken, Source, StaleStatus, Status
from storage.outbox import Message
from storage.people import Person

log = logging.getLogger(__name__)

# How many requests (or appointments to mark) one command shows, one message each.
SHOWN_AT_ONCE = 10
# Past appointments still waiting to be marked done or no-show.
ATTENDANCE_DAYS = 14


def _inbox_text(
    d: Deps,
    language: str,
    appointment: Appointment,
    business: Business,
    patient: Person | None,
    no_shows: int = 0,
) -> str:
    contact = contact_of(appointment, patient)
    if no_shows:
        contact += " · " + d.i18n.text(language, "inbox.no_shows", count=no_shows)
    key = "secretary.request" if business.requires_confirmation else "secretary.booked"
    text = d.i18n.text(
        language, key, patient=contact, **appointment_values(d, language, appointment, business)
    )
    if appointment.previous_starts_at is not None:
        before = d.booking.local(business, appointment.previous_starts_at)
        text += "\n" + d.i18n.text(
            language,
            "secretary.moved_from",
            day=d.i18n.day(language, before),
            time=d.i18n.time(language, before),
        )
    return text


def _decision_buttons(d: Deps, language: str, appointment: Appointment) -> InlineKeyboardMarkup:
    return keyboard(
        [
            (d.i18n.text(language, "secretary.confirm"), f"req:ok:{appointment.id}"),
            (d.i18n.text(language, "secretary.decline"), f"req:no:{appointment.id}"),
        ],
        [(d.i18n.text(language, "inbox.propose"), f"req:pr:{appointment.id}")],
    )


async def _inbox_request(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A patient's request (or direct booking) in a secretary's inbox, with its buttons; once
    sent, that copy is the one refreshed when someone answers."""
    d = deps(context)
    appointment = await d.store.appointments.get(message.appointment_id)
    if appointment is None or not outbox.is_current(message.payload, appointment):
        return None  # answered, moved or cancelled before it could be shown: nothing to do
    business = d.booking.business_of(appointment)
    patient = await patient_of(d, appointment)
    no_shows = await d.store.appointments.no_shows(patient_id=appointment.patient_id)
    language = staff_language(context, message.chat_id)
    waiting = appointment.status == Status.REQUESTED
    return Rendered(
        _inbox_text(d, language, appointment, business, patient, no_shows),
        _decision_buttons(d, language, appointment) if waiting else None,
        inbox_copy=waiting,
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
        who = secretary_name(d, actor) if actor is not None else ""
        outcome = d.i18n.text(language, outcome_key, secretary=who)
        try:
            await context.bot.edit_message_text(
                f"{request_text}\n{outcome}", chat_id=chat_id, message_id=message_id
            )
        except TelegramError as error:
            # Best effort: already showing the outcome, deleted by the secretary, or Telegram
            # failing now. A button left on a copy answers "already confirmed" when tapped.
            log.info("inbox copy %s/%s not edited: %s", chat_id, message_id, error)


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
    button = callbacks.read(query.data, "req:ok", "req:no")
    (raw_id,) = button
    action = button.route.removeprefix("req:")
    decide_with = d.booking.confirm if action == "ok" else d.booking.decline
    try:
        appointment = await decide_with(raw_id, actor=user.id)
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
    await audit(
        d,
        user.id,
        "request.confirm" if action == "ok" else "request.decline",
        f"appointment:{appointment.id}",
        {**snapshot(appointment), "status": Status.REQUESTED},
        snapshot(appointment),
    )
    # What the patient is owed was written with the decision; the copies are best effort.
    outcome = "secretary.confirmed_by" if action == "ok" else "secretary.declined_by"
    await refresh_inbox(context, appointment, outcome, user.id)
    if action == "no":
        await waitlist.offer_freed(context)
    if action == "ok":
        await series.offer_repeat(update, context, appointment)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    businesses = lookups.listing(d, language, [b.name for b in d.settings.businesses])
    welcome = d.i18n.text(
        language, "secretary.welcome", name=secretary_name(d, user.id), businesses=businesses
    )
    commands = d.i18n.text(language, "desk.help")
    await update.effective_message.reply_text(f"{welcome}\n\n{commands}")


async def _already(update: Update, d: Deps, language: str, appointment: Appointment) -> None:
    status = d.i18n.text(language, f"status.{appointment.status}")
    await update.callback_query.answer(
        d.i18n.text(language, "secretary.already", status=status), show_alert=True
    )


def _waited(language: str, delta: timedelta) -> str:
    """``2 h 30 min``, ``1 j 3 h``, ``5 min``: the two largest units, as a phone shows them."""
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    units = [
        timedelta(days=days),
        timedelta(hours=hours),
        timedelta(minutes=minutes),
    ]
    first = next(index for index, unit in enumerate(units) if unit)
    return " ".join(
        format_timedelta(unit, format="short", locale=language, threshold=1)
        for unit in units[first : first + 2]
        if unit
    )


def _escalate_after(d: Deps, business: Business) -> timedelta:
    return business.escalate_after or d.settings.escalate_after


# -- the inbox: /demandes ----------------------------------------------------------------------


async def _pending(d: Deps) -> list[Appointment]:
    """Patients' requests waiting for a secretary, oldest first (not the office's proposals,
    which wait for the patient)."""
    known = {d.booking.business_id(b) for b in d.settings.businesses}
    return [
        a
        for a in await d.store.appointments.requested_before(d.clock.now())
        # A business dropped from config keeps its rows; nobody answers for it any more.
        if a.source == Source.PATIENT and a.business_id in known
    ]


async def inbox(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/demandes`` (``/requests``): every business's pending requests, oldest first."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    pending = await _pending(d)
    if not pending:
        await update.effective_message.reply_text(d.i18n.text(language, "inbox.empty"))
        return
    await update.effective_message.reply_text(
        d.i18n.text(language, "inbox.title", count=len(pending))
    )
    now = d.clock.now()
    for appointment in pending[:SHOWN_AT_ONCE]:
        business = d.booking.business_of(appointment)
        patient = await patient_of(d, appointment)
        no_shows = await d.store.appointments.no_shows(patient_id=appointment.patient_id)
        waited = now - appointment.scheduled_at
        key = "inbox.waiting_long" if waited >= _escalate_after(d, business) else "inbox.waiting"
        text = "\n".join(
            [
                _inbox_text(d, language, appointment, business, patient, no_shows),
                d.i18n.text(language, key, waited=_waited(language, waited)),
            ]
        )
        message = await update.effective_message.reply_text(
            text, reply_markup=_decision_buttons(d, language, appointment)
        )
        # This copy is the one refreshed once someone answers.
        await d.store.appointments.remember_inbox_message(
            appointment.id, user.id, message.message_id
        )
    if len(pending) > SHOWN_AT_ONCE:
        await update.effective_message.reply_text(
            d.i18n.text(language, "inbox.more", count=len(pending) - SHOWN_AT_ONCE)
        )


# -- proposing another slot: req:pr:<id>, then req:ps:<id>:<epoch>:<practitioner> ------------


async def propose_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The free slots nearest to the one asked for, to propose one instead."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    (appointment_id,) = callbacks.read(update.callback_query.data, "req:pr")
    appointment = await d.store.appointments.get(appointment_id)
    if appointment is None:
        await answer_stale(update, d, language)
        return
    if appointment.status != Status.REQUESTED:
        await _already(update, d, language, appointment)
        return
    await update.callback_query.answer()
    await _show_proposals(update, d, language, appointment, intro_key="inbox.propose_which")


async def _show_proposals(
    update: Update, d: Deps, language: str, appointment: Appointment, *, intro_key: str
) -> None:
    business = d.booking.business_of(appointment)
    service = business.service(appointment.service)
    values = appointment_values(d, language, appointment, business)
    patient = await patient_of(d, appointment)
    who = contact_of(appointment, patient)
    if service is None:
        await update.effective_message.reply_text(
            d.i18n.text(language, "inbox.no_slot", patient=who, **values)
        )
        return
    local = d.booking.local(business, appointment.starts_at)
    offer = await d.booking.offer(
        business,
        service,
        Wanted(local.date(), local.date(), local.time(), local.time()),
        limit=PROPOSALS_SHOWN,
    )
    if not offer.slots:
        await update.effective_message.reply_text(
            d.i18n.text(language, "inbox.no_slot", patient=who, **values)
        )
        return
    buttons = [
        (
            f"{d.i18n.short_day(language, slot.start)} {d.i18n.time(language, slot.start)}",
            f"req:ps:{appointment.id}:{int(slot.start.timestamp())}:"
            f"{business.practitioners.index(slot.practitioner)}",
        )
        for slot in offer.slots
    ]
    await update.effective_message.reply_text(
        d.i18n.text(language, intro_key, patient=who, **values),
        reply_markup=keyboard(*in_rows(buttons, 2)),
    )


async def propose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Propose the tapped slot: the request is declined, the patient asked about the new one."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    raw_id, start, index = callbacks.read(update.callback_query.data, "req:ps")
    request = await d.store.appointments.get(raw_id)
    if request is None:
        await answer_stale(update, d, language)
        return
    business = d.booking.business_of(request)
    if index >= len(business.practitioners):
        await answer_stale(update, d, language)
        return
    try:
        declined, proposal = await d.booking.propose(
            request.id, start, business.practitioners[int(index)], actor=user.id
        )
    except StaleStatus as stale:
        await _already(update, d, language, stale.appointment)
        return
    except (SlotTaken, ValueError) as error:
        log.info("secretary %s could not propose %s for %s: %s", user.id, start, raw_id, error)
        await update.callback_query.answer(
            d.i18n.text(language, "inbox.slot_gone"), show_alert=True
        )
        await _show_proposals(update, d, language, request, intro_key="inbox.propose_again")
        return
    await audit(
        d,
        user.id,
        "request.propose",
        f"appointment:{request.id}",
        snapshot(request),
        {**snapshot(declined), "proposal": proposal.id, "proposed": snapshot(proposal)},
    )
    patient = await patient_of(d, proposal)
    values = appointment_values(d, language, proposal, business)
    await reply(
        update,
        d.i18n.text(language, "inbox.proposed", patient=contact_of(proposal, patient), **values),
    )
    await refresh_inbox(context, declined, "inbox.proposed_by", user.id)
    await waitlist.offer_freed(context)


# -- escalation of old requests: a repeating job -----------------------------------------------


async def escalate(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Flag each request older than ``escalate_after`` to its business's employers, once."""
    d = deps(context)
    now = d.clock.now()
    flags = []
    soonest = min(_escalate_after(d, b) for b in d.settings.businesses)
    known = {d.booking.business_id(b) for b in d.settings.businesses}
    for appointment in await d.store.appointments.unflagged_before(now - soonest):
        if appointment.business_id not in known:
            continue  # dropped from config: nobody answers for it any more
        business = d.booking.business_of(appointment)
        waited = now - appointment.scheduled_at
        if waited >= _escalate_after(d, business):
            minutes = int(waited.total_seconds() // 60)
            flags.append(
                (
                    appointment.id,
                    outbox.to_employers(business, outbox.ESCALATION, appointment, waited=minutes),
                )
            )
    if flags:
        for appointment_id in await d.store.escalations.claim(flags, now):
            log.info("request %s flagged to its employers", appointment_id)


async def _escalation(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    language = staff_language(context, message.chat_id)
    waited = _waited(language, timedelta(minutes=message.payload["waited"]))
    return await staff_notice(context, message, "escalation.text", waited=waited)


# -- after the appointment: /presences, apt:done:<id> / apt:ns:<id> ----------------------------


def _attendance_text(
    d: Deps, language: str, appointment: Appointment, business: Business, who: str, no_shows: int
) -> str:
    text = d.i18n.text(
        language,
        "attendance.item",
        patient=who,
        **appointment_values(d, language, appointment, business),
    )
    if no_shows:
        text += "\n" + d.i18n.text(language, "inbox.no_shows", count=no_shows)
    return text


async def attendance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/presences`` (``/attendance``): past confirmed appointments to mark done or no-show."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    now = d.clock.now()
    to_mark: list[tuple[Appointment, Business]] = []
    for business in d.settings.businesses:
        for appointment in await d.store.appointments.between(
            d.booking.business_id(business), now - timedelta(days=ATTENDANCE_DAYS), now
        ):
            if appointment.status == Status.CONFIRMED:
                to_mark.append((appointment, business))
    to_mark.sort(key=lambda pair: pair[0].starts_at)
    if not to_mark:
        await update.effective_message.reply_text(d.i18n.text(language, "attendance.none"))
        return
    for appointment, business in to_mark[:SHOWN_AT_ONCE]:
        patient = await patient_of(d, appointment)
        no_shows = await d.store.appointments.no_shows(
            patient_id=appointment.patient_id, caller_phone=appointment.caller_phone
        )
        text = _attendance_text(
            d, language, appointment, business, contact_of(appointment, patient), no_shows
        )
        buttons = keyboard(
            [
                (d.i18n.text(language, "attendance.came"), f"apt:done:{appointment.id}"),
                (d.i18n.text(language, "attendance.no_show"), f"apt:ns:{appointment.id}"),
            ]
        )
        await update.effective_message.reply_text(text, reply_markup=buttons)
    if len(to_mark) > SHOWN_AT_ONCE:
        await update.effective_message.reply_text(
            d.i18n.text(language, "inbox.more", count=len(to_mark) - SHOWN_AT_ONCE)
        )


async def mark_attendance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    button = callbacks.read(update.callback_query.data, "apt:done", "apt:ns")
    (raw_id,) = button
    try:
        appointment = await d.booking.record_attendance(
            raw_id, came=button.route == "apt:done", actor=user.id
        )
    except StaleStatus as stale:
        await _already(update, d, language, stale.appointment)
        return
    except ValueError:
        await update.callback_query.answer(
            d.i18n.text(language, "attendance.not_yet"), show_alert=True
        )
        return
    except LookupError:
        await answer_stale(update, d, language)
        return
    await audit(
        d,
        user.id,
        f"appointment.{appointment.status}",
        f"appointment:{appointment.id}",
        {**snapshot(appointment), "status": Status.CONFIRMED},
        snapshot(appointment),
    )
    business = d.booking.business_of(appointment)
    patient = await patient_of(d, appointment)
    key = "attendance.came_by" if appointment.status == Status.DONE else "attendance.no_show_by"
    text = _attendance_text(
        d, language, appointment, business, contact_of(appointment, patient), no_shows=0
    )
    outcome = d.i18n.text(language, key, secretary=secretary_name(d, user.id))
    await reply(update, f"{text}\n{outcome}")


RENDERERS: dict[str, Renderer] = {
    outbox.INBOX: _inbox_request,
    outbox.ESCALATION: _escalation,
}
