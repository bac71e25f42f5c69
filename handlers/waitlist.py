"""The waitlist, for patients: joining when nothing fits what they asked, the freed slot
offered to them (Take it / No thanks), their entries in their list, and leaving.

Buttons: ``wl:in:<business>:<service>:<first>:<last>:<from>:<to>:<practitioner>`` (made by
handlers.offers when nothing fits), ``wl:out:<entry>``, ``wl:take:<offer>``,
``wl:no:<offer>``. Each checks that the entry or offer is the tapper's own.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import callbacks, outbox
from bot.agenda import Wanted
from bot.config import Business
from bot.waitlist import OfferOver, Waitlist, Wish, wish_of
from handlers import offers
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    keyboard,
    person,
    reply,
    stale_button,
)
from handlers.delivery import Rendered, Renderer
from storage.appointments import AlreadyHeld, SlotTaken, Status
from storage.outbox import Message
from storage.people import Person
from storage.waitlist import Entry, Outcome

log = logging.getLogger(__name__)


def waitlist(d: Deps) -> Waitlist:
    return Waitlist(d.booking)


async def offer_freed(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer what is free to who waits for it, at once. Called after a change that may have
    freed a slot has committed, and every minute: a failure here is logged, the change
    stands, and the next sweep offers it."""
    try:
        await waitlist(deps(context)).reconcile()
    except Exception:
        log.exception("waitlist reconcile failed; the next sweep tries again")


# -- wording ---------------------------------------------------------------------------------


def wish_text(d: Deps, language: str, wish: Wish) -> str:
    """``mardi 12 janvier, entre 08:00 et 12:00, avec Dr Martin``."""
    if wish.day_from == wish.day_to:
        when = d.i18n.day(language, wish.day_from)
    else:
        when = d.i18n.text(
            language,
            "waitlist.when.days",
            first=d.i18n.day(language, wish.day_from),
            last=d.i18n.day(language, wish.day_to),
        )
    first, last = wish.time_from, wish.time_to
    if first is not None and first == last:
        at = d.i18n.time(language, first)
        when = d.i18n.text(language, "waitlist.when.at", when=when, time=at)
    elif first is not None and last is not None:
        when = d.i18n.text(
            language,
            "waitlist.when.between",
            when=when,
            first=d.i18n.time(language, first),
            last=d.i18n.time(language, last),
        )
    elif first is not None:
        when = d.i18n.text(
            language, "waitlist.when.after", when=when, time=d.i18n.time(language, first)
        )
    elif last is not None:
        when = d.i18n.text(
            language, "waitlist.when.before", when=when, time=d.i18n.time(language, last)
        )
    if wish.practitioner:
        who = wish.practitioner
        when = d.i18n.text(language, "waitlist.when.with", when=when, practitioner=who)
    return when


def _entry_values(d: Deps, language: str, entry: Entry) -> dict[str, str] | None:
    found = waitlist(d).wish_service(entry)
    if found is None:
        return None
    business, service = found
    return {
        "service": service.name_in(language),
        "business": business.name,
        "wish": wish_text(d, language, Wish.of_entry(entry)),
    }


def _leave_label(d: Deps, language: str, entry: Entry) -> str:
    business, service = waitlist(d).wish_service(entry)
    days = d.i18n.short_day(language, entry.day_from)
    if entry.day_to != entry.day_from:
        days = f"{days} – {d.i18n.short_day(language, entry.day_to)}"
    return d.i18n.text(
        language, "waitlist.leave_button", days=days, service=service.name_in(language)
    )


async def lines(d: Deps, patient: Person) -> list[str]:
    """The patient's entries, for their list of appointments: none, no lines."""
    language = patient.language
    entries = await waitlist(d).entries(patient.telegram_id)
    if not entries:
        return []
    return [d.i18n.text(language, "waitlist.yours")] + [
        d.i18n.text(language, "waitlist.line", **_entry_values(d, language, entry))
        for entry in entries
    ]


async def list_markup(d: Deps, patient: Person) -> InlineKeyboardMarkup:
    """The patient's menu, and a button to leave each of their entries."""
    language = patient.language
    rows = list(offers.menu(d, language).inline_keyboard)
    for entry in await waitlist(d).entries(patient.telegram_id):
        label = _leave_label(d, language, entry)
        rows.append([InlineKeyboardButton(label, callback_data=f"wl:out:{entry.id}")])
    return InlineKeyboardMarkup(rows)


async def explain(update: Update, d: Deps, patient: Person) -> None:
    """ "Liste d'attente ?": their entries and how to join one, with the menu to book."""
    language = patient.language
    shown = await lines(d, patient)
    text = (
        "\n".join([*shown, "", d.i18n.text(language, "waitlist.how")])
        if shown
        else d.i18n.text(language, "waitlist.none")
    )
    await update.effective_message.reply_text(text, reply_markup=await list_markup(d, patient))


# -- the buttons -----------------------------------------------------------------------------


def _business(d: Deps, business_id: int) -> Business | None:
    return waitlist(d).business_of(business_id)


async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``wl:in:...``: the patient waits for what they asked and nothing fitted."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    business_id, key, first, last, time_from, time_to, index = callbacks.read(
        update.callback_query.data, "wl:in"
    )
    business = _business(d, business_id)
    service = business.service(key) if business else None
    if (
        service is None
        or (index is not None and index >= len(business.practitioners))
        or (time_from is not None and time_to is not None and time_to < time_from)
    ):
        await stale_button(update, context)
        return
    practitioner = business.practitioners[index] if index is not None else None
    wish = wish_of(
        Wanted(first, last, time_from, time_to, practitioner),
        service,
        d.booking.today(business),
        d.booking.last_day(business),
    )
    if wish is None:
        await reply(update, d.i18n.text(language, "waitlist.days_over"), offers.menu(d, language))
        return
    entry, new = await waitlist(d).join(business, wish, patient.telegram_id)
    log.info("patient %s waits (entry %s, new: %s)", patient.telegram_id, entry.id, new)
    values = _entry_values(d, language, entry)
    key = "waitlist.joined" if new else "waitlist.already"
    hold = offers.notice_text(d.settings.waitlist_hold)
    await reply(update, d.i18n.text(language, key, hold=hold, **values), offers.menu(d, language))
    # Freed in the meantime, it is theirs to take now.
    await offer_freed(context)


async def leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``wl:out:<entry>``: the patient no longer waits; an offer they had goes on."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    (entry_id,) = callbacks.read(update.callback_query.data, "wl:out")
    try:
        entry = await waitlist(d).leave(entry_id, patient_id=patient.telegram_id)
    except (LookupError, PermissionError) as error:
        log.warning("patient %s: %s", patient.telegram_id, error)
        await stale_button(update, context)
        return
    values = _entry_values(d, language, entry)
    if entry.ended_at is not None or values is None:
        await reply(update, d.i18n.text(language, "waitlist.over"), offers.menu(d, language))
        return
    log.info("patient %s left waitlist entry %s", patient.telegram_id, entry.id)
    await reply(
        update, d.i18n.text(language, "waitlist.left", **values), await list_markup(d, patient)
    )
    await offer_freed(context)


_OVER_KEYS = {
    Outcome.GONE: "waitlist.gone",
    Outcome.LAPSED: "waitlist.lapsed",
    Outcome.LEFT: "waitlist.over",
}


async def _answer_over(update: Update, d: Deps, language: str, over: OfferOver) -> None:
    key = _OVER_KEYS.get(over.offer.outcome, "waitlist.answered")
    await reply(update, d.i18n.text(language, key), offers.menu(d, language))


async def take(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``wl:take:<offer>``: the freed slot becomes the patient's request (or booking)."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    (offer_id,) = callbacks.read(update.callback_query.data, "wl:take")
    try:
        appointment, _ = await waitlist(d).take(offer_id, patient_id=patient.telegram_id)
    except (LookupError, PermissionError) as error:
        log.warning("patient %s: %s", patient.telegram_id, error)
        await stale_button(update, context)
        return
    except OfferOver as over:
        await _answer_over(update, d, language, over)
        return
    except AlreadyHeld as held:
        await offers.already_holding(update, d, language, held.appointment)
        await offer_freed(context)
        return
    except (SlotTaken, ValueError) as error:
        log.info("patient %s could not take offer %s: %s", patient.telegram_id, offer_id, error)
        await reply(update, d.i18n.text(language, "waitlist.gone"), offers.menu(d, language))
        await offer_freed(context)
        return
    business = d.booking.business_of(appointment)
    values = appointment_values(d, language, appointment, business)
    key = "patient.requested" if appointment.status == Status.REQUESTED else "patient.booked"
    await reply(update, d.i18n.text(language, key, **values))


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``wl:no:<offer>``: not this one; the next patient is asked at once."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    (offer_id,) = callbacks.read(update.callback_query.data, "wl:no")
    try:
        entry = await waitlist(d).refuse(offer_id, patient_id=patient.telegram_id)
    except (LookupError, PermissionError) as error:
        log.warning("patient %s: %s", patient.telegram_id, error)
        await stale_button(update, context)
        return
    except OfferOver as over:
        await _answer_over(update, d, language, over)
        return
    values = _entry_values(d, language, entry)
    text = (
        d.i18n.text(language, "waitlist.refused", **values)
        if values
        else d.i18n.text(language, "waitlist.over")
    )
    await reply(update, text, await list_markup(d, patient))
    await offer_freed(context)


# -- the offer, as the outbox sends it ---------------------------------------------------------


async def _offer(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A freed slot for a waiting patient; moot once the offer ended or its hold passed."""
    d = deps(context)
    offer = await d.store.waitlist.offer(message.payload["offer"])
    if offer is None or not offer.is_open or offer.expires_at <= d.clock.now():
        return None
    entry = await d.store.waitlist.entry(offer.entry_id)
    found = waitlist(d).wish_service(entry)
    patient = await d.store.people.get(message.chat_id)
    if found is None or patient is None:
        return None
    business, service = found
    language = patient.language
    start = d.booking.local(business, offer.starts_at)
    text = d.i18n.text(
        language,
        "waitlist.offer",
        service=service.name_in(language),
        business=business.name,
        practitioner=offer.practitioner,
        day=d.i18n.day(language, start),
        time=d.i18n.time(language, start),
        time_until=d.i18n.time(language, d.booking.local(business, offer.expires_at)),
    )
    buttons = keyboard(
        [
            (d.i18n.text(language, "waitlist.take"), f"wl:take:{offer.id}"),
            (d.i18n.text(language, "waitlist.no"), f"wl:no:{offer.id}"),
        ]
    )
    return Rendered(text, buttons)


RENDERERS: dict[str, Renderer] = {outbox.WAITLIST_OFFER: _offer}
