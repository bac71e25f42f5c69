"""Secretaries: every business's requests in one inbox, confirmed or declined in one tap.

Each command and button checks the sender against config at every call: a button's
callback data can be replayed by anyone who has seen it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_timedelta
from telegram import InlineKeyboardMarkup, Update, User
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.agenda import Wanted
from bot.agenda_image import Day, Entry, Kind, Legend, render_week
from bot.callers import read_booking, read_caller
from bot.config import Business, Service
from bot.i18n import pick_language
from bot.ics import CalendarEvent, calendar_file
from bot.nlu import parse_request
from handlers.common import (
    Deps,
    StaleButton,
    appointment_values,
    deps,
    is_secretary,
    keyboard,
    reply,
    send_safely,
    staff_language,
)
from storage.appointments import Appointment, SlotTaken, Source, StaleStatus, Status
from storage.blocks import Block, NewBlock
from storage.calls import NewCall
from storage.people import Person

log = logging.getLogger(__name__)


def _secretary_name(d: Deps, user_id: int) -> str:
    return next(s.name for s in d.settings.secretaries if s.telegram_id == user_id)


def _contact(appointment: Appointment, patient: Person | None) -> str:
    """``Alice Martin · @alice_m · +33 6...``, or the phone caller's name and number."""
    if patient is not None:
        parts = (
            patient.full_name,
            f"@{patient.username}" if patient.username else None,
            patient.phone,
        )
    else:
        parts = (appointment.caller_name, appointment.caller_phone)
    return " · ".join(part for part in parts if part)


def _inbox_text(
    d: Deps,
    language: str,
    appointment: Appointment,
    business: Business,
    patient: Person | None,
    no_shows: int = 0,
) -> str:
    contact = _contact(appointment, patient)
    if no_shows:
        contact += " · " + d.i18n.text(language, "inbox.no_shows", count=no_shows)
    key = "secretary.request" if business.requires_confirmation else "secretary.booked"
    return d.i18n.text(
        language, key, patient=contact, **appointment_values(d, language, appointment, business)
    )


def _decision_buttons(d: Deps, language: str, appointment: Appointment) -> InlineKeyboardMarkup:
    return keyboard(
        [
            (d.i18n.text(language, "secretary.confirm"), f"req:ok:{appointment.id}"),
            (d.i18n.text(language, "secretary.decline"), f"req:no:{appointment.id}"),
        ],
        [(d.i18n.text(language, "inbox.propose"), f"req:pr:{appointment.id}")],
    )


async def announce(
    context: ContextTypes.DEFAULT_TYPE,
    appointment: Appointment,
    business: Business,
    patient: Person | None,
) -> None:
    """Put a new request (or a direct booking) in every secretary's inbox."""
    d = deps(context)
    no_shows = await d.store.appointments.no_shows(patient_id=appointment.patient_id)
    for secretary in d.settings.secretaries:
        language = secretary.language
        text = _inbox_text(d, language, appointment, business, patient, no_shows)
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
        appointment = await decide_with(_number(raw_id), actor=user.id)
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
    await _audit(
        d,
        user.id,
        "request.confirm" if action == "ok" else "request.decline",
        f"appointment:{appointment.id}",
        {**_snapshot(appointment), "status": Status.REQUESTED},
        _snapshot(appointment),
    )
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
    welcome = d.i18n.text(
        language, "secretary.welcome", name=_secretary_name(d, user.id), businesses=businesses
    )
    commands = d.i18n.text(language, "desk.help")
    await update.effective_message.reply_text(f"{welcome}\n\n{commands}")


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


# == The secretary's phone: inbox, proposals, agenda, .ics, phone bookings, call messages,
# == blocked time, attendance, escalation. Every handler checks the sender's role first.

# How many requests (or appointments to mark) one command shows, one message each.
SHOWN_AT_ONCE = 10
PROPOSALS_SHOWN = 6
# The soonest blocks /debloquer offers to lift, one button each.
BLOCKS_SHOWN = 20
DAYS_SHOWN = 6
ICS_WEEKS = 6
# Past appointments still waiting to be marked done or no-show.
ATTENDANCE_DAYS = 14
# A /rdv or /appel left half-typed is forgotten after this.
DESK_TIMEOUT = timedelta(minutes=30)
# Telegram's limit is 4096 characters; long agendas are split below it.
MESSAGE_LIMIT = 4000
_SHOWN_STATUSES = (Status.REQUESTED, Status.CONFIRMED, Status.DONE, Status.NO_SHOW)
_STATUS_ICONS = {
    Status.REQUESTED: "⏳",
    Status.CONFIRMED: "✅",
    Status.DONE: "☑️",
    Status.NO_SHOW: "🚫",
}
_WEEK_WORDS = re.compile(r"\b(?:semaine|week)\b", re.IGNORECASE)
_HOURS = re.compile(
    r"\b(?P<h1>\d{1,2})\s*[h:]\s*(?P<m1>\d{2})?\s*(?:-|–|à|a|to)\s*"
    r"(?P<h2>\d{1,2})\s*(?:[h:]\s*(?P<m2>\d{2})?)?",
    re.IGNORECASE,
)
_ALL_DAY = re.compile(
    r"(?:toute\s+la\s+)?journ[ée]e(?:\s+enti[èe]re)?|\ball\s+day\b|\bwhole\s+day\b",
    re.IGNORECASE,
)
# Conversation states of /rdv and /appel.
RDV, CALL = range(2)


# -- access ------------------------------------------------------------------------------------


def _reader_language(context: ContextTypes.DEFAULT_TYPE, user: User) -> str:
    d = deps(context)
    if d.settings.is_secretary(user.id) or d.settings.businesses_of_employer(user.id):
        return staff_language(context, user.id)
    return pick_language(user.language_code, d.settings.language)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A polite no to someone who may not do this; nothing changes, the attempt is logged."""
    d = deps(context)
    user = update.effective_user
    query = update.callback_query
    asked = query.data if query is not None else update.effective_message.text
    log.warning("refused %r from user %s: not a secretary", asked, user.id)
    text = d.i18n.text(_reader_language(context, user), "error.not_allowed")
    if query is not None:
        await query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(text)
    return ConversationHandler.END


async def _secretary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The role, from config, at every call: buttons can be replayed by anyone who saw them."""
    if is_secretary(context, update.effective_user):
        return True
    await refuse(update, context)
    return False


async def _stale(update: Update, d: Deps, language: str) -> None:
    log.warning(
        "user %s sent unusable callback data %r",
        update.effective_user.id,
        update.callback_query.data,
    )
    await update.callback_query.answer(d.i18n.text(language, "error.stale_button"), show_alert=True)


async def _already(update: Update, d: Deps, language: str, appointment: Appointment) -> None:
    status = d.i18n.text(language, f"status.{appointment.status}")
    await update.callback_query.answer(
        d.i18n.text(language, "secretary.already", status=status), show_alert=True
    )


async def _audit(
    d: Deps,
    actor: int,
    action: str,
    target: str,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
) -> None:
    await d.store.audit.record(actor, action, target, before, after, d.clock.now())


def _snapshot(appointment: Appointment) -> dict[str, object]:
    return {
        "status": appointment.status,
        "starts_at": appointment.starts_at,
        "practitioner": appointment.practitioner,
        "service": appointment.service,
    }


def _rows(buttons: list[tuple[str, str]], per_row: int) -> list[list[tuple[str, str]]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _find_business(d: Deps, word: str) -> Business | None:
    """A business named by its slug, or by the start of it when only one slug starts so."""
    word = word.lower()
    exact = d.settings.business(word)
    if exact is not None:
        return exact
    starting = [b for b in d.settings.businesses if len(word) >= 3 and b.slug.startswith(word)]
    return starting[0] if len(starting) == 1 else None


def _slugs(d: Deps) -> str:
    return ", ".join(b.slug for b in d.settings.businesses)


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
        format_timedelta(unit, format="short", locale=language)
        for unit in units[first : first + 2]
        if unit
    )


def _escalate_after(d: Deps, business: Business) -> timedelta:
    return business.escalate_after or d.settings.escalate_after


def _day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


# Callback data is checked by pattern only: a forged number too big for SQLite or a date that
# does not exist must end as a stale button, not as an error.


def _number(text: str) -> int:
    if not text.isdigit() or int(text) >= 2**63:
        raise StaleButton(f"{text!r} is no usable number")
    return int(text)


def _moment(epoch: str) -> datetime:
    try:
        return datetime.fromtimestamp(_number(epoch), UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise StaleButton(f"{epoch!r} is no moment") from error


def _day_of(code: str) -> date:
    try:
        return datetime.strptime(code, "%Y%m%d").date()
    except ValueError as error:
        raise StaleButton(f"{code!r} is no day") from error


def _hours(moment: datetime) -> float:
    return moment.hour + moment.minute / 60


# -- the inbox: /demandes ----------------------------------------------------------------------


async def _patient_of(d: Deps, appointment: Appointment) -> Person | None:
    return await d.store.people.get(appointment.patient_id) if appointment.patient_id else None


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
    if not await _secretary(update, context):
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
        patient = await _patient_of(d, appointment)
        no_shows = await d.store.appointments.no_shows(patient_id=appointment.patient_id)
        waited = now - appointment.created_at
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
    if not await _secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    appointment = await d.store.appointments.get(_number(update.callback_query.data.split(":")[2]))
    if appointment is None:
        await _stale(update, d, language)
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
    patient = await _patient_of(d, appointment)
    who = _contact(appointment, patient)
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
        reply_markup=keyboard(*_rows(buttons, 2)),
    )


async def propose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Propose the tapped slot: the request is declined, the patient asked about the new one."""
    if not await _secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    _, _, raw_id, epoch, index = update.callback_query.data.split(":")
    request = await d.store.appointments.get(_number(raw_id))
    if request is None:
        await _stale(update, d, language)
        return
    business = d.booking.business_of(request)
    if _number(index) >= len(business.practitioners):
        await _stale(update, d, language)
        return
    start = _moment(epoch)
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
    await update.callback_query.answer()
    await _audit(
        d,
        user.id,
        "request.propose",
        f"appointment:{request.id}",
        _snapshot(request),
        {**_snapshot(declined), "proposal": proposal.id, "proposed": _snapshot(proposal)},
    )
    patient = await _patient_of(d, proposal)
    values = appointment_values(d, language, proposal, business)
    await update.callback_query.edit_message_text(
        d.i18n.text(language, "inbox.proposed", patient=_contact(proposal, patient), **values)
    )
    await refresh_inbox(context, declined, "inbox.proposed_by", user.id)
    if patient is not None:
        await _send_proposal(context, d, patient, request, proposal, business)


async def _send_proposal(
    context: ContextTypes.DEFAULT_TYPE,
    d: Deps,
    patient: Person,
    request: Appointment,
    proposal: Appointment,
    business: Business,
) -> None:
    language = patient.language
    asked = d.booking.local(business, request.starts_at)
    text = d.i18n.text(
        language,
        "proposal.offer",
        asked_day=d.i18n.day(language, asked),
        asked_time=d.i18n.time(language, asked),
        **appointment_values(d, language, proposal, business),
    )
    buttons = keyboard(
        [
            (d.i18n.text(language, "proposal.accept"), f"prop:ok:{proposal.id}"),
            (d.i18n.text(language, "proposal.refuse"), f"prop:no:{proposal.id}"),
        ]
    )
    await send_safely(context, patient.telegram_id, text, buttons)


async def proposal_answered(context: ContextTypes.DEFAULT_TYPE, proposal: Appointment) -> None:
    """The patient took or turned down a proposed slot: every secretary is told."""
    d = deps(context)
    business = d.booking.business_of(proposal)
    patient = await _patient_of(d, proposal)
    key = (
        "proposal.accepted_by_patient"
        if proposal.status == Status.CONFIRMED
        else "proposal.refused_by_patient"
    )
    for secretary in d.settings.secretaries:
        language = secretary.language
        values = appointment_values(d, language, proposal, business)
        text = d.i18n.text(language, key, patient=_contact(proposal, patient), **values)
        await send_safely(context, secretary.telegram_id, text)


# -- escalation of old requests: a repeating job -----------------------------------------------


async def escalate(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Flag each request older than ``escalate_after`` to its business's employers, once."""
    d = deps(context)
    now = d.clock.now()
    due: list[tuple[Appointment, Business]] = []
    for appointment in await _pending(d):
        business = d.booking.business_of(appointment)
        if now - appointment.created_at >= _escalate_after(d, business):
            due.append((appointment, business))
    if not due:
        return
    claimed = set(await d.store.escalations.claim([a.id for a, _ in due], now))
    for appointment, business in due:
        if appointment.id not in claimed:
            continue
        patient = await _patient_of(d, appointment)
        for employer in business.employers:
            language = staff_language(context, employer)
            text = d.i18n.text(
                language,
                "escalation.text",
                patient=_contact(appointment, patient),
                waited=_waited(language, now - appointment.created_at),
                **appointment_values(d, language, appointment, business),
            )
            await send_safely(context, employer, text)
        log.info("request %s flagged to the employers of %s", appointment.id, business.slug)


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
    if not await _secretary(update, context):
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
        patient = await _patient_of(d, appointment)
        no_shows = await d.store.appointments.no_shows(
            patient_id=appointment.patient_id, caller_phone=appointment.caller_phone
        )
        text = _attendance_text(
            d, language, appointment, business, _contact(appointment, patient), no_shows
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
    if not await _secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    _, action, raw_id = update.callback_query.data.split(":")
    try:
        appointment = await d.booking.record_attendance(
            _number(raw_id), came=action == "done", actor=user.id
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
        await _stale(update, d, language)
        return
    await _audit(
        d,
        user.id,
        f"appointment.{appointment.status}",
        f"appointment:{appointment.id}",
        {"status": Status.CONFIRMED},
        {"status": appointment.status},
    )
    business = d.booking.business_of(appointment)
    patient = await _patient_of(d, appointment)
    key = "attendance.came_by" if appointment.status == Status.DONE else "attendance.no_show_by"
    text = _attendance_text(
        d, language, appointment, business, _contact(appointment, patient), no_shows=0
    )
    outcome = d.i18n.text(language, key, secretary=_secretary_name(d, user.id))
    await reply(update, f"{text}\n{outcome}")


# -- the agenda: /agenda [business] [aujourd'hui|demain|semaine|DATE] ---------------------------


@dataclass(frozen=True)
class _Period:
    first: date
    week: bool  # the week starting on ``first`` (a Monday), else that day


def _period(words: str, now: datetime) -> _Period | None:
    """``""`` today; ``demain``, ``jeudi``, ``14/01``...; ``semaine`` (and ``semaine
    prochaine``, ``semaine du 18 janvier``) a week; None for anything else."""
    today = now.date()
    if not words:
        return _Period(today, week=False)
    week = bool(_WEEK_WORDS.search(words))
    request = parse_request(words, now)
    if request.day_from is None:
        return _Period(today - timedelta(days=today.weekday()), week=True) if week else None
    if week or request.day_to > request.day_from:
        first = request.day_from
        return _Period(first - timedelta(days=first.weekday()), week=True)
    return _Period(request.day_from, week=False)


async def agenda(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/agenda`` for a secretary: every business."""
    if not await _secretary(update, context):
        return
    await send_agenda(update, context, deps(context).settings.businesses)


async def send_agenda(
    update: Update, context: ContextTypes.DEFAULT_TYPE, visible: list[Business]
) -> None:
    """``/agenda`` for someone allowed to see ``visible`` (an employer: their own)."""
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    words = list(context.args or [])
    named = _find_business(d, words[0]) if words else None
    if named is not None:
        words = words[1:]
        if named not in visible:
            log.warning("user %s asked for the agenda of %s: not theirs", user.id, named.slug)
            await update.effective_message.reply_text(d.i18n.text(language, "agenda.not_yours"))
            return
    businesses = [named] if named is not None else visible
    zone = d.booking.rules[businesses[0].slug].zone if len(businesses) == 1 else None
    now = d.clock.now().astimezone(zone or d.booking.office_zone)
    period = _period(" ".join(words), now)
    if period is None:
        await update.effective_message.reply_text(
            d.i18n.text(language, "agenda.usage", businesses=", ".join(b.slug for b in visible))
        )
        return
    if period.week:
        if len(businesses) == 1:
            await _send_week(context, user.id, language, businesses[0], period.first)
            return
        buttons = [[(b.name, f"agw:{b.slug}:{_day_code(period.first)}")] for b in businesses]
        await update.effective_message.reply_text(
            d.i18n.text(language, "agenda.which_business"), reply_markup=keyboard(*buttons)
        )
        return
    sections = []
    for business in businesses:
        section = await _day_text(d, language, business, period.first, always=len(businesses) == 1)
        if section is not None:
            sections.append(section)
    if not sections:
        sections = [d.i18n.text(language, "agenda.nothing", day=d.i18n.day(language, period.first))]
    for text in _pack(sections):
        await update.effective_message.reply_text(text)


def _pack(sections: list[str]) -> list[str]:
    """Sections joined into as few messages as Telegram's length limit allows."""
    messages: list[str] = []
    for section in sections:
        for start in range(0, len(section), MESSAGE_LIMIT):
            piece = section[start : start + MESSAGE_LIMIT]
            if messages and len(messages[-1]) + 2 + len(piece) <= MESSAGE_LIMIT:
                messages[-1] += "\n\n" + piece
            else:
                messages.append(piece)
    return messages


async def agenda_week_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``agw:<slug>:<monday>``: the week of one business, for whoever may see it."""
    d = deps(context)
    user = update.effective_user
    _, slug, code = update.callback_query.data.split(":")
    business = d.settings.business(slug)
    visible = (
        d.settings.businesses
        if d.settings.is_secretary(user.id)
        else d.settings.businesses_of_employer(user.id)
    )
    if business is None or business not in visible:
        await refuse(update, context)
        return
    language = staff_language(context, user.id)
    await update.callback_query.answer()
    await _send_week(context, user.id, language, business, _day_of(code))


@dataclass(frozen=True)
class _Booked:
    """An appointment or a block, as the agenda shows it: local times."""

    start: datetime
    end: datetime
    appointment: Appointment | None = None
    patient: Person | None = None
    block: Block | None = None


async def _booked(d: Deps, business: Business, first: date, last: date) -> list[_Booked]:
    """A business's appointments and blocks from ``first`` to ``last`` included, in time order."""
    zone = d.booking.rules[business.slug].zone
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    business_id = d.booking.business_id(business)
    found = []
    for appointment in await d.store.appointments.between(business_id, start, end):
        if appointment.status in _SHOWN_STATUSES:
            found.append(
                _Booked(
                    appointment.starts_at.astimezone(zone),
                    appointment.ends_at.astimezone(zone),
                    appointment=appointment,
                    patient=await _patient_of(d, appointment),
                )
            )
    for block in await d.store.blocks.overlapping(business_id, start, end):
        found.append(
            _Booked(
                max(block.starts_at, start).astimezone(zone),
                min(block.ends_at, end).astimezone(zone),
                block=block,
            )
        )
    return sorted(found, key=lambda item: (item.start, item.block is None))


def _who(appointment: Appointment, patient: Person | None) -> str:
    if patient is not None:
        return patient.full_name
    return f"📞 {appointment.caller_name or ''}".strip()


def _block_line(d: Deps, language: str, block: Block, start: datetime, end: datetime) -> str:
    whom = block.practitioner or d.i18n.text(language, "agenda.everyone")
    reason = block.reason or d.i18n.text(language, "agenda.blocked")
    if start.time() == time.min and end - start >= timedelta(hours=23):
        return d.i18n.text(language, "agenda.block_all_day", reason=reason, whom=whom)
    return d.i18n.text(
        language,
        "agenda.block_line",
        start=d.i18n.time(language, start),
        end=d.i18n.time(language, end),
        reason=reason,
        whom=whom,
    )


async def _day_text(
    d: Deps, language: str, business: Business, day: date, *, always: bool
) -> str | None:
    """One business's day, or None when it has nothing and ``always`` is false."""
    booked = [
        item
        for item in await _booked(d, business, day, day)
        # A block of several days is cut to this one; an appointment belongs to its start.
        if item.start.date() == day or item.block is not None
    ]
    if not booked and not always:
        return None
    lines = [
        d.i18n.text(
            language, "agenda.day_title", business=business.name, day=d.i18n.day(language, day)
        )
    ]
    if not booked:
        closed = not d.booking.rules[business.slug].periods(day)
        lines.append(d.i18n.text(language, "agenda.closed" if closed else "agenda.empty"))
    for item in booked:
        if item.block is not None:
            lines.append(_block_line(d, language, item.block, item.start, item.end))
            continue
        appointment = item.appointment
        service = business.service(appointment.service)
        lines.append(
            d.i18n.text(
                language,
                "agenda.line",
                start=d.i18n.time(language, item.start),
                end=d.i18n.time(language, item.end),
                icon=_STATUS_ICONS[appointment.status],
                service=service.name if service else appointment.service,
                who=_who(appointment, item.patient) + _attendance_note(d, language, appointment),
                practitioner=appointment.practitioner,
            )
        )
    return "\n".join(lines)


def _attendance_note(d: Deps, language: str, appointment: Appointment) -> str:
    """The patient answered a reminder (or wrote) that they will come."""
    if appointment.patient_confirmed_at is None:
        return ""
    return " " + d.i18n.text(language, "agenda.patient_confirmed")


def _image_entry(
    d: Deps, language: str, item: _Booked, column: int, start: datetime, end: datetime
) -> Entry:
    if item.block is not None:
        reason = item.block.reason or ""
        label = d.i18n.text(language, "agenda.blocked") + (f"\n{reason}" if reason else "")
        return Entry(
            column, _hours(start), _hours(end) or 24.0, label, Kind.BLOCKED, item.block.practitioner
        )
    appointment = item.appointment
    if item.patient is not None:
        short = item.patient.last_name or item.patient.first_name
    else:
        short = appointment.caller_name or ""
    kind = {
        Status.REQUESTED: Kind.PENDING,
        Status.CONFIRMED: Kind.CONFIRMED,
        Status.DONE: Kind.DONE,
        Status.NO_SHOW: Kind.NO_SHOW,
    }[appointment.status]
    label = f"{d.i18n.time(language, start)}\n{short}"
    return Entry(column, _hours(start), _hours(end), label, kind, appointment.practitioner)


async def _send_week(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    language: str,
    business: Business,
    monday: date,
) -> None:
    d = deps(context)
    rules = d.booking.rules[business.slug]
    week = [monday + timedelta(days=offset) for offset in range(7)]
    booked = await _booked(d, business, week[0], week[-1])
    pieces: list[tuple[date, _Booked, datetime, datetime]] = []
    for item in booked:
        # Cut at each midnight: a block of three days is three columns' worth.
        start = item.start
        while start < item.end:
            midnight = datetime.combine(
                start.date() + timedelta(days=1), time.min, tzinfo=start.tzinfo
            )
            end = min(item.end, midnight)
            if start.date() in week:
                pieces.append((start.date(), item, start, end))
            start = end
    shown = [
        day
        for day in week
        if rules.periods(day) or any(p[0] == day and p[1].block is None for p in pieces)
    ]
    if not shown:
        await send_safely(
            context,
            chat_id,
            d.i18n.text(
                language,
                "agenda.week_closed",
                business=business.name,
                day=d.i18n.day(language, monday),
            ),
        )
        return
    days = [
        Day(
            d.i18n.short_day(language, day),
            tuple((_hours(opens), _hours(closes)) for opens, closes in rules.periods(day)),
        )
        for day in shown
    ]
    entries = [
        _image_entry(d, language, item, shown.index(day), start, end)
        for day, item, start, end in pieces
        if day in shown
    ]
    appointments = [item.appointment for item in booked if item.appointment is not None]
    title = d.i18n.text(
        language, "agenda.week_title", business=business.name, day=d.i18n.day(language, monday)
    )
    legend = Legend(
        pending=d.i18n.text(language, "agenda.legend_pending"),
        blocked=d.i18n.text(language, "agenda.blocked"),
        closed=d.i18n.text(language, "agenda.legend_closed"),
    )
    # Drawing takes a tenth of a second: off the event loop, so other chats are not kept waiting.
    png = await asyncio.to_thread(render_week, title, days, entries, business.practitioners, legend)
    caption = d.i18n.text(
        language,
        "agenda.week_caption",
        business=business.name,
        day=d.i18n.day(language, monday),
        count=len(appointments),
        pending=sum(1 for a in appointments if a.status == Status.REQUESTED),
    )
    await context.bot.send_photo(
        chat_id,
        photo=png,
        caption=caption,
        filename=f"agenda-{business.slug}-{monday.isoformat()}.png",
    )


# -- /ics <business> ---------------------------------------------------------------------------


async def ics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The coming weeks of one business as an .ics file phone calendars import."""
    if not await _secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    if context.args:
        business = _find_business(d, context.args[0])
    elif len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    else:
        business = None
    if business is None:
        await update.effective_message.reply_text(
            d.i18n.text(language, "ics.usage", businesses=_slugs(d))
        )
        return
    today = d.booking.today(business)
    last = today + timedelta(weeks=ICS_WEEKS) - timedelta(days=1)
    events = []
    for item in await _booked(d, business, today, last):
        if item.block is not None:
            whom = item.block.practitioner or d.i18n.text(language, "agenda.everyone")
            reason = item.block.reason or d.i18n.text(language, "agenda.blocked")
            events.append(
                CalendarEvent(
                    key=f"block-{item.block.id}",
                    start=item.block.starts_at,
                    end=item.block.ends_at,
                    summary=d.i18n.text(language, "ics.block", reason=reason, whom=whom),
                )
            )
            continue
        appointment = item.appointment
        if appointment.status not in (Status.REQUESTED, Status.CONFIRMED):
            continue
        values = appointment_values(d, language, appointment, business)
        status = d.i18n.text(language, f"status.{appointment.status}")
        events.append(
            CalendarEvent(
                key=f"appointment-{appointment.id}",
                start=appointment.starts_at,
                end=appointment.ends_at,
                summary=d.i18n.text(
                    language,
                    "ics.summary",
                    who=_contact(appointment, item.patient),
                    **values,
                ),
                description=d.i18n.text(language, "ics.description", status=status, **values),
                location=business.address,
                tentative=appointment.status == Status.REQUESTED,
            )
        )
    data = calendar_file(business.name, events, d.clock.now())
    await update.effective_message.reply_document(
        document=data,
        filename=f"{business.slug}-{today.isoformat()}.ics",
        caption=d.i18n.text(
            language, "ics.caption", business=business.name, count=len(events), weeks=ICS_WEEKS
        ),
    )


# -- blocked time: /bloquer <business> <day> <hours> [practitioner] [reason], and its undo ------


@dataclass(frozen=True)
class _BlockAsk:
    business: Business
    start: datetime
    end: datetime
    practitioner: str | None
    reason: str | None


def _read_block(d: Deps, words: list[str]) -> _BlockAsk | str:
    """The block asked for, or the key of the message saying what is wrong."""
    business = _find_business(d, words[0]) if words else None
    if business is None and len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    elif business is None:
        return "block.usage"
    else:
        words = words[1:]
    text = " ".join(words)
    zone = d.booking.rules[business.slug].zone
    now = d.clock.now().astimezone(zone)
    hours = _HOURS.search(text) or _ALL_DAY.search(text)
    if hours is None:
        return "block.usage"
    request = parse_request(text[: hours.start()], now)
    if request.day_from is None or request.day_from != request.day_to:
        return "block.bad_day"
    day = request.day_from
    if "h1" in hours.groupdict():
        try:
            first = time(int(hours["h1"]), int(hours["m1"] or 0))
            last = time(int(hours["h2"]), int(hours["m2"] or 0)) if hours["h2"] != "24" else None
        except ValueError:
            return "block.bad_hours"
        start = datetime.combine(day, first, tzinfo=zone)
        end = (
            datetime.combine(day, last, tzinfo=zone)
            if last is not None
            else datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        )
    else:
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    if end <= start:
        return "block.bad_hours"
    if end <= now:
        return "block.past"
    rest = text[hours.end() :].strip(" -–:,")
    practitioner = next(
        (p for p in business.practitioners if rest.lower().startswith(p.lower())), None
    )
    if practitioner is not None:
        rest = rest[len(practitioner) :].strip(" -–:,")
    return _BlockAsk(business, start, end, practitioner, rest or None)


def _block_record(block: Block) -> dict[str, object]:
    return {
        "business_id": block.business_id,
        "practitioner": block.practitioner,
        "starts_at": block.starts_at,
        "ends_at": block.ends_at,
        "reason": block.reason,
    }


def _block_summary(d: Deps, language: str, block: Block, business: Business) -> str:
    start = d.booking.local(business, block.starts_at)
    end = d.booking.local(business, block.ends_at)
    return d.i18n.text(
        language,
        "block.summary",
        business=business.name,
        day=d.i18n.day(language, start),
        line=_block_line(d, language, block, start, end),
    )


async def block(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    asked = _read_block(d, list(context.args or []))
    if isinstance(asked, str):
        log.info("secretary %s: /bloquer %r not understood (%s)", user.id, context.args, asked)
        await update.effective_message.reply_text(
            d.i18n.text(language, asked, businesses=_slugs(d))
        )
        return
    business = asked.business
    added = await d.store.blocks.add(
        NewBlock(
            business_id=d.booking.business_id(business),
            starts_at=asked.start,
            ends_at=asked.end,
            practitioner=asked.practitioner,
            reason=asked.reason,
        ),
        actor=user.id,
        now=d.clock.now(),
    )
    await _audit(d, user.id, "block.add", f"block:{added.id}", None, _block_record(added))
    lines = [d.i18n.text(language, "block.done"), _block_summary(d, language, added, business)]
    inside = [
        a
        for a in await d.store.appointments.holding(
            d.booking.business_id(business), asked.start, asked.end
        )
        if asked.practitioner in (None, a.practitioner)
    ]
    if inside:
        lines.append(d.i18n.text(language, "block.to_move", count=len(inside)))
        for appointment in inside:
            values = appointment_values(d, language, appointment, business)
            who = _contact(appointment, await _patient_of(d, appointment))
            lines.append(d.i18n.text(language, "block.to_move_line", who=who, **values))
    undo = keyboard([(d.i18n.text(language, "block.undo"), f"blk:undo:{added.id}")])
    await update.effective_message.reply_text("\n".join(lines), reply_markup=undo)


async def unblock(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/debloquer [business]``: the blocks still ahead, each with its undo button."""
    if not await _secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    named = _find_business(d, context.args[0]) if context.args else None
    now = d.clock.now()
    ahead: list[tuple[Block, Business]] = []
    for business in [named] if named is not None else d.settings.businesses:
        horizon = now + timedelta(days=business.booking_horizon_days)
        for found in await d.store.blocks.overlapping(
            d.booking.business_id(business), now, horizon
        ):
            ahead.append((found, business))
    if not ahead:
        await update.effective_message.reply_text(d.i18n.text(language, "block.none"))
        return
    ahead.sort(key=lambda pair: pair[0].starts_at)
    buttons = []
    for found, business in ahead[:BLOCKS_SHOWN]:
        start = d.booking.local(business, found.starts_at)
        label = d.i18n.text(
            language,
            "block.undo_one",
            day=d.i18n.short_day(language, start),
            time=d.i18n.time(language, start),
            business=business.name,
        )
        buttons.append([(label, f"blk:undo:{found.id}")])
    await update.effective_message.reply_text(
        d.i18n.text(language, "block.which"), reply_markup=keyboard(*buttons)
    )


async def unblock_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``blk:undo:<id>``: lift the block; patients may book that time again."""
    if not await _secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    lifted = await d.store.blocks.remove(
        _number(update.callback_query.data.split(":")[2]), now=d.clock.now()
    )
    if lifted is None:
        await update.callback_query.answer(
            d.i18n.text(language, "block.already_lifted"), show_alert=True
        )
        return
    await _audit(
        d,
        user.id,
        "block.remove",
        f"block:{lifted.id}",
        _block_record(lifted),
        {**_block_record(lifted), "removed_at": d.clock.now()},
    )
    business = d.settings.business(d.store.business_slug(lifted.business_id))
    text = d.i18n.text(language, "block.lifted")
    if business is not None:
        text += "\n" + _block_summary(d, language, lifted, business)
    await reply(update, text)


# -- phone bookings (/rdv) and call messages (/appel): a conversation per secretary -------------


@dataclass
class _Draft:
    """What the secretary told so far; ``flow`` ties buttons to this draft, not an old one."""

    kind: int  # RDV or CALL
    flow: int
    business: str | None = None
    text: str | None = None  # typed before the business was known
    name: str | None = None
    phone: str | None = None
    service: str | None = None
    wanted: Wanted = field(default_factory=Wanted)
    message: str | None = None


_DRAFT_KEY = "desk_draft"
_FLOW_KEY = "desk_flow"


def _new_draft(context: ContextTypes.DEFAULT_TYPE, kind: int) -> _Draft:
    flow = (context.user_data.get(_FLOW_KEY, 0) + 1) % 100_000
    context.user_data[_FLOW_KEY] = flow
    draft = _Draft(kind, flow)
    context.user_data[_DRAFT_KEY] = draft
    return draft


def _draft(context: ContextTypes.DEFAULT_TYPE, kind: int) -> _Draft | None:
    draft = context.user_data.get(_DRAFT_KEY)
    return draft if isinstance(draft, _Draft) and draft.kind == kind else None


def _start_draft(context: ContextTypes.DEFAULT_TYPE, kind: int) -> _Draft:
    d = deps(context)
    draft = _new_draft(context, kind)
    words = list(context.args or [])
    business = _find_business(d, words[0]) if words else None
    if business is not None:
        words = words[1:]
    elif len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    draft.business = business.slug if business is not None else None
    draft.text = " ".join(words) or None
    return draft


def _business_buttons(d: Deps, prefix: str, draft: _Draft) -> InlineKeyboardMarkup:
    return keyboard(
        *[[(b.name, f"{prefix}:{draft.flow}:b:{b.slug}")] for b in d.settings.businesses]
    )


def _understood(d: Deps, language: str, draft: _Draft) -> str:
    """The caller as understood so far: ``Mme Durand · +33 6 12 34 56 78``."""
    unknown = d.i18n.text(language, "desk.unknown")
    return " · ".join([draft.name or unknown, draft.phone or unknown])


def _missing_key(draft: _Draft) -> str | None:
    if draft.name is None and draft.phone is None:
        return "desk.need_name_phone"
    if draft.name is None:
        return "desk.need_name"
    if draft.phone is None:
        return "desk.need_phone"
    return None


async def _button_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: int
) -> tuple[_Draft, list[str]] | None:
    """The draft a desk button belongs to and the button's arguments; None if stale."""
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    _, flow, *rest = update.callback_query.data.split(":")
    draft = _draft(context, kind)
    if draft is None or not flow.isdigit() or int(flow) != draft.flow or not rest:
        await _stale(update, d, language)
        return None
    return draft, rest


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """``/annuler`` (``/cancel``) inside /rdv or /appel: forget the draft."""
    d = deps(context)
    context.user_data.pop(_DRAFT_KEY, None)
    language = staff_language(context, update.effective_user.id)
    await update.effective_message.reply_text(d.i18n.text(language, "desk.cancelled"))
    return ConversationHandler.END


async def desk_stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /rdv or /appel button once its conversation is over (or from someone else)."""
    if not await _secretary(update, context):
        return
    d = deps(context)
    await _stale(update, d, staff_language(context, update.effective_user.id))


# /rdv


async def rdv_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """``/rdv [business] [Mme Durand 06 12 34 56 78 détartrage mardi 10h]``."""
    if not await _secretary(update, context):
        return ConversationHandler.END
    return await _rdv_next(update, context, _start_draft(context, RDV))


async def rdv_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await _secretary(update, context):
        return ConversationHandler.END
    draft = _draft(context, RDV)
    if draft is None:
        return ConversationHandler.END
    draft.text = update.effective_message.text
    return await _rdv_next(update, context, draft)


def _merge_booking(d: Deps, draft: _Draft, business: Business) -> None:
    if not draft.text:
        return
    now = d.booking.local(business, d.clock.now())
    read = read_booking(draft.text, now, business.services, with_name=draft.name is None)
    draft.text = None
    draft.name = read.name or draft.name
    draft.phone = read.phone or draft.phone
    draft.service = read.service or draft.service
    if read.wanted != Wanted():
        draft.wanted = read.wanted


async def _rdv_next(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: _Draft) -> int:
    """Ask for what is missing, else show the free slots."""
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None:
        await reply(
            update, d.i18n.text(language, "desk.which_business"), _business_buttons(d, "rdv", draft)
        )
        return RDV
    _merge_booking(d, draft, business)
    missing = _missing_key(draft)
    if missing is not None:
        await reply(
            update,
            d.i18n.text(
                language,
                missing,
                business=business.name,
                caller=_understood(d, language, draft),
            ),
        )
        return RDV
    service = business.service(draft.service) if draft.service else None
    if service is None and len(business.services) == 1:
        service = business.services[0]
    if service is None:
        rows = [[(s.name, f"rdv:{draft.flow}:v:{s.key}")] for s in business.services]
        await reply(
            update,
            d.i18n.text(language, "rdv.which_service", caller=_understood(d, language, draft)),
            keyboard(*rows),
        )
        return RDV
    draft.service = service.key
    await _rdv_offer(update, d, language, draft, business, service, intro_key=None)
    return RDV


async def _rdv_offer(
    update: Update,
    d: Deps,
    language: str,
    draft: _Draft,
    business: Business,
    service: Service,
    *,
    intro_key: str | None,
) -> None:
    wanted = draft.wanted
    offer = await d.booking.offer(business, service, wanted, limit=PROPOSALS_SHOWN)
    caller = _understood(d, language, draft)
    other_day = (d.i18n.text(language, "rdv.other_day"), f"rdv:{draft.flow}:o")
    if not offer.slots:
        await reply(
            update,
            d.i18n.text(language, "rdv.no_room", caller=caller, service=service.name),
        )
        return
    if intro_key is None and offer.exact:
        intro_key = "rdv.free"
    elif intro_key is None and wanted.exact and wanted.day_from is not None:
        intro_key = "rdv.nearest"
    elif intro_key is None:
        intro_key = "rdv.slots"
    asked = (
        datetime.combine(
            wanted.day_from, wanted.time_from, tzinfo=d.booking.rules[business.slug].zone
        )
        if wanted.exact and wanted.day_from is not None
        else offer.slots[0].start
    )
    one_day = len({slot.start.date() for slot in offer.slots}) == 1
    buttons = []
    for slot in offer.slots:
        label = d.i18n.time(language, slot.start)
        if not one_day:
            label = f"{d.i18n.short_day(language, slot.start)} {label}"
        index = business.practitioners.index(slot.practitioner)
        buttons.append((label, f"rdv:{draft.flow}:s:{int(slot.start.timestamp())}:{index}"))
    rows = _rows(buttons, 3 if one_day else 2)
    rows.append([other_day])
    text = d.i18n.text(
        language,
        intro_key,
        caller=caller,
        business=business.name,
        service=service.name,
        day=d.i18n.day(language, asked),
        time=d.i18n.time(language, asked),
    )
    await reply(update, text, keyboard(*rows))


async def rdv_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await _secretary(update, context):
        return ConversationHandler.END
    found = await _button_flow(update, context, RDV)
    if found is None:
        return RDV
    draft, (action, *arguments) = found
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    if action == "b" and arguments and d.settings.business(arguments[0]):
        draft.business = arguments[0]
        return await _rdv_next(update, context, draft)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None:
        await _stale(update, d, language)
        return RDV
    if action == "v" and arguments and business.service(arguments[0]):
        draft.service = arguments[0]
        return await _rdv_next(update, context, draft)
    service = business.service(draft.service) if draft.service else None
    if service is None:
        await _stale(update, d, language)
        return RDV
    if action == "o":
        days = await d.booking.days_with_room(business, service, DAYS_SHOWN)
        rows = [
            [(d.i18n.short_day(language, day), f"rdv:{draft.flow}:d:{_day_code(day)}")]
            for day in days
        ]
        await reply(
            update,
            d.i18n.text(language, "rdv.which_day", service=service.name),
            keyboard(*rows) if rows else None,
        )
        return RDV
    if action == "d" and arguments:
        day = _day_of(arguments[0])
        draft.wanted = Wanted(day, day)
        return await _rdv_next(update, context, draft)
    if action == "s" and len(arguments) == 2:
        return await _rdv_book(update, context, draft, business, service, arguments)
    await _stale(update, d, language)
    return RDV


async def _rdv_book(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: _Draft,
    business: Business,
    service: Service,
    arguments: list[str],
) -> int:
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    start, index = _moment(arguments[0]), _number(arguments[1])
    if index >= len(business.practitioners):
        await _stale(update, d, language)
        return RDV
    try:
        appointment = await d.booking.book_for_caller(
            business,
            service,
            start,
            business.practitioners[index],
            caller_name=draft.name,
            caller_phone=draft.phone,
            actor=user.id,
        )
    except (SlotTaken, ValueError) as error:
        log.info("secretary %s could not book %s: %s", user.id, start, error)
        local = d.booking.local(business, start)
        draft.wanted = Wanted(local.date(), local.date(), local.time(), local.time())
        await _rdv_offer(update, d, language, draft, business, service, intro_key="rdv.taken")
        return RDV
    context.user_data.pop(_DRAFT_KEY, None)
    await _audit(
        d,
        user.id,
        "appointment.book_phone",
        f"appointment:{appointment.id}",
        None,
        {
            **_snapshot(appointment),
            "source": appointment.source,
            "caller_name": appointment.caller_name,
            "caller_phone": appointment.caller_phone,
        },
    )
    log.info("secretary %s booked appointment %s for a caller", user.id, appointment.id)
    await reply(
        update,
        d.i18n.text(
            language,
            "rdv.booked",
            caller=_understood(d, language, draft),
            **appointment_values(d, language, appointment, business),
        ),
    )
    return ConversationHandler.END


# /appel


async def call_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """``/appel [business] [M. Leroy 06 11 22 33 44 rappeler pour ses résultats]``."""
    if not await _secretary(update, context):
        return ConversationHandler.END
    return await _call_next(update, context, _start_draft(context, CALL))


async def call_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await _secretary(update, context):
        return ConversationHandler.END
    draft = _draft(context, CALL)
    if draft is None:
        return ConversationHandler.END
    draft.text = update.effective_message.text
    return await _call_next(update, context, draft)


def _merge_call(d: Deps, draft: _Draft, business: Business) -> None:
    if not draft.text:
        return
    now = d.booking.local(business, d.clock.now())
    # Once the name is known, a capitalised "Rappeler demain" is the message, not a name.
    read = read_caller(draft.text, now, with_name=draft.name is None)
    draft.text = None
    draft.name = read.name or draft.name
    draft.phone = read.phone or draft.phone
    draft.message = read.rest or draft.message


async def _call_next(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: _Draft) -> int:
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None:
        await reply(
            update,
            d.i18n.text(language, "desk.which_business"),
            _business_buttons(d, "call", draft),
        )
        return CALL
    _merge_call(d, draft, business)
    caller = _understood(d, language, draft)
    missing = _missing_key(draft) or (None if draft.message else "call.need_message")
    if missing is not None:
        await reply(update, d.i18n.text(language, missing, business=business.name, caller=caller))
        return CALL
    buttons = keyboard(
        [(d.i18n.text(language, "call.send"), f"call:{draft.flow}:send:0")],
        [(d.i18n.text(language, "call.send_urgent"), f"call:{draft.flow}:send:1")],
    )
    await reply(
        update,
        d.i18n.text(
            language,
            "call.review",
            business=business.name,
            caller=caller,
            message=draft.message,
        ),
        buttons,
    )
    return CALL


async def call_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await _secretary(update, context):
        return ConversationHandler.END
    found = await _button_flow(update, context, CALL)
    if found is None:
        return CALL
    draft, (action, *arguments) = found
    d = deps(context)
    if action == "b" and arguments and d.settings.business(arguments[0]):
        draft.business = arguments[0]
        return await _call_next(update, context, draft)
    business = d.settings.business(draft.business) if draft.business else None
    ready = business is not None and draft.name and draft.phone and draft.message
    if action == "send" and arguments in (["0"], ["1"]) and ready:
        return await _call_send(update, context, draft, business, urgent=arguments[0] == "1")
    await _stale(update, d, staff_language(context, update.effective_user.id))
    return CALL


async def _call_send(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: _Draft,
    business: Business,
    *,
    urgent: bool,
) -> int:
    """Store the call and forward it at once to the business's employers."""
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    call = await d.store.calls.add(
        NewCall(
            business_id=d.booking.business_id(business),
            caller_name=draft.name,
            caller_phone=draft.phone,
            message=draft.message,
            urgent=urgent,
        ),
        actor=user.id,
        now=d.clock.now(),
    )
    context.user_data.pop(_DRAFT_KEY, None)
    await _audit(
        d,
        user.id,
        "call.take",
        f"call:{call.id}",
        None,
        {
            "business_id": call.business_id,
            "caller_name": call.caller_name,
            "caller_phone": call.caller_phone,
            "message": call.message,
            "urgent": call.urgent,
        },
    )
    delivered = 0
    for employer in business.employers:
        employer_language = staff_language(context, employer)
        taken = d.booking.local(business, call.taken_at)
        text = d.i18n.text(
            employer_language,
            "call.forward_urgent" if urgent else "call.forward",
            business=business.name,
            caller=f"{call.caller_name} · {call.caller_phone}",
            message=call.message,
            secretary=_secretary_name(d, user.id),
            time=d.i18n.time(employer_language, taken),
        )
        if await send_safely(context, employer, text) is not None:
            delivered += 1
    log.info("call %s for %s forwarded to %s employer(s)", call.id, business.slug, delivered)
    key = "call.sent" if delivered else "call.not_delivered"
    await reply(
        update,
        d.i18n.text(
            language,
            key,
            business=business.name,
            caller=f"{call.caller_name} · {call.caller_phone}",
            count=delivered,
        ),
    )
    return ConversationHandler.END


async def _end_quietly(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command while a draft waits: the secretary moved on; the command goes on."""
    context.user_data.pop(_DRAFT_KEY, None)
    return ConversationHandler.END


def _consuming(
    callback: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]],
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]:
    """The conversation runs in an early group: what it handled stops there, with its new
    state, instead of reaching the patients' text handler too."""

    @functools.wraps(callback)
    async def consumed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise ApplicationHandlerStop(await callback(update, context))

    return consumed


def desk(secretaries: filters.BaseFilter) -> ConversationHandler:
    """/rdv and /appel, the secretary flows that read free text.

    To register in a group of its own ahead of every text handler: the text and buttons it
    handles stop there; commands go on to the later groups (any other command ends a
    half-typed draft and still runs). The ``secretaries`` filter keeps everyone else out
    (each handler checks the role too).
    """
    text = filters.TEXT & ~filters.COMMAND & secretaries
    with warnings.catch_warnings():
        # The conversation is per chat on purpose: a secretary runs one draft at a time,
        # whichever message its buttons are on; the draft's number rejects older buttons.
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=UserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler(["rdv", "appointment"], rdv_start, filters=secretaries),
                CommandHandler(["appel", "call"], call_start, filters=secretaries),
            ],
            states={
                RDV: [
                    MessageHandler(text, _consuming(rdv_text)),
                    CallbackQueryHandler(_consuming(rdv_button), pattern=r"^rdv:\d+:"),
                ],
                CALL: [
                    MessageHandler(text, _consuming(call_text)),
                    CallbackQueryHandler(_consuming(call_button), pattern=r"^call:\d+:"),
                ],
            },
            fallbacks=[
                CommandHandler(["annuler", "cancel"], cancel, filters=secretaries),
                MessageHandler(filters.COMMAND & secretaries, _end_quietly),
            ],
            allow_reentry=True,
            conversation_timeout=DESK_TIMEOUT,
            name="desk",
            persistent=True,
        )
