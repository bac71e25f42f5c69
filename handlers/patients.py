"""The secretary's patients: ``/patient NAME|PHONE`` (``/chercher``) finds Telegram patients
and phone callers, accents left out and typos forgiven, and shows a card: contact, upcoming
and past appointments (each upcoming one with Move and Cancel), no-shows, late
cancellations, the office's note, and a way to write to the patient.

A phone caller has no id of their own: one of their appointments stands for them on a button,
so that their number never travels in callback data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks, outbox
from bot.missions import InputError
from bot.patients import Candidate
from bot.patients import find as find_matches
from handlers import office_booking, steps
from handlers.common import Deps, appointment_values, deps, keyboard, reply, staff_language
from handlers.staff import answer_stale, contact_of, require_secretary
from storage.appointments import HOLDING, Appointment
from storage.outbox import Owed
from storage.patients import Caller, caller_subject, patient_subject
from storage.people import Person
from storage.threads import Said

log = logging.getLogger(__name__)

UPCOMING_SHOWN = 5
PAST_SHOWN = 5
NOTE_LIMIT = 500
MESSAGE_LIMIT = 2000
NOTE_STEP = "patients.note"
WRITE_STEP = "patients.write"


@dataclass(frozen=True)
class _Who:
    """A patient on Telegram, or a phone caller."""

    person: Person | None = None
    caller: Caller | None = None

    @property
    def button(self) -> str:
        if self.person is not None:
            return f"pat:p:{self.person.telegram_id}"
        return f"pat:c:{self.caller.appointment_id}"

    @property
    def subject(self) -> str:
        if self.person is not None:
            return patient_subject(self.person.telegram_id)
        return caller_subject(self.caller)

    @property
    def name(self) -> str:
        if self.person is not None:
            return self.person.full_name
        return f"📞 {self.caller.name}"

    @property
    def contact(self) -> str:
        if self.person is not None:
            return contact_of(None, self.person)
        return " · ".join(part for part in (self.caller.name, self.caller.phone) if part)


async def _candidates(d: Deps) -> list[Candidate[_Who]]:
    found: list[Candidate[_Who]] = []
    for person in await d.store.patients.people():
        names = [person.full_name, person.username or ""]
        found.append(Candidate(_Who(person=person), names, [person.phone]))
    for caller in await d.store.patients.callers():
        found.append(Candidate(_Who(caller=caller), [caller.name], [caller.phone]))
    return found


async def find(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/patient NAME|PHONE``: the card of the one found, or buttons to pick among several."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    query = " ".join(context.args or [])
    if not query.strip():
        await update.effective_message.reply_text(d.i18n.text(language, "patients.usage"))
        return
    found = find_matches(query, await _candidates(d))
    # Counted, never quoted: what she typed is a patient's name or number.
    log.info("secretary %s: patient search, %s found", update.effective_user.id, len(found))
    if not found:
        await update.effective_message.reply_text(
            d.i18n.text(language, "patients.none", query=query[:80])
        )
        return
    if len(found) == 1:
        text, markup = await _card(d, language, found[0])
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    rows = [[(await _label(d, who), who.button)] for who in found]
    await update.effective_message.reply_text(
        d.i18n.text(language, "patients.which", count=len(found)), reply_markup=keyboard(*rows)
    )


async def _label(d: Deps, who: _Who) -> str:
    """A name on a button, with the business, so two Martins can be told apart."""
    appointments = await _appointments(d, who)
    business_id = appointments[-1].business_id if appointments else None
    if business_id is None and who.person is not None:
        business_id = who.person.business_id
    slug = d.store.business_slug(business_id) if business_id is not None else None
    business = d.settings.business(slug) if slug else None
    return f"{who.name} · {business.name}" if business else who.name


async def _appointments(d: Deps, who: _Who) -> list[Appointment]:
    """Their appointments at the businesses in config (one dropped keeps its rows, unshown)."""
    if who.person is not None:
        found = await d.store.patients.appointments_of(patient_id=who.person.telegram_id)
    else:
        found = await d.store.patients.appointments_of(caller=who.caller)
    known = {d.booking.business_id(business) for business in d.settings.businesses}
    return [appointment for appointment in found if appointment.business_id in known]


async def _who(d: Deps, route: str, key: int) -> _Who | None:
    if route in ("pat:p", "pat:np", "pat:w"):
        person = await d.store.people.get(key)
        return _Who(person=person) if person is not None else None
    caller = await d.store.patients.caller_of(key)
    return _Who(caller=caller) if caller is not None else None


def _line(d: Deps, language: str, appointment: Appointment) -> str:
    business = d.booking.business_of(appointment)
    values = appointment_values(d, language, appointment, business)
    status = d.i18n.text(language, f"status.{appointment.status}")
    return d.i18n.text(language, "patients.line", status=status, **values)


async def _card(d: Deps, language: str, who: _Who):
    """The card's text and buttons."""
    now = d.clock.now()
    appointments = await _appointments(d, who)
    upcoming = [a for a in appointments if a.ends_at > now and a.status in HOLDING]
    past = [a for a in appointments if a.starts_at <= now][-PAST_SHOWN:][::-1]
    patient_id = who.person.telegram_id if who.person else None
    phone = who.caller.phone if who.caller else None
    no_shows = await d.store.appointments.no_shows(patient_id=patient_id, caller_phone=phone)
    late = await d.store.appointments.late_cancellations(patient_id=patient_id, caller_phone=phone)
    note = await d.store.patients.note(who.subject)
    lines = [d.i18n.text(language, "patients.title", name=who.name, contact=who.contact)]
    lines.append(d.i18n.text(language, "patients.upcoming", count=len(upcoming)))
    lines += [_line(d, language, a) for a in upcoming[:UPCOMING_SHOWN]]
    if past:
        lines.append(d.i18n.text(language, "patients.past"))
        lines += [_line(d, language, a) for a in past]
    lines.append(d.i18n.text(language, "patients.record", no_shows=no_shows, late=late))
    lines.append(
        d.i18n.text(language, "patients.note", note=note)
        if note
        else d.i18n.text(language, "patients.no_note")
    )
    rows = []
    for appointment in upcoming[:UPCOMING_SHOWN]:
        local = d.booking.local(d.booking.business_of(appointment), appointment.starts_at)
        when = f"{d.i18n.short_day(language, local)} {d.i18n.time(language, local)}"
        rows.append(
            [
                (d.i18n.text(language, "patients.move", when=when), f"om:{appointment.id}"),
                (d.i18n.text(language, "patients.cancel", when=when), f"oc:{appointment.id}"),
            ]
        )
    note_button = (
        f"pat:np:{who.person.telegram_id}"
        if who.person is not None
        else f"pat:nc:{who.caller.appointment_id}"
    )
    last_row = [(d.i18n.text(language, "patients.set_note"), note_button)]
    if who.person is not None:
        patient_id = who.person.telegram_id
        last_row.append((d.i18n.text(language, "patients.write"), f"pat:w:{patient_id}"))
        last_row.append((d.i18n.text(language, "patients.book"), f"pat:b:{patient_id}"))
    rows.append(last_row)
    return "\n".join(lines), keyboard(*rows)


async def card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``pat:p:<telegram id>`` or ``pat:c:<appointment id>``: the card, in place."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    button = callbacks.read(update.callback_query.data, "pat:p", "pat:c")
    who = await _who(d, button.route, button.args[0])
    if who is None:
        await answer_stale(update, d, language)
        return
    text, markup = await _card(d, language, who)
    await reply(update, text, markup)


# -- the note and a message: typed steps --------------------------------------------------------


async def ask_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``pat:np:<id>`` / ``pat:nc:<appointment id>``: the next text typed is the note."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    button = callbacks.read(update.callback_query.data, "pat:np", "pat:nc")
    who = await _who(d, button.route, button.args[0])
    if who is None:
        await answer_stale(update, d, language)
        return
    card_route = "pat:p" if button.route == "pat:np" else "pat:c"
    steps.await_text(context, NOTE_STEP, route=card_route, key=button.args[0])
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        d.i18n.text(language, "patients.type_note", name=who.name, limit=NOTE_LIMIT)
    )


async def _typed_note(update, context, d: Deps, language: str, step, text: str) -> None:
    note = text.strip()
    if len(note) > NOTE_LIMIT:
        raise InputError("patients.note_too_long", limit=NOTE_LIMIT)
    who = await _who(d, step["route"], step["key"])
    steps.forget(context)
    if who is None:
        raise steps.Lost("the patient is gone")
    await d.store.patients.set_note(
        who.subject, note, actor=update.effective_user.id, now=d.clock.now()
    )
    log.info("secretary %s: note saved (%s)", update.effective_user.id, step["route"])
    text, markup = await _card(d, language, who)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def ask_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``pat:w:<telegram id>``: the next text typed goes to the patient."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    (patient_id,) = callbacks.read(update.callback_query.data, "pat:w")
    who = await _who(d, "pat:w", patient_id)
    # Signed with the business of their latest appointment, else the one they followed.
    business = await office_booking.business_of(d, who.person) if who is not None else None
    if business is None:
        await answer_stale(update, d, language)
        return
    steps.await_text(
        context, WRITE_STEP, patient=patient_id, business=d.booking.business_id(business)
    )
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        d.i18n.text(language, "patients.type_message", name=who.name, business=business.name)
    )


async def _typed_message(update, context, d: Deps, language: str, step, text: str) -> None:
    content = text.strip()
    if len(content) > MESSAGE_LIMIT:
        raise InputError("patients.message_too_long", limit=MESSAGE_LIMIT)
    steps.forget(context)
    author = update.effective_user.id
    message = update.effective_message

    def tell(said: Said) -> list[Owed]:
        payload = {"thread_id": said.thread.id, "said": said.message.id}
        others = [
            Owed(outbox.HANDOFF_ANSWERED, secretary.telegram_id, payload=payload)
            for secretary in d.settings.secretaries
            if secretary.telegram_id != author
        ]
        return [Owed(outbox.HANDOFF_REPLY, said.thread.patient_id, payload=payload), *others]

    said = await d.store.threads.from_office_first(
        step["business"],
        step["patient"],
        author,
        content=content,
        chat_id=message.chat_id,
        message_id=message.message_id,
        now=d.clock.now(),
        tell=tell,
    )
    log.info("secretary %s wrote to a patient (thread %s)", author, said.thread.id)
    patient = await d.store.people.get(step["patient"])
    await message.reply_text(
        d.i18n.text(language, "handoff.sent", patient=contact_of(None, patient))
    )


TEXT_STEPS: dict[str, steps.StepHandler] = {NOTE_STEP: _typed_note, WRITE_STEP: _typed_message}
