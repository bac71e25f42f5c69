"""How the bot words an offer of times: which day each button is on, why the one asked for
is not offered, how far ahead online booking goes, and the day picker a week at a time.

The reasons themselves are decided in bot.agenda; this only says them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks, waitlist
from bot.agenda import Slot, Unavailable, Wanted, Why
from bot.booking import Offer
from bot.config import WEEKDAYS, Business, Service
from handlers.common import Deps, StaleButton, appointment_values, keyboard, reply
from storage.appointments import Appointment, SlotTaken

log = logging.getLogger(__name__)

_NONE = "-"


def _day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


@dataclass(frozen=True)
class Flow:
    """Where the day and time buttons lead: booking a service, or moving appointment N."""

    service: Service
    moving: int | None = None

    def slot(self, epoch: int, practitioner: int) -> str:
        if self.moving is not None:
            return f"mvs:{self.moving}:{epoch}:{practitioner}"
        return f"slot:{self.service.key}:{epoch}:{practitioner}"

    def day(self, day: date) -> str:
        if self.moving is not None:
            return f"mvd:{self.moving}:{_day_code(day)}"
        return f"day:{self.service.key}:{_day_code(day)}"

    def week(self, monday: date) -> str:
        if self.moving is not None:
            return f"mvw:{self.moving}:{_day_code(monday)}"
        return f"days:{self.service.key}:{_day_code(monday)}"

    def days(self) -> str:
        return f"mv:{self.moving}" if self.moving is not None else f"svc:{self.service.key}"

    def ask_office(self, wanted: Wanted) -> str:
        moment = wanted.time_from.strftime("%H%M") if wanted.exact else _NONE
        return f"ask:{self.service.key}:{_day_code(wanted.day_from)}:{moment}"


# -- the times as buttons ------------------------------------------------------------------


def slot_label(d: Deps, language: str, start: datetime, with_day: bool) -> str:
    time = d.i18n.time(language, start)
    return f"{d.i18n.short_day(language, start)} · {time}" if with_day else time


def slot_rows(
    d: Deps,
    language: str,
    slots: list[Slot],
    named_day: date | None,
    data_of,
) -> list[list[tuple[str, str]]]:
    """Times alone when every one is on the day the message names, else each with its day:
    a bare "10:45" under "Wednesday is closed" would read as Wednesday's."""
    with_day = named_day is None or any(slot.start.date() != named_day for slot in slots)
    buttons = [(slot_label(d, language, slot.start, with_day), data_of(slot)) for slot in slots]
    # A day on the label makes it longer: two a row stay readable on a phone.
    per_row = 2 if with_day else 3
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def offer_keyboard(
    d: Deps,
    language: str,
    business: Business,
    flow: Flow,
    offer: Offer,
    named_day: date | None = None,
) -> InlineKeyboardMarkup:
    """The offered times as buttons, and a way to another day."""

    def data_of(slot: Slot) -> str:
        return flow.slot(
            int(slot.start.timestamp()), business.practitioners.index(slot.practitioner)
        )

    rows = slot_rows(d, language, offer.slots, named_day, data_of)
    rows.append([(d.i18n.text(language, "patient.other_day"), flow.days())])
    return keyboard(*rows)


# -- why not -------------------------------------------------------------------------------


def _hours(business: Business, day: date) -> str:
    ranges = sorted(business.hours.get(WEEKDAYS[day.weekday()], []), key=lambda r: r.start)
    return ", ".join(f"{r.start:%H:%M}–{r.end:%H:%M}" for r in ranges)


def notice_text(notice: timedelta) -> str:
    minutes = int(notice.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


def reason_text(d: Deps, language: str, business: Business, why: Unavailable) -> str:
    """``Cabinet dentaire Dupont est fermé du jeu. 24 déc. au sam. 2 janv.``"""
    weekday = d.i18n.weekday(language, why.day.weekday())
    values: dict[str, str] = {"business": business.name, "weekday": weekday}
    key = f"offers.why.{why.why}"
    if why.why == Why.CLOSURE and why.closure is not None:
        values["first"] = d.i18n.day(language, why.closure.first)
        values["last"] = d.i18n.day(language, why.closure.last)
        if why.closure.first == why.closure.last:
            key = "offers.why.closure_day"
    elif why.why == Why.HOLIDAY:
        rules = d.booking.rules[business.slug]
        values["holiday"] = rules.holiday(why.day, language) or why.holiday or ""
    elif why.why == Why.HOURS:
        values["hours"] = _hours(business, why.day)
    elif why.why == Why.NOTICE:
        values["notice"] = notice_text(business.min_notice)
    return d.i18n.text(language, key, **values)


# -- the message above the times ------------------------------------------------------------


def wanted_intro(
    d: Deps, language: str, business: Business, service: Service, wanted: Wanted, offer: Offer
) -> tuple[str, date]:
    """What a typed (or carried) request is answered with, and the day that text names."""
    name = service.name_in(language)
    first = offer.slots[0].start
    if offer.exact:
        text = d.i18n.text(
            language,
            "offers.exact_free",
            service=name,
            day=d.i18n.day(language, first),
            time=d.i18n.time(language, first),
        )
        return text, first.date()
    why = offer.unavailable
    if wanted.exact and wanted.day_from is not None:
        asked = datetime.combine(wanted.day_from, wanted.time_from, tzinfo=first.tzinfo)
        values = {
            "service": name,
            "day": d.i18n.day(language, asked),
            "time": d.i18n.time(language, asked),
        }
        if why is None:
            return d.i18n.text(language, "patient.nearest", **values), asked.date()
        reason = reason_text(d, language, business, why)
        return d.i18n.text(language, "offers.nearest", reason=reason, **values), asked.date()
    if why is not None:
        text = d.i18n.text(
            language,
            "offers.day_not_free",
            service=name,
            day=d.i18n.day(language, why.day),
            reason=reason_text(d, language, business, why),
        )
        return text, why.day
    return from_day_intro(d, language, service, first), first.date()


def from_day_intro(d: Deps, language: str, service: Service, first: datetime) -> str:
    return d.i18n.text(
        language,
        "patient.which_time",
        service=service.name_in(language),
        day=d.i18n.day(language, first),
    )


def no_room_text(d: Deps, language: str, business: Business) -> str:
    """Said only once nothing is free up to the horizon: the office may still find a time."""
    last = d.booking.last_day(business)
    key = "offers.no_room" if business.phone else "offers.no_room_no_phone"
    return d.i18n.text(
        language, key, business=business.name, last=d.i18n.day(language, last), phone=business.phone
    )


def beyond_text(d: Deps, language: str, business: Business, wanted: Wanted) -> str:
    last = d.booking.last_day(business)
    days = (last - d.booking.today(business)).days
    return d.i18n.text(
        language,
        "offers.beyond",
        business=business.name,
        last=d.i18n.day(language, last),
        days=days,
        day=d.i18n.day(language, wanted.day_from),
    )


def beyond_keyboard(d: Deps, language: str, flow: Flow, wanted: Wanted) -> InlineKeyboardMarkup:
    return keyboard(
        [(d.i18n.text(language, "offers.ask_office"), flow.ask_office(wanted))],
        [(d.i18n.text(language, "patient.other_day"), flow.days())],
    )


def asked_text(d: Deps, language: str, service: Service, day: date, moment) -> str:
    """The request passed on to the office, worded for a person to read."""
    when = d.i18n.day(language, day)
    if moment is not None:
        when = d.i18n.text(language, "offers.day_at", day=when, time=d.i18n.time(language, moment))
    return d.i18n.text(language, "offers.asked", service=service.name_in(language), when=when)


async def show_wanted(
    update: Update,
    d: Deps,
    language: str,
    business: Business,
    flow: Flow,
    wanted: Wanted,
    offer: Offer,
) -> None:
    if offer.beyond_horizon:
        await reply(
            update,
            beyond_text(d, language, business, wanted),
            beyond_keyboard(d, language, flow, wanted),
        )
        return
    join = waitlist_button(d, language, business, flow, wanted, offer)
    if not offer.slots:
        await reply(update, no_room_text(d, language, business), _with_row(None, join))
        return
    intro, named = wanted_intro(d, language, business, flow.service, wanted, offer)
    markup = offer_keyboard(d, language, business, flow, offer, named)
    await reply(update, intro, _with_row(markup, join))


def waitlist_button(
    d: Deps, language: str, business: Business, flow: Flow, wanted: Wanted, offer: Offer
) -> InlineKeyboardButton | None:
    """Nothing offered fits the days (and part of the day) asked for: the patient may ask
    to hear when a place that does frees up. Not for a move, which keeps its time meanwhile."""
    if flow.moving is not None:
        return None
    wish = waitlist.wish_of(
        wanted, flow.service, d.booking.today(business), d.booking.last_day(business)
    )
    if wish is None or not waitlist.nothing_fits(wish, offer.slots):
        return None
    rules = d.booking.rules[business.slug]
    duration = timedelta(minutes=flow.service.duration)
    if not waitlist.worth_waiting(rules, duration, wish, now=d.clock.now()):
        return None
    practitioner = (
        business.practitioners.index(wish.practitioner)
        if wish.practitioner in business.practitioners
        else None
    )
    data = callbacks.encode(
        "wl:in",
        d.booking.business_id(business),
        wish.service,
        wish.day_from,
        wish.day_to,
        wish.time_from,
        wish.time_to,
        practitioner,
    )
    if callbacks.parse(data) is None:
        # A service key too long for Telegram's 64 bytes with the rest: no button at all.
        log.warning("no waitlist button for service %r: callback data too long", wish.service)
        return None
    return InlineKeyboardButton(d.i18n.text(language, "waitlist.join_button"), callback_data=data)


def _with_row(
    markup: InlineKeyboardMarkup | None, button: InlineKeyboardButton | None
) -> InlineKeyboardMarkup | None:
    if button is None:
        return markup
    rows = list(markup.inline_keyboard) if markup else []
    return InlineKeyboardMarkup([*rows, [button]])


# -- the day picker, a week at a time -------------------------------------------------------


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def show_days(
    update: Update,
    d: Deps,
    language: str,
    business: Business,
    flow: Flow,
    monday: date | None = None,
) -> None:
    """The days with room in one week, and the weeks before and after up to the horizon.

    Without a week, the one of the first day with room: the first page is never empty
    unless nothing is free at all.
    """
    service = flow.service
    today = d.booking.today(business)
    last = d.booking.last_day(business)
    if monday is None:
        first = await d.booking.days_with_room(business, service, 1)
        if not first:
            await reply(update, no_room_text(d, language, business))
            return
        monday = monday_of(first[0])
    monday = min(max(monday_of(monday), monday_of(today)), monday_of(last))
    days = await d.booking.days_with_room(
        business, service, first=monday, last=monday + timedelta(days=6)
    )
    rows = [[(d.i18n.short_day(language, day), flow.day(day))] for day in days]
    moves = []
    if monday > monday_of(today):
        back = monday - timedelta(days=7)
        moves.append((d.i18n.text(language, "offers.previous_week"), flow.week(back)))
    if monday + timedelta(days=7) <= last:
        ahead = monday + timedelta(days=7)
        moves.append((d.i18n.text(language, "offers.next_week"), flow.week(ahead)))
    if moves:
        rows.append(moves)
    values = {
        "service": service.name_in(language),
        "minutes": service.duration,
        "week": d.i18n.short_day(language, monday),
    }
    key = "offers.which_day" if days else "offers.week_full"
    await reply(update, d.i18n.text(language, key, **values), keyboard(*rows))


# -- the patient's menu and the answers every offering flow shares ------------------------

SLOTS_SHOWN = 8


def menu(d: Deps, language: str) -> InlineKeyboardMarkup:
    return keyboard(
        [(d.i18n.text(language, "menu.book"), "book"), (d.i18n.text(language, "menu.mine"), "mine")]
    )


async def show_day(
    update: Update, d: Deps, language: str, business: Business, flow: Flow, day: date | None
) -> None:
    """The free times of one day; the days with room again if it has none left."""
    if day is None:
        raise StaleButton("a day button without a day")
    offer = await d.booking.offer(business, flow.service, Wanted(day, day), limit=SLOTS_SHOWN)
    if not offer.slots or offer.slots[0].start.date() != day:
        await show_days(update, d, language, business, flow)
        return
    intro = from_day_intro(d, language, flow.service, offer.slots[0].start)
    await reply(update, intro, offer_keyboard(d, language, business, flow, offer, day))


async def offer_wanted(
    update: Update, d: Deps, language: str, business: Business, flow: Flow, wanted: Wanted
) -> None:
    offer = await d.booking.offer(business, flow.service, wanted)
    await show_wanted(update, d, language, business, flow, wanted, offer)


async def offer_instead(
    update: Update,
    d: Deps,
    language: str,
    business: Business,
    flow: Flow,
    start: datetime,
    error: Exception,
) -> None:
    """Taken meanwhile, or a start no longer offered (an old or forged button): either way
    the patient gets the nearest free times instead."""
    local = d.booking.local(business, start)
    wanted = Wanted(local.date(), local.date(), local.time(), local.time())
    offer = await d.booking.offer(business, flow.service, wanted)
    if not offer.slots:
        await reply(update, no_room_text(d, language, business))
        return
    key = "patient.just_taken" if isinstance(error, SlotTaken) else "patient.not_offered"
    intro = d.i18n.text(language, key, service=flow.service.name_in(language))
    await reply(update, intro, offer_keyboard(d, language, business, flow, offer))


async def already_holding(update: Update, d: Deps, language: str, appointment: Appointment) -> None:
    """One patient, one appointment at a time in a business: the one they hold is shown."""
    values = appointment_values(d, language, appointment, d.booking.business_of(appointment))
    text = d.i18n.text(language, "patient.already_holding", **values)
    await reply(update, text, menu(d, language))
