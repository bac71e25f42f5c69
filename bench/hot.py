"""The bot's hot paths: one list for ``bench.growth``, which times them at a million
appointments and prints their query plans, and for ``tests/test_query_plans.py``, which
checks those plans on a small database.

Each one is made ready (what it needs done first, not timed) and returns the action timed;
``converse`` is a patient's booking conversation through the bot over HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time

from telegram.ext import CallbackContext

from bot.agenda import Wanted
from bot.config import Business
from bot.simulator import Simulator
from bot.summaries import Summaries
from handlers import scheduled
from handlers.common import deps
from storage.appointments import SlotTaken

SERVICE = "consultation"
UPDATES_PER_CONVERSATION = 3  # what ``converse`` sends: a link, words, a tap

Action = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Hot:
    name: str
    # (the application's context, a business, a day ahead, a patient's id) -> the action
    ready: Callable[[CallbackContext, Business, date, int], Awaitable[Action]]


def _offer(wanted: Callable[[date], Wanted]):
    async def ready(context: CallbackContext, business: Business, day: date, _: int) -> Action:
        booking = deps(context).booking
        return lambda: booking.offer(business, business.service(SERVICE), wanted(day))

    return ready


async def _booking(context: CallbackContext, business: Business, day: date, patient: int):
    booking = deps(context).booking
    service = business.service(SERVICE)
    slot = (await booking.offer(business, service, Wanted(day, day))).slots[0]

    async def book() -> object:
        try:
            return await booking.request(
                business, service, slot.start, slot.practitioner, patient_id=patient
            )
        except SlotTaken:
            return None

    return book


async def _summary(context: CallbackContext, business: Business, day: date, _: int) -> Action:
    d = deps(context)
    summaries = Summaries(d.booking, d.store, d.i18n)
    return lambda: summaries.employer_summary("fr", business, d.booking.today(business))


async def _mail_merges(context: CallbackContext, business: Business, day: date, _: int):
    d = deps(context)
    merges, now = d.store.mail_merges, d.clock.now()
    business_id = d.booking.business_id(business)

    async def audiences() -> object:
        await merges.everyone(business_id)
        await merges.booked_between(business_id, now, now + timedelta(days=30))
        return await merges.seen_between(business_id, now - timedelta(days=30), now)

    return audiences


async def _sweep(context: CallbackContext, business: Business, day: date, _: int) -> Action:
    return lambda: scheduled.sweep(context)


OFFER_DAY = Hot("free-slot search, a day", _offer(lambda day: Wanted(day, day)))
OFFER_WEEK = Hot(
    "free-slot search, a week", _offer(lambda day: Wanted(day, day + timedelta(days=6)))
)
OFFER_EXACT = Hot(
    "free-slot search, an exact time",
    _offer(lambda day: Wanted(day, day, clock_time(15), clock_time(15))),
)
BOOKING = Hot("booking with its overlap check", _booking)
SUMMARY = Hot("an employer's daily summary", _summary)
MAIL_MERGES = Hot("a mail merge's audiences", _mail_merges)
SWEEP = Hot("the minute sweep", _sweep)
HOT = [OFFER_DAY, OFFER_WEEK, OFFER_EXACT, BOOKING, SUMMARY, MAIL_MERGES, SWEEP]


async def converse(tg: Simulator, patient: int, slug: str, hour: int) -> None:
    """A patient opens the business's link, asks for a time in words, taps the first one
    offered."""
    user = tg.user(patient, f"Visitor{patient}", language="fr")
    await user.send(f"/start {slug}")
    await user.send(f"une consultation mardi vers {hour}h")
    await user.tap(user.last.buttons[0][0])
