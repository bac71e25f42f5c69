"""The agenda as a secretary (every business) or an employer (their own) reads it: a day
as text, a week as an image, the coming weeks as an .ics file for a phone's calendar.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes

from bot import callbacks
from bot.agenda_image import Day, Entry, Kind, Legend, render_week
from bot.config import Business
from bot.ics import CalendarEvent, calendar_file
from bot.nlu import parse_request
from handlers import lookups
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    keyboard,
    reply,
    send_safely,
    split_message,
    staff_language,
)
from handlers.staff import (
    business_slugs,
    contact_of,
    day_code,
    find_business,
    patient_of,
    refuse,
    require_secretary,
)
from storage.appointments import HOLDING, Appointment, Status
from storage.blocks import Block
from storage.people import Person

log = logging.getLogger(__name__)

ICS_WEEKS = 6
# Telegram's limit is 4096 characters; long agendas are split below it.
_SHOWN_STATUSES = (Status.REQUESTED, Status.CONFIRMED, Status.DONE, Status.NO_SHOW)
_STATUS_ICONS = {
    Status.REQUESTED: "⏳",
    Status.CONFIRMED: "✅",
    Status.DONE: "☑️",
    Status.NO_SHOW: "🚫",
}
_WEEK_WORDS = re.compile(r"\b(?:semaine|week)\b", re.IGNORECASE)


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
    if not await require_secretary(update, context):
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
    named = find_business(d, words[0]) if words else None
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
            d.i18n.text(language, "agenda.usage", businesses=business_slugs(d, language, visible))
        )
        return
    if period.week:
        if len(businesses) == 1:
            await _send_week(update, context, user.id, language, businesses[0], period.first)
            return
        await update.effective_message.reply_text(
            d.i18n.text(language, "agenda.which_business"),
            reply_markup=_week_picker(d, language, businesses, period.first, 0),
        )
        return
    sections = []
    for business in businesses:
        section = await _day_text(d, language, business, period.first, always=len(businesses) == 1)
        if section is not None:
            sections.append(section)
    if not sections:
        sections = [d.i18n.text(language, "agenda.nothing", day=d.i18n.day(language, period.first))]
    packed = _pack(sections)
    # A secretary acts on an appointment from here: one button each, under the last part.
    buttons = (
        await _act_buttons(d, language, businesses, period.first)
        if d.settings.is_secretary(user.id)
        else []
    )
    for index, text in enumerate(packed):
        last = index == len(packed) - 1
        markup = keyboard(*buttons) if last and buttons else None
        await update.effective_message.reply_text(text, reply_markup=markup)


# The buttons under a day's agenda: enough for a full day of one practice.
ACT_BUTTONS = 30


async def _act_buttons(
    d: Deps, language: str, businesses: list[Business], day: date
) -> list[list[tuple[str, str]]]:
    """A button per appointment of the day still ahead (``oa:``: Move, Cancel, the card)."""
    now = d.clock.now()
    found = []
    for business in businesses:
        for item in await _booked(d, business, day, day):
            appointment = item.appointment
            if (
                appointment is None
                or item.start.date() != day
                or appointment.status not in HOLDING
                or appointment.ends_at <= now
            ):
                continue
            label = f"{d.i18n.time(language, item.start)} {_who(appointment, item.patient)}"
            found.append((label, f"oa:{appointment.id}"))
    found = found[:ACT_BUTTONS]
    return [found[i : i + 2] for i in range(0, len(found), 2)]


def _pack(sections: list[str]) -> list[str]:
    """Sections joined into as few messages as Telegram's length limit allows."""
    return split_message("\n\n".join(sections))


def _week_picker(
    d: Deps, language: str, businesses: list[Business], day: date, page: int
) -> InlineKeyboardMarkup:
    return keyboard(
        *lookups.business_picker(
            d,
            language,
            lambda b: f"agw:{b.slug}:{day_code(day)}",
            lambda number: f"agwp:{day_code(day)}:{number}",
            page,
            businesses,
        )
    )


def _visible(d: Deps, user_id: int) -> list[Business]:
    if d.settings.is_secretary(user_id):
        return d.settings.businesses
    return d.settings.businesses_of_employer(user_id)


async def agenda_week_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``agwp:<monday>:<page>``: another page of the businesses whose week to show, in place."""
    d = deps(context)
    user = update.effective_user
    day, page = callbacks.read(update.callback_query.data, "agwp")
    visible = _visible(d, user.id)
    if not visible:
        await refuse(update, context)
        return
    language = staff_language(context, user.id)
    text = d.i18n.text(language, "agenda.which_business")
    await reply(update, text, _week_picker(d, language, visible, day, page))


async def agenda_week_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``agw:<slug>:<monday>``: the week of one business, for whoever may see it."""
    d = deps(context)
    user = update.effective_user
    slug, day = callbacks.read(update.callback_query.data, "agw")
    business = d.settings.business(slug)
    visible = _visible(d, user.id)
    if business is None or business not in visible:
        await refuse(update, context)
        return
    language = staff_language(context, user.id)
    await update.callback_query.answer()
    await _send_week(update, context, user.id, language, business, day)


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
                    patient=await patient_of(d, appointment),
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


def block_line(d: Deps, language: str, block: Block, start: datetime, end: datetime) -> str:
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
            lines.append(block_line(d, language, item.block, item.start, item.end))
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


def _hours(moment: datetime) -> float:
    return moment.hour + moment.minute / 60


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
    update: Update,
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
    caption = d.i18n.text(
        language,
        "agenda.week_caption",
        business=business.name,
        day=d.i18n.day(language, monday),
        count=len(appointments),
        pending=sum(1 for a in appointments if a.status == Status.REQUESTED),
    )
    drawing = _draw_and_send(
        context,
        chat_id,
        (title, days, entries, business.practitioners, legend),
        caption,
        f"agenda-{business.slug}-{monday.isoformat()}.png",
    )
    drawings(context.application).start(drawing, update)


async def _draw_and_send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    week: tuple,
    caption: str,
    filename: str,
) -> None:
    png = await asyncio.to_thread(render_week, *week)
    await context.bot.send_photo(chat_id, photo=png, caption=caption, filename=filename)


DRAWINGS_KEY = "week_drawings"


class Drawings:
    """Week images being drawn and sent, apart from the update that asked for them.

    python-telegram-bot handles one update at a time: a drawing awaited in its handler would
    keep every other chat waiting for it, even drawn in a thread. Each one runs as a task of
    the application instead (its errors go to the error handler with the update), and
    ``idle`` tells when all of them are sent.
    """

    def __init__(self, application: Application):
        self._application = application
        self._tasks: set[asyncio.Task] = set()

    def start(self, drawing: Coroutine[object, object, None], update: object) -> None:
        task = self._application.create_task(drawing, update=update, name="week image")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))


def drawings(application: Application) -> Drawings:
    return application.bot_data.setdefault(DRAWINGS_KEY, Drawings(application))


# -- /ics <business> ---------------------------------------------------------------------------


async def ics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The coming weeks of one business as an .ics file phone calendars import."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    if context.args:
        business = find_business(d, context.args[0])
    elif len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    else:
        business = None
    if business is None:
        await update.effective_message.reply_text(
            d.i18n.text(language, "ics.usage", businesses=business_slugs(d, language))
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
                    who=contact_of(appointment, item.patient),
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
