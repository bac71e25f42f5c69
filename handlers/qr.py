"""``/qr <business>``: the secretary gets the QR code of a business's link, to print for its
front desk."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.qr import deep_link, png
from handlers.common import deps, staff_language
from handlers.staff import business_slugs, find_business, require_secretary

log = logging.getLogger(__name__)


async def qr(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    business = find_business(d, context.args[0]) if len(context.args or []) == 1 else None
    if business is None:
        await update.effective_message.reply_text(
            d.i18n.text(language, "qr.which", businesses=business_slugs(d, language))
        )
        return
    link = deep_link(context.bot.username, business.slug)
    # Drawing the name loads the fonts: off the event loop, so other chats are not kept waiting.
    picture = await asyncio.to_thread(png, link, business.name)
    log.info("secretary %s: QR code of %s", update.effective_user.id, business.slug)
    await context.bot.send_photo(
        update.effective_chat.id,
        photo=picture,
        caption=d.i18n.text(language, "qr.caption", business=business.name, link=link),
        filename=f"qr-{business.slug}.png",
    )
