"""Employers: the businesses that trust the secretary with their clients."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.summaries import Summaries
from handlers.agenda import send_agenda
from handlers.common import deps, split_message, staff_language
from handlers.lookups import listing
from handlers.staff import refuse

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    user = update.effective_user
    businesses = d.settings.businesses_of_employer(user.id)
    language = staff_language(context, user.id)
    await update.effective_message.reply_text(
        d.i18n.text(
            language,
            "employer.welcome",
            name=user.first_name,
            businesses=listing(d, language, [b.name for b in businesses]),
        )
    )


async def summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/resume [business]`` (``/summary``): today's summary, for their own business only."""
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    own = d.settings.businesses_of_employer(user.id)
    if context.args:
        own = [b for b in own if b.slug == context.args[0]]
    if not own:
        log.warning(
            "user %s asked for a summary of %r: not an employer of it",
            user.id,
            (context.args or [])[:1],
        )
        await update.effective_message.reply_text(d.i18n.text(language, "employer.not_yours"))
        return
    summaries = Summaries(d.booking, d.store, d.i18n)
    for business in own:
        today = d.booking.local(business, d.clock.now()).date()
        text = await summaries.employer_summary(language, business, today)
        # A busy day's summary is longer than one message Telegram takes.
        for part in split_message(text):
            await update.effective_message.reply_text(part)


async def agenda(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/agenda [business] [day|semaine]``: the agenda of their own business, never another's."""
    own = deps(context).settings.businesses_of_employer(update.effective_user.id)
    if not own:
        await refuse(update, context)
        return
    await send_agenda(update, context, own)
