"""Employers: the businesses that trust the secretary with their clients."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import deps, staff_language


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
            businesses=", ".join(b.name for b in businesses),
        )
    )
