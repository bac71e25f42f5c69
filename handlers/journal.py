"""``/journal [jour|semaine|mois] [business]`` (``/log``): an employer sees what the
secretaries did for their own business, from the audit log, in plain words."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.agenda import day_bounds
from bot.config import Business
from bot.i18n import pick_language
from bot.journal import DEFAULT_DAYS, PERIOD_DAYS, first_day, write_journal
from handlers.common import Deps, deps, split_message, staff_language
from handlers.staff import business_slugs, find_business

log = logging.getLogger(__name__)


class _NotYours(Exception):
    """A business named that the employer does not run."""


def _read(d: Deps, own: list[Business], words: list[str]) -> tuple[int, list[Business]] | None:
    """The period's length in days and the businesses asked for; None when not understood.

    The period and the business come in either order; without a business, each of the
    employer's own, as ``/resume`` does.
    """
    days: int | None = None
    named: Business | None = None
    for word in words:
        if word.lower() in PERIOD_DAYS and days is None:
            days = PERIOD_DAYS[word.lower()]
            continue
        business = find_business(d, word) if named is None else None
        if business is None:
            return None
        if business not in own:
            raise _NotYours(business.slug)
        named = business
    return days or DEFAULT_DAYS, [named] if named else own


async def journal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    user = update.effective_user
    own = d.settings.businesses_of_employer(user.id)
    if own or d.settings.is_secretary(user.id):
        language = staff_language(context, user.id)
    else:
        language = pick_language(user.language_code, d.settings.language)
    if not own:
        log.warning("user %s asked for a journal: not an employer", user.id)
        await update.effective_message.reply_text(d.i18n.text(language, "journal.not_yours"))
        return
    try:
        asked = _read(d, own, list(context.args or []))
    except _NotYours as refused:
        log.warning("user %s asked for the journal of %s: not an employer of it", user.id, refused)
        await update.effective_message.reply_text(d.i18n.text(language, "journal.not_yours"))
        return
    if asked is None:
        await update.effective_message.reply_text(
            d.i18n.text(language, "journal.usage", businesses=business_slugs(d, language, own))
        )
        return
    days, businesses = asked
    secretaries = {s.telegram_id: s.name for s in d.settings.secretaries}
    for business in businesses:
        zone = d.settings.zone(business)
        today = d.booking.local(business, d.clock.now()).date()
        first = first_day(today, days)
        start, _ = day_bounds(first, zone)
        _, end = day_bounds(today, zone)
        entries = await d.store.audit.of_business(d.booking.business_id(business), start, end)
        text = write_journal(d.i18n, language, business, zone, (first, today), entries, secretaries)
        for part in split_message(text):
            await update.effective_message.reply_text(part)
