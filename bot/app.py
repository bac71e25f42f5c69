"""The application: every handler and job is registered here, and only here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import transport
from bot.booking import Booking
from bot.callbacks import route_is
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import I18n
from bot.persistence import StorePersistence, WorkerApplication
from bot.webhook_server import WebhookServer
from handlers import (
    agenda,
    blocks,
    calls,
    delivery,
    earnings,
    employer,
    handoff,
    journal,
    late,
    mailmerge,
    menus,
    missions,
    notices,
    office,
    office_booking,
    own,
    patient,
    patients,
    phone_booking,
    privacy,
    qr,
    scheduled,
    secretary,
    series,
    staff,
    statements,
    steps,
    waitlist,
)
from handlers.common import DEPS_KEY, Deps, on_error
from storage import Store

log = logging.getLogger(__name__)

# Long-poll length: Telegram holds getUpdates open this long when nothing happens.
POLL_TIMEOUT = 30

# The kinds of update each kind of handler reads. Every message handler here is for private
# chats, so channel posts never match one; business messages come only to a bot connected to
# a business account, which this one is not.
_UPDATES_READ: dict[type[BaseHandler], tuple[str, ...]] = {
    CallbackQueryHandler: (Update.CALLBACK_QUERY,),
    CommandHandler: (Update.MESSAGE, Update.EDITED_MESSAGE),
    MessageHandler: (Update.MESSAGE, Update.EDITED_MESSAGE),
}


@dataclass(frozen=True)
class Webhook:
    """Webhook mode: Telegram POSTs each update to ``url``, this worker listens on
    ``host:port``. With several workers behind a proxy, ``url`` is the proxy's, the same for
    all; each worker tells Telegram again as it starts, which changes nothing."""

    url: str
    host: str
    port: int
    secret: str = field(repr=False)

    @property
    def path(self) -> str:
        """Where on this worker the updates come: the URL's path, as a proxy passes it on."""
        return urlsplit(self.url).path or "/"


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
    seconds = settings.telegram.timeout_seconds
    # As many connections as python-telegram-bot's own default; the long poll needs one.
    tls = transport.certified()
    builder = builder.request(
        transport.AiohttpRequest(timeout=seconds, connections=256, tls=tls)
    ).get_updates_request(transport.AiohttpRequest(timeout=seconds, connections=1, tls=tls))
    # Every message goes through Telegram's flood limit, paced here; a 429 that still comes
    # is retried after the wait Telegram asks for.
    builder = builder.rate_limiter(
        AIORateLimiter(
            overall_max_rate=settings.telegram.max_messages_per_second,
            overall_time_period=1,
            max_retries=3,
        )
    )
    application = (
        builder.application_class(WorkerApplication)
        .persistence(StorePersistence(store.sessions))
        .post_init(menus.publish)
        .build()
    )
    application.bot_data[DEPS_KEY] = Deps(
        settings=settings,
        store=store,
        clock=clock,
        i18n=I18n(),
        booking=Booking(settings, store, clock),
    )
    # Every message owed to someone, whoever owes it, is worded by its kind's renderer.
    application.bot_data[delivery.DELIVERER_KEY] = delivery.Deliverer(
        application,
        secretary.RENDERERS
        | notices.RENDERERS
        | scheduled.RENDERERS
        | calls.RENDERERS
        | mailmerge.RENDERERS
        | handoff.RENDERERS
        | late.RENDERERS
        | waitlist.RENDERERS
        | office.RENDERERS
        | series.RENDERERS
        | privacy.RENDERERS,
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
    application.add_handler(CommandHandler(["journal", "log"], journal.journal, filters=private))
    application.add_handler(CommandHandler("qr", qr.qr, filters=private))
    application.add_handler(
        CallbackQueryHandler(secretary.decide, pattern=route_is("req:ok", "req:no"))
    )

    application.add_handler(CallbackQueryHandler(patient.choose_business, pattern=route_is("biz")))
    application.add_handler(CallbackQueryHandler(patient.business_page, pattern=route_is("bizp")))
    application.add_handler(CallbackQueryHandler(patient.book, pattern=route_is("book")))
    application.add_handler(CallbackQueryHandler(own.mine, pattern=route_is("mine")))
    application.add_handler(CallbackQueryHandler(patient.choose_service, pattern=route_is("svc")))
    application.add_handler(CallbackQueryHandler(patient.choose_day, pattern=route_is("day")))
    application.add_handler(CallbackQueryHandler(patient.choose_week, pattern=route_is("days")))
    application.add_handler(CallbackQueryHandler(patient.ask_office, pattern=route_is("ask")))
    application.add_handler(CallbackQueryHandler(patient.choose_slot, pattern=route_is("slot")))
    application.add_handler(CallbackQueryHandler(patient.want, pattern=route_is("want")))
    application.add_handler(
        CommandHandler(["langue", "language"], patient.choose_language, filters=private)
    )
    application.add_handler(CommandHandler(["aide", "help"], menus.help_command, filters=private))
    application.add_handler(CallbackQueryHandler(patient.set_language, pattern=route_is("lang")))
    application.add_handler(
        CommandHandler(["mesdonnees", "mydata"], privacy.my_data, filters=private)
    )
    application.add_handler(
        CommandHandler(["oublier", "forgetme"], privacy.forget_me, filters=private)
    )
    application.add_handler(CallbackQueryHandler(privacy.erase, pattern=route_is("priv:erase")))
    application.add_handler(CallbackQueryHandler(privacy.keep, pattern=route_is("priv:keep")))
    application.add_handler(CallbackQueryHandler(own.ask_cancel, pattern=route_is("cx")))
    application.add_handler(CallbackQueryHandler(own.cancel, pattern=route_is("cxy")))
    application.add_handler(CallbackQueryHandler(series.ask_cancel_rest, pattern=route_is("cxr")))
    application.add_handler(CallbackQueryHandler(series.cancel_rest, pattern=route_is("cxry")))
    application.add_handler(CallbackQueryHandler(own.confirm_attendance, pattern=route_is("att")))
    application.add_handler(CallbackQueryHandler(own.move_days, pattern=route_is("mv")))
    application.add_handler(CallbackQueryHandler(own.move_day, pattern=route_is("mvd")))
    application.add_handler(CallbackQueryHandler(own.move_days, pattern=route_is("mvw")))
    application.add_handler(CallbackQueryHandler(own.move_to, pattern=route_is("mvs")))
    application.add_handler(CallbackQueryHandler(waitlist.join, pattern=route_is("wl:in")))
    application.add_handler(CallbackQueryHandler(waitlist.leave, pattern=route_is("wl:out")))
    application.add_handler(CallbackQueryHandler(waitlist.take, pattern=route_is("wl:take")))
    application.add_handler(CallbackQueryHandler(waitlist.refuse, pattern=route_is("wl:no")))

    # Missions, statements, earnings, mail merge, the phone desk: the secretary's business.
    # Commands are open to all so that anyone else is refused in words, not ignored. The
    # typed steps run in group -1, ahead of patient.text_message, and stop the update only
    # when one of these flows is waiting for text. Any command ends such a wait (/annuler
    # says so): those handlers run in group -3, ahead of every group that may stop a command.
    application.add_handler(CommandHandler("mission", missions.new_mission, filters=private))
    application.add_handler(CommandHandler("missions", missions.list_missions, filters=private))
    application.add_handler(CommandHandler("releve", statements.statement, filters=private))
    application.add_handler(CommandHandler("gains", earnings.earnings, filters=private))
    application.add_handler(CommandHandler("publipostage", mailmerge.mail_merge, filters=private))
    application.add_handler(
        CallbackQueryHandler(
            steps.buttons(missions.BUTTONS | statements.BUTTONS), pattern=route_is("m")
        )
    )
    application.add_handler(
        CallbackQueryHandler(steps.buttons(mailmerge.BUTTONS), pattern=route_is("mm"))
    )
    application.add_handler(
        CallbackQueryHandler(steps.buttons(phone_booking.BUTTONS), pattern=route_is("rdv"))
    )
    application.add_handler(
        CallbackQueryHandler(steps.buttons(calls.BUTTONS), pattern=route_is("call"))
    )
    application.add_handler(
        MessageHandler(
            private & secretaries & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
            steps.typed_text(
                missions.TEXT_STEPS
                | mailmerge.TEXT_STEPS
                | office.TEXT_STEPS
                | patients.TEXT_STEPS
                | phone_booking.TEXT_STEPS
                | calls.TEXT_STEPS
            ),
        ),
        group=-1,
    )
    application.add_handler(
        CommandHandler(["annuler", "cancel"], steps.cancel, filters=private & secretaries),
        group=-3,
    )
    application.add_handler(
        MessageHandler(private & secretaries & filters.COMMAND, steps.forget_step), group=-3
    )
    # At start-up, however long it took (no misfire grace): runs a stop interrupted go on.
    application.job_queue.run_once(
        mailmerge.resume_mail_merges,
        when=0,
        name="resume mail merges",
        job_kwargs={"misfire_grace_time": None},
    )

    # The secretary's phone: inbox, agenda, phone bookings, calls, blocks.
    # Commands are open to all, so that anyone else is refused in words; /agenda also serves
    # employers, for their own business only. /rdv and /appel read typed text: their drafts
    # wait as typed steps, like the missions'.
    # A secretary's reply to a patient's passed-on message goes back to the patient, ahead
    # of every typed step; any other reply goes on to them.
    application.add_handler(
        MessageHandler(
            private & secretaries & filters.REPLY & ~filters.COMMAND, handoff.office_reply
        ),
        group=-4,
    )
    application.add_handler(CallbackQueryHandler(handoff.close, pattern=route_is("thr:close")))
    application.add_handler(
        CommandHandler(["demandes", "requests"], secretary.inbox, filters=private)
    )
    application.add_handler(
        CommandHandler("agenda", employer.agenda, filters=private & employers & ~secretaries)
    )
    application.add_handler(CommandHandler("agenda", agenda.agenda, filters=private))
    application.add_handler(CommandHandler("ics", agenda.ics, filters=private))
    application.add_handler(CommandHandler(["bloquer", "block"], blocks.block, filters=private))
    application.add_handler(
        CommandHandler(["debloquer", "unblock"], blocks.unblock, filters=private)
    )
    application.add_handler(
        CommandHandler(["presences", "attendance"], secretary.attendance, filters=private)
    )
    application.add_handler(
        CommandHandler(["rdv", "appointment"], phone_booking.rdv, filters=private & secretaries)
    )
    application.add_handler(
        CommandHandler(["appel", "call"], calls.call, filters=private & secretaries)
    )
    application.add_handler(
        CommandHandler(
            ["rdv", "appointment", "appel", "call"],
            staff.refuse,
            filters=private & ~secretaries,
        )
    )
    application.add_handler(
        CallbackQueryHandler(secretary.propose_slots, pattern=route_is("req:pr"))
    )
    application.add_handler(CallbackQueryHandler(secretary.propose, pattern=route_is("req:ps")))
    application.add_handler(
        CallbackQueryHandler(own.answer_proposal, pattern=route_is("prop:ok", "prop:no"))
    )
    application.add_handler(
        CallbackQueryHandler(secretary.mark_attendance, pattern=route_is("apt:done", "apt:ns"))
    )
    application.add_handler(
        CallbackQueryHandler(blocks.unblock_button, pattern=route_is("blk:undo"))
    )
    application.add_handler(
        CallbackQueryHandler(late.decide, pattern=route_is("late:cx", "late:keep"))
    )
    application.add_handler(
        CallbackQueryHandler(agenda.agenda_week_button, pattern=route_is("agw"))
    )
    application.add_handler(CallbackQueryHandler(agenda.agenda_week_page, pattern=route_is("agwp")))
    # The office acting on any appointment (om: is its move, for any secretary button),
    # on what a new block hits, and the patients' cards.
    application.add_handler(CallbackQueryHandler(office.appointment_view, pattern=route_is("oa")))
    application.add_handler(CallbackQueryHandler(office.move_days, pattern=route_is("om", "omw")))
    application.add_handler(CallbackQueryHandler(office.move_day, pattern=route_is("omd")))
    application.add_handler(CallbackQueryHandler(office.move_to, pattern=route_is("oms")))
    application.add_handler(CallbackQueryHandler(office.ask_patient, pattern=route_is("oma")))
    application.add_handler(CallbackQueryHandler(office.ask_reason, pattern=route_is("oc")))
    application.add_handler(
        CallbackQueryHandler(office.cancel_without_reason, pattern=route_is("ocn"))
    )
    application.add_handler(
        CallbackQueryHandler(office.block_hits, pattern=route_is("blk:ask", "blk:cx"))
    )
    application.add_handler(CommandHandler(["patient", "chercher"], patients.find, filters=private))
    application.add_handler(CallbackQueryHandler(patients.card, pattern=route_is("pat:p", "pat:c")))
    application.add_handler(
        CallbackQueryHandler(patients.ask_note, pattern=route_is("pat:np", "pat:nc"))
    )
    application.add_handler(CallbackQueryHandler(patients.ask_message, pattern=route_is("pat:w")))
    application.add_handler(
        CallbackQueryHandler(office_booking.choose_service, pattern=route_is("pat:b"))
    )
    application.add_handler(
        CallbackQueryHandler(office_booking.days, pattern=route_is("obs", "obw"))
    )
    application.add_handler(CallbackQueryHandler(office_booking.day, pattern=route_is("obd")))
    application.add_handler(CallbackQueryHandler(office_booking.book, pattern=route_is("obt")))
    application.add_handler(CallbackQueryHandler(series.repeat, pattern=route_is("ser:rep")))
    application.add_handler(CallbackQueryHandler(series.repeat_go, pattern=route_is("ser:go")))
    application.add_handler(CallbackQueryHandler(series.add, pattern=route_is("ser:add")))

    # Buttons are routed by bot.callbacks, which reads only the data the bot writes, bounded:
    # anything else (an older version's button, a forged id) is answered here as expired.
    application.add_handler(CallbackQueryHandler(patient.stale_button))

    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, patient.text_message)
    )
    application.add_handler(MessageHandler(private & filters.CONTACT, patient.contact))
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, patient.unsupported)
    )
    # Last of all: a command nobody took (a typo, another bot's) is not met with silence.
    application.add_handler(MessageHandler(private & filters.COMMAND, menus.unknown_command))
    application.add_error_handler(on_error)
    if sweep_every is not None:
        application.job_queue.run_repeating(
            scheduled.sweep, interval=sweep_every, first=1, name="sweep"
        )
    return application


def allowed_updates(application: Application) -> list[str]:
    """The kinds of update the application's handlers read, in the Bot API's order: what to
    ask Telegram for, so that it sends nothing the bot would only drop."""
    kinds: set[str] = set()
    for handler in _leaves(h for group in application.handlers.values() for h in group):
        read = next((k for cls, k in _UPDATES_READ.items() if isinstance(handler, cls)), None)
        if read is None:
            raise TypeError(f"which updates does a {type(handler).__name__} read? say in app.py")
        kinds.update(read)
    return [kind for kind in Update.ALL_TYPES if kind in kinds]


def _leaves(handlers: Iterable[BaseHandler]) -> Iterable[BaseHandler]:
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield from _leaves(handler.entry_points)
            yield from _leaves(h for state in handler.states.values() for h in state)
            yield from _leaves(handler.fallbacks)
        else:
            yield handler


def _with_argument() -> filters.MessageFilter:
    return filters.Regex(r"^/start\s+\S")


@asynccontextmanager
async def running(
    application: Application, webhook: Webhook | None = None
) -> AsyncIterator[Application]:
    """Start polling, or serve ``webhook``; stop and shut down cleanly on the way out,
    whatever happened inside. Stopping leaves the webhook set: other workers may serve it."""
    async with application:
        # run_polling would call post_init itself; this runs the same steps by hand.
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        deliverer = delivery.deliverer(application)
        await deliverer.start()
        server = None
        if webhook is None:
            await application.updater.start_polling(
                poll_interval=0,
                timeout=POLL_TIMEOUT,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
        else:
            # Only a webhook is sent an update again (its 200 lost or late); polling's offset
            # tells Telegram what came, and recording every update would cost a write each.
            d = application.bot_data[DEPS_KEY]
            application.record_updates(d.store.handled_updates, d.clock)
            # Our own server, not python-telegram-bot's: it answers once the update is
            # handled (bot.webhook_server), and 403 to a request without the secret.
            server = WebhookServer(
                application,
                host=webhook.host,
                port=webhook.port,
                path=webhook.path,
                secret=webhook.secret,
            )
            await server.start()
            await application.bot.set_webhook(
                webhook.url,
                secret_token=webhook.secret,
                allowed_updates=allowed_updates(application),
                drop_pending_updates=False,
            )
        try:
            yield application
        finally:
            if server is None:
                await application.updater.stop()
            else:
                await server.stop()
            await deliverer.stop()
            await application.stop()
