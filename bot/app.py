"""The application: every handler and job is registered here, and only here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.booking import Booking
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import I18n
from handlers import employer, patient, scheduled, secretary
from handlers.common import DEPS_KEY, Deps, on_error
from storage import Store

log = logging.getLogger(__name__)

# Long-poll length: Telegram holds getUpdates open this long when nothing happens.
POLL_TIMEOUT = 30


def build_application(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    token: str,
    sweep_every: timedelta | None = scheduled.SWEEP_INTERVAL,
) -> Application:
    """The bot, every handler registered; ``sweep_every`` None leaves the scheduled work to
    whoever calls ``scheduled.sweep`` (tests that move the clock themselves)."""
    builder = Application.builder().token(token)
    if settings.telegram.base_url:
        base = settings.telegram.base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(
            settings.telegram.base_file_url or base.replace("/bot", "/file/bot")
        )
    application = builder.build()
    application.bot_data[DEPS_KEY] = Deps(
        settings=settings,
        store=store,
        clock=clock,
        i18n=I18n(),
        booking=Booking(settings, store, clock),
    )

    secretaries = filters.User(user_id=[s.telegram_id for s in settings.secretaries])
    employers = filters.User(user_id=sorted({i for b in settings.businesses for i in b.employers}))
    private = filters.ChatType.PRIVATE

    # /start: a secretary or an employer sees their own welcome, unless they follow a
    # business's link with an argument, as a patient would.
    application.add_handler(
        CommandHandler("start", secretary.start, filters=private & secretaries & ~_with_argument())
    )
    application.add_handler(
        CommandHandler("start", employer.start, filters=private & employers & ~_with_argument())
    )
    application.add_handler(CommandHandler("start", patient.start, filters=private))

    application.add_handler(
        CommandHandler(["resume", "summary"], employer.summary, filters=private)
    )
    application.add_handler(CallbackQueryHandler(secretary.decide, pattern=r"^req:(ok|no):\d+$"))

    application.add_handler(CallbackQueryHandler(patient.choose_business, pattern=r"^biz:"))
    application.add_handler(CallbackQueryHandler(patient.book, pattern=r"^book$"))
    application.add_handler(CallbackQueryHandler(patient.mine, pattern=r"^mine$"))
    application.add_handler(CallbackQueryHandler(patient.choose_service, pattern=r"^svc:[\w-]+$"))
    application.add_handler(CallbackQueryHandler(patient.choose_day, pattern=r"^day:[\w-]+:\d{8}$"))
    application.add_handler(
        CallbackQueryHandler(patient.choose_slot, pattern=r"^slot:[\w-]+:\d+:\d+$")
    )
    application.add_handler(CallbackQueryHandler(patient.want, pattern=r"^want:"))
    application.add_handler(CallbackQueryHandler(patient.ask_cancel, pattern=r"^cx:\d+$"))
    application.add_handler(CallbackQueryHandler(patient.cancel, pattern=r"^cxy:\d+$"))
    application.add_handler(CallbackQueryHandler(patient.confirm_attendance, pattern=r"^att:\d+$"))
    application.add_handler(CallbackQueryHandler(patient.move_days, pattern=r"^mv:\d+$"))
    application.add_handler(CallbackQueryHandler(patient.move_day, pattern=r"^mvd:\d+:\d{8}$"))
    application.add_handler(CallbackQueryHandler(patient.move_to, pattern=r"^mvs:\d+:\d+:\d+$"))
    application.add_handler(CallbackQueryHandler(patient.stale_button))

    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, patient.text_message)
    )
    application.add_handler(MessageHandler(private & filters.CONTACT, patient.contact))
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, patient.unsupported)
    )
    application.add_error_handler(on_error)
    if sweep_every is not None:
        application.job_queue.run_repeating(
            scheduled.sweep, interval=sweep_every, first=1, name="sweep"
        )
    return application


def _with_argument() -> filters.MessageFilter:
    return filters.Regex(r"^/start\s+\S")


@asynccontextmanager
async def running(application: Application) -> AsyncIterator[Application]:
    """Start polling; stop and shut down cleanly on the way out, whatever happened inside."""
    async with application:
        await application.start()
        await application.updater.start_polling(
            poll_interval=0,
            timeout=POLL_TIMEOUT,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
