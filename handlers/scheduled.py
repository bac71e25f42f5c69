"""What the bot says on its own: reminders, expired requests, escalations, daily summaries
and digests.

One job runs every minute and reads time from the injected clock. Each message is claimed in
SQLite before it is sent, so a restart (or two sweeps overlapping) never sends it twice, and
a sweep after downtime catches up on what is still worth sending.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ContextTypes

from bot.agenda import Wanted
from bot.summaries import Summaries
from handlers import patient, secretary
from handlers.common import Deps, appointment_values, deps, keyboard, send_safely, staff_language
from storage.appointments import Appointment, Source, StaleStatus
from storage.reminders import DueReminder, ReminderPlan

log = logging.getLogger(__name__)

SWEEP_INTERVAL = timedelta(minutes=1)
# A morning digest is for the morning: after a longer downtime, that day's is dropped.
DIGEST_LATEST = timedelta(hours=4)


async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The minute's work. A failing step is logged and does not hold up the others."""
    steps = (
        send_reminders,
        expire_requests,
        secretary.escalate,
        send_summaries,
        send_morning_digests,
    )
    for step in steps:
        try:
            await step(context)
        except Exception:
            log.exception("scheduled step %s failed; the next sweep tries again", step.__name__)


def _plans(d: Deps) -> list[ReminderPlan]:
    """Businesses grouped by their reminder offsets (their own, else the office's)."""
    groups: dict[tuple[timedelta, ...], list[int]] = defaultdict(list)
    for business in d.settings.businesses:
        offsets = tuple(business.reminders or d.settings.reminders)
        groups[offsets].append(d.booking.business_id(business))
    if len(groups) == 1:
        return [ReminderPlan(next(iter(groups)))]
    return [ReminderPlan(offsets, tuple(ids)) for offsets, ids in groups.items() if offsets]


async def send_reminders(context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    for due in await d.store.reminders.due(d.clock.now(), _plans(d)):
        if not await d.store.reminders.claim(due, d.clock.now()):
            continue
        try:
            await _send_reminder(context, d, due)
        except Forbidden:
            log.info("patient %s blocked the bot: reminder dropped", due.appointment.patient_id)
            await d.store.reminders.mark_skipped(due)
        except RetryAfter as error:
            # Telegram refused it for sure: free the claim and let the next sweep go on.
            log.warning("%s: reminders wait for the next sweep", error.message)
            await d.store.reminders.release(due)
            return
        except BadRequest:
            log.exception("reminder for appointment %s refused", due.appointment.id)
            await d.store.reminders.release(due)
        except NetworkError:
            # It may or may not have arrived: a second copy would be worse than none.
            log.exception("reminder for appointment %s: delivery unknown", due.appointment.id)
        else:
            await d.store.reminders.mark_sent(due, d.clock.now())


async def _send_reminder(context: ContextTypes.DEFAULT_TYPE, d: Deps, due: DueReminder) -> None:
    appointment = due.appointment
    person = await d.store.people.get(appointment.patient_id)
    language = person.language
    business = d.booking.business_of(appointment)
    values = appointment_values(d, language, appointment, business)
    buttons = keyboard(
        [
            (d.i18n.text(language, "reminder.confirm"), f"att:{appointment.id}"),
            (d.i18n.text(language, "reminder.move"), f"mv:{appointment.id}"),
            (d.i18n.text(language, "reminder.cancel"), f"cx:{appointment.id}"),
        ]
    )
    await context.bot.send_message(
        person.telegram_id, d.i18n.text(language, "reminder.text", **values), reply_markup=buttons
    )


async def expire_requests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Requests nobody answered in time free their slot; the patient gets new proposals."""
    d = deps(context)
    for waiting in await d.store.appointments.requested_before(
        d.clock.now() - d.settings.request_ttl
    ):
        try:
            expired = await d.booking.expire(waiting.id)
        except StaleStatus:
            continue  # a secretary answered in the meantime
        log.info("request %s expired unanswered", expired.id)
        await secretary.refresh_inbox(context, expired, "secretary.expired", None)
        kept = await d.booking.keep_previous(expired, actor=None)
        if kept is not None:
            await secretary.tell_kept(context, kept, "patient.move_expired")
        elif expired.patient_id is not None:
            await _offer_again(context, d, expired)


async def _offer_again(context: ContextTypes.DEFAULT_TYPE, d: Deps, expired: Appointment) -> None:
    person = await d.store.people.get(expired.patient_id)
    language = person.language
    business = d.booking.business_of(expired)
    service = business.service(expired.service)
    values = appointment_values(d, language, expired, business)
    # An office's proposal the patient never answered is not "your request".
    key = "patient.proposal_expired" if expired.source == Source.SECRETARY else "patient.expired"
    text = d.i18n.text(language, key, **values)
    if service is None:
        await send_safely(context, person.telegram_id, text)
        return
    local = d.booking.local(business, expired.starts_at)
    offer = await d.booking.offer(
        business, service, Wanted(local.date(), local.date(), local.time(), local.time())
    )
    markup = (
        patient.offer_keyboard(d, language, business, patient.Flow(service), offer)
        if offer.slots
        else None
    )
    await send_safely(context, person.telegram_id, text, markup)


async def send_summaries(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each employer's summary once a day, from the business's ``daily_summary_at`` on."""
    d = deps(context)
    summaries = Summaries(d.booking, d.store, d.i18n)
    now = d.clock.now()
    for business in d.settings.businesses:
        local = d.booking.local(business, now)
        if local.time() < business.daily_summary_at:
            continue
        for employer in business.employers:
            target = f"{business.slug}:{employer}"
            if not await d.store.digests_sent.claim("summary", target, local.date(), now):
                continue
            language = staff_language(context, employer)
            text = await summaries.employer_summary(language, business, local.date())
            await send_safely(context, employer, text)


async def send_morning_digests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each secretary's digest once a day, at ``secretary_digest_at`` in the office's zone."""
    d = deps(context)
    local = d.clock.now().astimezone(d.booking.office_zone)
    opens = datetime.combine(local.date(), d.settings.secretary_digest_at, tzinfo=local.tzinfo)
    if not opens <= local < opens + DIGEST_LATEST:
        return
    summaries = Summaries(d.booking, d.store, d.i18n)
    for person in d.settings.secretaries:
        target = str(person.telegram_id)
        if not await d.store.digests_sent.claim("digest", target, local.date(), d.clock.now()):
            continue
        text = await summaries.secretary_digest(person.language, local.date())
        await send_safely(context, person.telegram_id, text)
