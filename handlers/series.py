"""Series of appointments: the secretary books one (``/rdv … tous les mardis à 10h x10``,
or "Repeat…" after a booking), books the nearest free time of each conflict in one tap; the
patient sees the series in their list and cancels one occurrence or the rest of it.

Buttons: ``ser:rep:<appointment>`` (how often?), ``ser:go:<appointment>:<weeks>:<count>``,
``ser:add:<series>:<epoch>:<practitioner>`` (the secretary's); ``cxr:<appointment>`` and
``cxry:<appointment>`` (the patient's: cancel this one and the following).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import callbacks, outbox
from bot.config import Business, Service
from bot.series import Recurrence
from bot.series_booking import Booked, Conflict, SeriesBooking, Who
from handlers import offers
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    keyboard,
    person,
    reply,
    staff_language,
    stale_button,
)
from handlers.delivery import Rendered, Renderer
from handlers.offers import reason_text
from handlers.staff import (
    answer_stale,
    audit,
    contact_of,
    in_rows,
    patient_of,
    require_secretary,
)
from storage.appointments import HOLDING, Appointment, SlotTaken, Status
from storage.outbox import Message
from storage.people import Person

log = logging.getLogger(__name__)

# The one-tap choices after a booking: (weeks between, occurrences in all).
REPEATS = ((1, 4), (1, 6), (1, 10), (2, 4), (2, 6), (2, 10))


def _series(d: Deps) -> SeriesBooking:
    return SeriesBooking(d.booking)


def every_text(d: Deps, language: str, every: int, first: datetime | None) -> str:
    """``tous les mardis`` / ``every Tuesday``; ``chaque semaine`` without a first time."""
    if first is None:
        key = "series.every_week_plain" if every == 1 else "series.every_weeks_plain"
        return d.i18n.text(language, key, weeks=every)
    weekday = d.i18n.weekday(language, first.weekday())
    key = "series.every_week" if every == 1 else "series.every_weeks"
    return d.i18n.text(language, key, weekday=weekday, weeks=every)


def _when(d: Deps, language: str, moment: datetime) -> str:
    return d.i18n.text(
        language,
        "series.when",
        day=d.i18n.day(language, moment),
        time=d.i18n.time(language, moment),
    )


def _short(d: Deps, language: str, moment: datetime) -> str:
    return f"{d.i18n.short_day(language, moment)} {d.i18n.time(language, moment)}"


# -- /rdv: a draft that is a series (handlers.desk calls these) -------------------------------


def draft_line(d: Deps, language: str, every: int, count: int) -> str:
    """Under the offer of a series' first time: what tapping it books."""
    return d.i18n.text(
        language, "series.draft", every=every_text(d, language, every, None), count=count
    )


async def book_typed(
    update: Update,
    d: Deps,
    language: str,
    business: Business,
    service: Service,
    start: datetime,
    practitioner: str,
    recurrence: Recurrence,
    who: Who,
) -> None:
    """The tapped first time of a /rdv series: the whole series booked, and said."""
    user = update.effective_user
    booked = await _series(d).book(
        business, service, start, practitioner, recurrence, who, actor=user.id
    )
    await _booked(update, d, language, business, service, booked, _caller(who))


def _caller(who: Who) -> str:
    return " · ".join(part for part in (who.caller_name, who.caller_phone) if part)


async def _booked(
    update: Update,
    d: Deps,
    language: str,
    business: Business,
    service: Service,
    booked: Booked,
    who: str,
) -> None:
    user = update.effective_user
    series = booked.series
    await audit(
        d,
        user.id,
        "series.book",
        f"series:{series.id}",
        None,
        {
            "business_id": series.business_id,
            "service": series.service,
            "every_weeks": series.every_weeks,
            "count": series.count,
            "patient_id": series.patient_id,
            "appointments": [a.id for a in booked.booked],
            "conflicts": [int(c.start.timestamp()) for c in booked.conflicts],
        },
    )
    log.info(
        "secretary %s booked series %s: %s booked, %s conflict(s)",
        user.id,
        series.id,
        len(booked.booked),
        len(booked.conflicts),
    )
    first = d.booking.local(business, booked.booked[0].starts_at) if booked.booked else None
    lines = [
        d.i18n.text(
            language,
            "series.booked_title",
            business=business.name,
            who=who,
            service=service.name_in(language),
            every=every_text(d, language, series.every_weeks, first),
            booked=len(booked.booked),
            count=series.count,
        )
    ]
    for appointment in booked.booked:
        local = d.booking.local(business, appointment.starts_at)
        lines.append(d.i18n.text(language, "series.booked_line", when=_when(d, language, local)))
    buttons = []
    for conflict in booked.conflicts:
        lines.append(_conflict_line(d, language, business, conflict))
        if conflict.nearest is not None:
            index = business.practitioners.index(conflict.nearest.practitioner)
            start = int(conflict.nearest.start.timestamp())
            label = d.i18n.text(
                language, "series.add", when=_short(d, language, conflict.nearest.start)
            )
            buttons.append((label, f"ser:add:{series.id}:{start}:{index}"))
    await reply(update, "\n".join(lines), keyboard(*in_rows(buttons, 2)) if buttons else None)


def _conflict_line(d: Deps, language: str, business: Business, conflict: Conflict) -> str:
    reason = (
        reason_text(d, language, business, conflict.unavailable)
        if conflict.unavailable is not None
        else d.i18n.text(language, "series.not_free")
    )
    when = _when(d, language, conflict.start)
    if conflict.nearest is None:
        return d.i18n.text(language, "series.conflict_none", when=when, reason=reason)
    nearest = _when(d, language, conflict.nearest.start)
    return d.i18n.text(language, "series.conflict", when=when, reason=reason, nearest=nearest)


# -- "Repeat…" after a booking: ser:rep, then ser:go ------------------------------------------


def repeat_row(d: Deps, language: str, appointment: Appointment) -> list[tuple[str, str]]:
    return [(d.i18n.text(language, "series.repeat"), f"ser:rep:{appointment.id}")]


async def offer_repeat(
    update: Update, context: ContextTypes.DEFAULT_TYPE, appointment: Appointment
) -> None:
    """The inbox copy a secretary confirmed gets a "Repeat…" button (best effort: the
    confirmation is done and told whatever happens to this copy)."""
    if appointment.status != Status.CONFIRMED:
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    try:
        await update.callback_query.edit_message_reply_markup(
            keyboard(repeat_row(d, language, appointment))
        )
    except TelegramError as error:
        log.info("no repeat button on the inbox copy of %s: %s", appointment.id, error)


async def _repeatable(
    update: Update, context: ContextTypes.DEFAULT_TYPE, route: str
) -> tuple[Deps, str, Appointment, list[object]] | None:
    """The confirmed appointment a secretary's repeat button names, not in a series yet."""
    if not await require_secretary(update, context):
        return None
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    button = callbacks.read(update.callback_query.data, route)
    appointment_id, *rest = button.args
    appointment = await d.store.appointments.get(appointment_id)
    if appointment is None:
        await answer_stale(update, d, language)
        return None
    if appointment.status != Status.CONFIRMED or appointment.series_id is not None:
        await update.callback_query.answer(
            d.i18n.text(language, "series.not_repeatable"), show_alert=True
        )
        return None
    return d, language, appointment, rest


async def repeat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ser:rep:<id>``: how often, how many times, in one tap."""
    found = await _repeatable(update, context, "ser:rep")
    if found is None:
        return
    d, language, appointment, _ = found
    business = d.booking.business_of(appointment)
    values = appointment_values(d, language, appointment, business)
    who = contact_of(appointment, await patient_of(d, appointment))
    local = d.booking.local(business, appointment.starts_at)
    buttons = [
        (
            d.i18n.text(
                language, "series.choice", every=every_text(d, language, every, local), count=count
            ),
            f"ser:go:{appointment.id}:{every}:{count}",
        )
        for every, count in REPEATS
    ]
    await update.callback_query.answer()
    await update.effective_message.reply_text(
        d.i18n.text(language, "series.how_often", patient=who, **values),
        reply_markup=keyboard(*in_rows(buttons, 3)),
    )


async def repeat_go(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ser:go:<id>:<weeks>:<count>``: the appointment becomes the first of its series."""
    found = await _repeatable(update, context, "ser:go")
    if found is None:
        return
    d, language, appointment, (every, count) = found
    business = d.booking.business_of(appointment)
    service = business.service(appointment.service)
    if (every, count) not in REPEATS or service is None:
        await answer_stale(update, d, language)
        return
    try:
        booked = await _series(d).book(
            business,
            service,
            appointment.starts_at,
            appointment.practitioner,
            Recurrence(every, count),
            Who.of(appointment),
            actor=update.effective_user.id,
            anchor=appointment,
        )
    except (LookupError, SlotTaken) as error:
        log.info("series from appointment %s not booked: %s", appointment.id, error)
        await update.callback_query.answer(
            d.i18n.text(language, "series.not_repeatable"), show_alert=True
        )
        return
    who = contact_of(appointment, await patient_of(d, appointment))
    await _booked(update, d, language, business, service, booked, who)


# -- a conflict's nearest time, in one tap: ser:add ----------------------------------------


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ser:add:<series>:<epoch>:<practitioner>``: one more occurrence, checked like any."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    query = update.callback_query
    series_id, start, index = callbacks.read(query.data, "ser:add")
    series = await d.store.series.get(series_id)
    business = d.settings.business(d.store.business_slug(series.business_id)) if series else None
    service = business.service(series.service) if business else None
    if service is None or index >= len(business.practitioners):
        await answer_stale(update, d, language)
        return
    try:
        appointment = await d.booking.book_by_office(
            business,
            service,
            start,
            business.practitioners[index],
            actor=user.id,
            patient_id=series.patient_id,
            caller_name=series.caller_name,
            caller_phone=series.caller_phone,
            series_id=series.id,
        )
    except (SlotTaken, ValueError) as error:
        log.info("secretary %s could not add %s to series %s: %s", user.id, start, series_id, error)
        await query.answer(d.i18n.text(language, "series.gone"), show_alert=True)
        return
    await audit(
        d,
        user.id,
        "series.add",
        f"series:{series.id}",
        None,
        {"appointment": appointment.id, "starts_at": appointment.starts_at},
    )
    local = d.booking.local(business, appointment.starts_at)
    added = d.i18n.text(language, "series.added", when=_when(d, language, local))
    text = f"{query.message.text}\n{added}" if query.message and query.message.text else added
    await reply(update, text, _without(query.message, query.data))


def _without(message: object, data: str) -> InlineKeyboardMarkup | None:
    """The tapped message's buttons but the one tapped."""
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return None
    rows = [
        [
            InlineKeyboardButton(b.text, callback_data=b.callback_data)
            for b in row
            if b.callback_data != data
        ]
        for row in markup.inline_keyboard
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


# -- the patient: their list, and cancelling the rest of a series --------------------------


def grouped(upcoming: Iterable[Appointment]) -> list[Appointment | list[Appointment]]:
    """The patient's list, each series as one item at its next occurrence."""
    items: list[Appointment | list[Appointment]] = []
    by_series: dict[int, list[Appointment]] = {}
    for appointment in upcoming:
        if appointment.series_id is None:
            items.append(appointment)
        elif appointment.series_id in by_series:
            by_series[appointment.series_id].append(appointment)
        else:
            by_series[appointment.series_id] = [appointment]
            items.append(by_series[appointment.series_id])
    return items


async def series_lines(d: Deps, language: str, appointments: list[Appointment]) -> list[str]:
    """``🔁 Kinésithérapie · tous les mardis · 10 séances`` and each time with its day."""
    first = appointments[0]
    business = d.booking.business_of(first)
    series = await d.store.series.get(first.series_id)
    local = d.booking.local(business, first.starts_at)
    values = appointment_values(d, language, first, business)
    every = series.every_weeks if series else 1
    head = d.i18n.text(
        language,
        "series.yours",
        every=every_text(d, language, every, local),
        count=len(appointments),
        **values,
    )
    times = [_short(d, language, d.booking.local(business, a.starts_at)) for a in appointments]
    return [head, d.i18n.text(language, "series.times", times=" · ".join(times))]


def cancel_rest_row(
    d: Deps, language: str, appointment: Appointment
) -> list[list[tuple[str, str]]]:
    """Under "cancel this appointment?": the same for it and the rest of its series."""
    if appointment.series_id is None:
        return []
    return [[(d.i18n.text(language, "series.cancel_rest"), f"cxr:{appointment.id}")]]


async def _own_in_series(
    update: Update, context: ContextTypes.DEFAULT_TYPE, route: str
) -> tuple[Deps, Person, Appointment] | None:
    d = deps(context)
    patient = await person(update, context)
    (appointment_id,) = callbacks.read(update.callback_query.data, route)
    appointment = await d.store.appointments.get(appointment_id)
    if (
        appointment is None
        or appointment.patient_id != patient.telegram_id
        or appointment.series_id is None
    ):
        log.warning(
            "user %s tapped %s for appointment %s", patient.telegram_id, route, appointment_id
        )
        await stale_button(update, context)
        return None
    if appointment.status not in HOLDING:
        status = d.i18n.text(patient.language, f"status.{appointment.status}")
        await reply(update, d.i18n.text(patient.language, "patient.already", status=status))
        return None
    return d, patient, appointment


async def ask_cancel_rest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``cxr:<id>``: this occurrence and the later ones; one more tap to be sure."""
    own = await _own_in_series(update, context, "cxr")
    if own is None:
        return
    d, patient, appointment = own
    language = patient.language
    rest = [
        a
        for a in await _series(d).held(appointment.series_id)
        if a.starts_at >= appointment.starts_at
    ]
    values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
    buttons = keyboard(
        [
            (d.i18n.text(language, "series.cancel_rest_yes"), f"cxry:{appointment.id}"),
            (d.i18n.text(language, "patient.cancel_no"), "mine"),
        ]
    )
    text = d.i18n.text(language, "series.cancel_rest_sure", count=len(rest), **values)
    await reply(update, text, buttons)


async def cancel_rest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``cxry:<id>``: cancelled but those inside the notice, which the office decides."""
    own = await _own_in_series(update, context, "cxry")
    if own is None:
        return
    d, patient, appointment = own
    language = patient.language
    business = d.booking.business_of(appointment)
    cancelled, inside = await _series(d).cancel_rest(appointment, patient_id=patient.telegram_id)
    log.info(
        "patient %s cancelled %s occurrence(s) of series %s, %s left inside the notice",
        patient.telegram_id,
        len(cancelled),
        appointment.series_id,
        len(inside),
    )
    values = appointment_values(d, language, appointment, business)
    lines = [d.i18n.text(language, "series.rest_cancelled", count=len(cancelled), **values)]
    lines += _when_lines(d, language, business, cancelled)
    if inside:
        lines.append(d.i18n.text(language, "series.rest_inside", phone=business.phone))
        lines += _when_lines(d, language, business, inside)
    await reply(update, "\n".join(lines), offers.menu(d, language))


def _when_lines(
    d: Deps,
    language: str,
    business: Business,
    appointments: Iterable[Appointment],
    key: str = "series.line",
) -> list[str]:
    """One line a time, with its day: ``series.booked_line`` for those that hold."""
    return [
        d.i18n.text(
            language,
            key,
            when=_when(d, language, d.booking.local(business, a.starts_at)),
        )
        for a in appointments
    ]


# -- what the outbox sends ---------------------------------------------------------------------


async def _series_booked(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """The patient's one message about a series the office booked: every time, its day."""
    d = deps(context)
    patient = await d.store.people.get(message.chat_id)
    series = await d.store.series.get(message.payload["series_id"])
    if patient is None or series is None:
        return None
    held = [a for a in await _series(d).held(series.id) if a.starts_at > d.clock.now()]
    if not held:
        return None  # cancelled before it could be told: nothing to say
    language = patient.language
    business = d.booking.business_of(held[0])
    values = appointment_values(d, language, held[0], business)
    first = d.booking.local(business, held[0].starts_at)
    lines = [
        d.i18n.text(
            language,
            "series.patient_booked",
            every=every_text(d, language, series.every_weeks, first),
            count=len(held),
            **values,
        )
    ]
    lines += _when_lines(d, language, business, held, "series.booked_line")
    return Rendered("\n".join(lines))


async def _series_cancelled(
    context: ContextTypes.DEFAULT_TYPE, message: Message
) -> Rendered | None:
    """The secretaries' one message about the rest of a series its patient cancelled."""
    d = deps(context)
    language = staff_language(context, message.chat_id)
    cancelled = [await d.store.appointments.get(i) for i in message.payload["cancelled"]]
    inside = [await d.store.appointments.get(i) for i in message.payload["inside"]]
    known = [a for a in (*cancelled, *inside) if a is not None]
    if not known:
        return None
    business = d.booking.business_of(known[0])
    patient = await patient_of(d, known[0])
    values = appointment_values(d, language, known[0], business)
    lines = [
        d.i18n.text(
            language,
            "series.secretary_cancelled",
            patient=contact_of(known[0], patient),
            count=len(cancelled),
            **values,
        )
    ]
    lines += _when_lines(d, language, business, [a for a in cancelled if a])
    if inside:
        lines.append(d.i18n.text(language, "series.secretary_inside"))
        lines += _when_lines(d, language, business, [a for a in inside if a])
    return Rendered("\n".join(lines))


RENDERERS: dict[str, Renderer] = {
    outbox.SERIES_BOOKED: _series_booked,
    outbox.SERIES_CANCELLED: _series_cancelled,
}
