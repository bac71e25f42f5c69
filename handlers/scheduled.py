"""What the bot says on its own: reminders, expired requests, escalations, daily summaries
and digests.

One job runs every minute and reads time from the injected clock. Each message is decided in
SQLite and owed to the outbox in one transaction, so a restart (or two sweeps overlapping)
never decides it twice, and a sweep after downtime catches up on what is still worth sending.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from telegram.ext import ContextTypes

from bot import outbox
from bot.agenda import Wanted
from bot.config import Business
from bot.summaries import Summaries
from handlers import handoff, notices, offers, privacy, secretary, waitlist
from handlers.common import Deps, deps, keyboard, staff_language
from handlers.delivery import Rendered, Renderer
from storage.appointments import Source, StaleStatus
from storage.outbox import Message, Owed
from storage.reminders import ReminderPlan

log = logging.getLogger(__name__)

SWEEP_INTERVAL = timedelta(minutes=1)
# A morning digest is for the morning: after a longer downtime, that day's is dropped.
DIGEST_LATEST = timedelta(hours=4)
# Telegram stops sending an update again after a day: its id is no use after that.
HANDLED_UPDATES_KEPT = timedelta(days=2)


async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The minute's work. A failing step is logged and does not hold up the others.

    Of several workers on one database, one sweeps; another takes over once it dies."""
    if not await deps(context).store.sweeper.held():
        return
    steps = (
        send_reminders,
        expire_requests,
        waitlist.offer_freed,
        secretary.escalate,
        send_summaries,
        send_morning_digests,
        handoff.close_quiet,
        forget_visitors,
        forget_handled_updates,
        privacy.apply_retention,
    )
    for step in steps:
        try:
            await step(context)
        except Exception:
            log.exception("scheduled step %s failed; the next sweep tries again", step.__name__)
    # Another worker may have owed messages and died before sending them: this one's
    # deliverer looks, rather than at its next read of the outbox (Deliverer.POLL).
    deps(context).store.outbox.changed.set()


async def forget_visitors(context: ContextTypes.DEFAULT_TYPE) -> None:
    """People who wrote once and never booked are forgotten after ``visitor_retention``."""
    d = deps(context)
    gone = await d.store.people.purge_visitors(
        before=d.clock.now() - d.settings.visitor_retention, keep=d.settings.staff_ids()
    )
    if gone:
        log.info("%s visitor(s) forgotten after %s", gone, d.settings.visitor_retention)


async def forget_handled_updates(context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    await d.store.handled_updates.forget(before=d.clock.now() - HANDLED_UPDATES_KEPT)


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
    now = d.clock.now()
    for due in await d.store.reminders.due(now, _plans(d)):
        owed = outbox.to_patient(outbox.REMINDER, due.appointment)
        await d.store.reminders.claim(due, owed, now)


async def _reminder(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    about = await notices.about_appointment(context, message)
    if about is None:
        return None
    d, language, appointment, _, values = about
    if appointment.starts_at <= d.clock.now():
        return None  # too late to remind
    buttons = keyboard(
        [
            (d.i18n.text(language, "reminder.confirm"), f"att:{appointment.id}"),
            (d.i18n.text(language, "reminder.move"), f"mv:{appointment.id}"),
            (d.i18n.text(language, "reminder.cancel"), f"cx:{appointment.id}"),
        ]
    )
    return Rendered(d.i18n.text(language, "reminder.text", **values), buttons)


async def expire_requests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Requests nobody answered in time free their slot; the patient gets new proposals, or
    the time they had before a move."""
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


async def _expired(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """Nobody answered: the nearest free times to the one asked for, in one tap."""
    about = await notices.about_appointment(context, message)
    if about is None:
        return None
    d, language, expired, business, values = about
    service = business.service(expired.service)
    # An office's proposal the patient never answered is not "your request".
    key = "patient.proposal_expired" if expired.source == Source.SECRETARY else "patient.expired"
    text = d.i18n.text(language, key, **values)
    if service is None:
        return Rendered(text)
    local = d.booking.local(business, expired.starts_at)
    offer = await d.booking.offer(
        business, service, Wanted(local.date(), local.date(), local.time(), local.time())
    )
    # The text names the day of the request: a time on another day says its own.
    markup = (
        offers.offer_keyboard(d, language, business, offers.Flow(service), offer, local.date())
        if offer.slots
        else None
    )
    return Rendered(text, markup)


async def send_summaries(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each employer's summary once a day, from the business's ``daily_summary_at`` on."""
    d = deps(context)
    now = d.clock.now()
    # By local day, as businesses may keep other zones: (target, business, employer).
    due: dict[date, list[tuple[str, Business, int]]] = defaultdict(list)
    for business in d.settings.businesses:
        local = d.booking.local(business, now)
        if local.time() < business.daily_summary_at:
            continue
        for employer in business.employers:
            due[local.date()].append((f"{business.slug}:{employer}", business, employer))
    # Once the day's summaries are owed, each minute reads that in one query, not one
    # transaction per employer.
    for day, targets in due.items():
        sent = await d.store.digests_sent.claimed("summary", day, (t for t, _, _ in targets))
        for target, business, employer in targets:
            if target in sent:
                continue
            owed = [
                Owed(
                    outbox.SUMMARY,
                    employer,
                    payload={"business": business.slug, "day": day.isoformat()},
                )
            ]
            await d.store.digests_sent.claim("summary", target, day, owed, now)


async def _summary(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    d = deps(context)
    business = d.settings.business(message.payload["business"])
    if business is None:
        return None  # dropped from config since
    summaries = Summaries(d.booking, d.store, d.i18n)
    language = staff_language(context, message.chat_id)
    day = date.fromisoformat(message.payload["day"])
    return Rendered(await summaries.employer_summary(language, business, day))


async def send_morning_digests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each secretary's digest once a day, at ``secretary_digest_at`` in the office's zone."""
    d = deps(context)
    now = d.clock.now()
    local = now.astimezone(d.booking.office_zone)
    opens = datetime.combine(local.date(), d.settings.secretary_digest_at, tzinfo=local.tzinfo)
    if not opens <= local < opens + DIGEST_LATEST:
        return
    for person in d.settings.secretaries:
        owed = [Owed(outbox.DIGEST, person.telegram_id, payload={"day": local.date().isoformat()})]
        await d.store.digests_sent.claim("digest", str(person.telegram_id), local.date(), owed, now)


async def _digest(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    d = deps(context)
    summaries = Summaries(d.booking, d.store, d.i18n)
    language = staff_language(context, message.chat_id)
    day = date.fromisoformat(message.payload["day"])
    return Rendered(await summaries.secretary_digest(language, day))


RENDERERS: dict[str, Renderer] = {
    outbox.REMINDER: _reminder,
    outbox.EXPIRED: _expired,
    outbox.SUMMARY: _summary,
    outbox.DIGEST: _digest,
}
