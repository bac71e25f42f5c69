"""/rdv: the secretary books an appointment for someone on the phone.

``/rdv [business] [Mme Durand 06 12 34 56 78 détartrage mardi 10h]``: the bot reads what it
can, asks for what is missing (business, name, number, service), then offers free times; the
tapped one is booked at once, confirmed. "tous les mardis x10" books a series from it. The
draft waits between messages as handlers.desk says.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.agenda import Slot, Wanted
from bot.callers import read_booking
from bot.config import Business, Service
from bot.series import read_series_booking
from bot.series_booking import Who
from handlers import desk, offers, series, steps
from handlers.common import Deps, appointment_values, keyboard, reply
from handlers.desk import Draft
from handlers.staff import PROPOSALS_SHOWN, audit, day_code, snapshot
from storage.appointments import SlotTaken

log = logging.getLogger(__name__)

DAYS_SHOWN = 6


async def rdv(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/rdv [business] [Mme Durand 06 12 34 56 78 détartrage mardi 10h]``."""
    await desk.begin(update, context, desk.RDV_STEP, _next)


async def _typed(update, context, d: Deps, language: str, step: dict, text: str) -> None:
    await desk.go_on(update, context, d, language, step, text, _next)


def _merge_booking(d: Deps, draft: Draft, business: Business) -> None:
    if not draft.text:
        return
    now = d.booking.local(business, d.clock.now())
    read, recurrence = read_series_booking(
        draft.text, now, business.services, business.practitioners, with_name=draft.name is None
    )
    draft.series = recurrence or draft.series
    draft.text = None
    draft.name = read.name or draft.name
    draft.phone = read.phone or draft.phone
    draft.service = read.service or draft.service
    if read.wanted != Wanted():
        draft.wanted = read.wanted


def _only_business_offering(d: Deps, text: str) -> Business | None:
    """The business a booking must be for when it names a service only one of them offers
    ("massage samedi 10h" is the institute's)."""
    offering = []
    for business in d.settings.businesses:
        now = d.booking.local(business, d.clock.now())
        if read_booking(text, now, business.services).service is not None:
            offering.append(business)
    return offering[0] if len(offering) == 1 else None


async def _next(update: Update, d: Deps, language: str, draft: Draft) -> None:
    """Ask for what is missing, else show the free slots."""
    business = d.settings.business(draft.business) if draft.business else None
    if business is None and draft.text:
        business = _only_business_offering(d, draft.text)
        draft.business = business.slug if business is not None else None
    if business is None:
        await reply(
            update,
            d.i18n.text(language, "desk.which_business"),
            desk.business_buttons(d, language, "rdv", draft),
        )
        return
    _merge_booking(d, draft, business)
    missing = desk.missing_key(draft)
    if missing is not None:
        await reply(
            update,
            d.i18n.text(
                language,
                missing,
                business=business.name,
                caller=desk.understood(d, language, draft),
            ),
        )
        return
    service = business.service(draft.service) if draft.service else None
    if service is None and len(business.services) == 1:
        service = business.services[0]
    if service is None:
        rows = [[(s.name, f"rdv:{draft.flow}:v:{s.key}")] for s in business.services]
        await reply(
            update,
            d.i18n.text(language, "rdv.which_service", caller=desk.understood(d, language, draft)),
            keyboard(*rows),
        )
        return
    draft.service = service.key
    await _offer(update, d, language, draft, business, service, intro_key=None)


async def _offer(
    update: Update,
    d: Deps,
    language: str,
    draft: Draft,
    business: Business,
    service: Service,
    *,
    intro_key: str | None,
) -> None:
    wanted = draft.wanted
    offer = await d.booking.offer(business, service, wanted, limit=PROPOSALS_SHOWN)
    caller = desk.understood(d, language, draft)
    other_day = (d.i18n.text(language, "rdv.other_day"), f"rdv:{draft.flow}:o")
    if offer.beyond_horizon:
        await reply(
            update, _beyond_text(d, language, business, caller, service), keyboard([other_day])
        )
        return
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
        if wanted.exact and wanted.day_from is not None and intro_key != "rdv.taken"
        else offer.slots[0].start
    )
    # "rdv.taken" names no day: each time then says its own.
    named = None if intro_key == "rdv.taken" else asked.date()

    def data_of(slot: Slot) -> str:
        index = business.practitioners.index(slot.practitioner)
        return f"rdv:{draft.flow}:s:{int(slot.start.timestamp())}:{index}"

    rows = offers.slot_rows(d, language, offer.slots, named, data_of)
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
    if offer.unavailable is not None and intro_key != "rdv.taken":
        reason = offers.reason_text(d, language, business, offer.unavailable)
        line = d.i18n.text(language, "offers.desk_reason", reason=reason)
        text = f"{text}\n{line}"
    if draft.series is not None:
        text += "\n" + series.draft_line(d, language, draft.series.every, draft.series.count)
    await reply(update, text, keyboard(*rows))


def _beyond_text(d: Deps, language: str, business: Business, caller: str, service: Service) -> str:
    last = d.booking.last_day(business)
    return d.i18n.text(
        language,
        "offers.desk_beyond",
        caller=caller,
        service=service.name,
        last=d.i18n.day(language, last),
        days=(last - d.booking.today(business)).days,
    )


# -- buttons: rdv:{flow}:<action>:... ---------------------------------------------------------


def _chosen(d: Deps, draft: Draft) -> tuple[Business, Service]:
    """The draft's business and service, which every button past them needs."""
    business = d.settings.business(draft.business) if draft.business else None
    service = business.service(draft.service) if business and draft.service else None
    if service is None:
        raise steps.Stale(f"rdv draft {draft.flow} has no service yet")
    return business, service


async def _business(update, context, d: Deps, language: str, args: list) -> None:
    flow, slug = args
    draft = desk.of_button(context, desk.RDV_STEP, flow)
    if d.settings.business(slug) is None:
        raise steps.Stale(slug)
    draft.business = slug
    await _next(update, d, language, draft)


async def _business_page(update, context, d: Deps, language: str, args: list) -> None:
    """Another page of the businesses, in place."""
    flow, page = args
    draft = desk.of_button(context, desk.RDV_STEP, flow)
    markup = desk.business_buttons(d, language, "rdv", draft, page)
    await reply(update, d.i18n.text(language, "desk.which_business"), markup)


async def _service(update, context, d: Deps, language: str, args: list) -> None:
    flow, key = args
    draft = desk.of_button(context, desk.RDV_STEP, flow)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None or business.service(key) is None:
        raise steps.Stale(key)
    draft.service = key
    await _next(update, d, language, draft)


async def _other_day(update, context, d: Deps, language: str, args: list) -> None:
    (flow,) = args
    business, service = _chosen(d, desk.of_button(context, desk.RDV_STEP, flow))
    days = await d.booking.days_with_room(business, service, DAYS_SHOWN)
    rows = [[(d.i18n.short_day(language, day), f"rdv:{flow}:d:{day_code(day)}")] for day in days]
    await reply(
        update,
        d.i18n.text(language, "rdv.which_day", service=service.name),
        keyboard(*rows) if rows else None,
    )


async def _day(update, context, d: Deps, language: str, args: list) -> None:
    flow, day = args
    draft = desk.of_button(context, desk.RDV_STEP, flow)
    _chosen(d, draft)
    draft.wanted = Wanted(day, day)
    await _next(update, d, language, draft)


async def _slot(update, context, d: Deps, language: str, args: list) -> None:
    flow, start, index = args
    draft = desk.of_button(context, desk.RDV_STEP, flow)
    business, service = _chosen(d, draft)
    if index >= len(business.practitioners):
        raise steps.Stale(str(index))
    user = update.effective_user
    practitioner = business.practitioners[index]
    if draft.series is not None:
        desk.done(context)
        who = Who(caller_name=draft.name, caller_phone=draft.phone)
        await series.book_typed(
            update, d, language, business, service, start, practitioner, draft.series, who
        )
        return
    try:
        appointment = await d.booking.book_by_office(
            business,
            service,
            start,
            practitioner,
            caller_name=draft.name,
            caller_phone=draft.phone,
            actor=user.id,
        )
    except (SlotTaken, ValueError) as error:
        log.info("secretary %s could not book %s: %s", user.id, start, error)
        local = d.booking.local(business, start)
        draft.wanted = Wanted(local.date(), local.date(), local.time(), local.time())
        await _offer(update, d, language, draft, business, service, intro_key="rdv.taken")
        return
    desk.done(context)
    await audit(
        d,
        user.id,
        "appointment.book_phone",
        f"appointment:{appointment.id}",
        None,
        {
            **snapshot(appointment),
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
            caller=desk.understood(d, language, draft),
            **appointment_values(d, language, appointment, business),
        ),
        keyboard(series.repeat_row(d, language, appointment)),
    )


BUTTONS: dict[str, tuple[int, steps.StepHandler]] = {
    "b": (2, _business),
    "bp": (2, _business_page),
    "v": (2, _service),
    "o": (1, _other_day),
    "d": (2, _day),
    "s": (3, _slot),
}

TEXT_STEPS: dict[str, steps.StepHandler] = {desk.RDV_STEP: _typed}
