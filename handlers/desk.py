"""The secretary's phone desk: /rdv books an appointment for a caller, /appel passes a
call message on to the business's employers.

Both read free text over several messages, so each secretary has one conversation, its
draft kept in user data (and through a restart, by the application's persistence).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, outbox
from bot.agenda import Slot, Wanted
from bot.callers import read_booking, read_caller
from bot.config import Business, Service
from bot.series import Recurrence, read_series_booking
from bot.series_booking import Who
from handlers import lookups, offers, series
from handlers.common import (
    Deps,
    appointment_values,
    deps,
    keyboard,
    reply,
    staff_language,
    telegram_length,
)
from handlers.delivery import Rendered, Renderer
from handlers.staff import (
    PROPOSALS_SHOWN,
    answer_stale,
    audit,
    day_code,
    find_business,
    require_secretary,
    secretary_name,
    snapshot,
)
from storage.appointments import SlotTaken
from storage.calls import Call, NewCall
from storage.outbox import Message

log = logging.getLogger(__name__)

DAYS_SHOWN = 6
# A /rdv or /appel left half-typed is forgotten after this.
DESK_TIMEOUT = timedelta(minutes=30)
# What one typed message of a /rdv or /appel may hold (see _too_long).
DESK_TEXT_LIMIT = 1000
# Conversation states of /rdv and /appel.
RDV, CALL = range(2)


# -- phone bookings (/rdv) and call messages (/appel): a conversation per secretary -------------


@dataclass
class _Draft:
    """What the secretary told so far; ``flow`` ties buttons to this draft, not an old one."""

    kind: int  # RDV or CALL
    flow: int
    business: str | None = None
    text: str | None = None  # typed before the business was known
    name: str | None = None
    phone: str | None = None
    service: str | None = None
    wanted: Wanted = field(default_factory=Wanted)
    message: str | None = None
    series: Recurrence | None = None  # "tous les mardis x10": the tapped time is the first


_DRAFT_KEY = "desk_draft"
_FLOW_KEY = "desk_flow"


def _new_draft(context: ContextTypes.DEFAULT_TYPE, kind: int) -> _Draft:
    flow = (context.user_data.get(_FLOW_KEY, 0) + 1) % 100_000
    context.user_data[_FLOW_KEY] = flow
    draft = _Draft(kind, flow)
    context.user_data[_DRAFT_KEY] = draft
    return draft


def _draft(context: ContextTypes.DEFAULT_TYPE, kind: int) -> _Draft | None:
    draft = context.user_data.get(_DRAFT_KEY)
    return draft if isinstance(draft, _Draft) and draft.kind == kind else None


def _start_draft(context: ContextTypes.DEFAULT_TYPE, kind: int) -> _Draft:
    d = deps(context)
    draft = _new_draft(context, kind)
    words = list(context.args or [])
    business = find_business(d, words[0]) if words else None
    if business is not None:
        words = words[1:]
    elif len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    draft.business = business.slug if business is not None else None
    draft.text = " ".join(words) or None
    return draft


def _business_buttons(
    d: Deps, language: str, prefix: str, draft: _Draft, page: int = 0
) -> InlineKeyboardMarkup:
    return keyboard(
        *lookups.business_picker(
            d,
            language,
            lambda b: f"{prefix}:{draft.flow}:b:{b.slug}",
            lambda number: f"{prefix}:{draft.flow}:bp:{number}",
            page,
        )
    )


async def _business_page(
    update: Update, d: Deps, language: str, prefix: str, draft: _Draft, page: int
) -> None:
    """``rdv:<flow>:bp:<page>`` (``call:``): another page of the businesses, in place."""
    markup = _business_buttons(d, language, prefix, draft, page)
    await reply(update, d.i18n.text(language, "desk.which_business"), markup)


def _understood(d: Deps, language: str, draft: _Draft) -> str:
    """The caller as understood so far: ``Mme Durand · +33 6 12 34 56 78``."""
    unknown = d.i18n.text(language, "desk.unknown")
    return " · ".join([draft.name or unknown, draft.phone or unknown])


def _missing_key(draft: _Draft) -> str | None:
    if draft.name is None and draft.phone is None:
        return "desk.need_name_phone"
    if draft.name is None:
        return "desk.need_name"
    if draft.phone is None:
        return "desk.need_phone"
    return None


async def _too_long(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A typed message too long to be a caller's name, number and message: said so, unread.

    The bot says back what it understood and passes the message on to the employers, each
    time around the secretary's words: they must leave room in Telegram's 4096.
    """
    if telegram_length(update.effective_message.text) <= DESK_TEXT_LIMIT:
        return False
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    await update.effective_message.reply_text(
        d.i18n.text(language, "desk.too_long", limit=DESK_TEXT_LIMIT)
    )
    return True


async def _button_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: int
) -> tuple[_Draft, list[object]] | None:
    """The draft a desk button belongs to, and the button's action and typed arguments
    (read by bot.callbacks); None if stale."""
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    prefix = "rdv:" if kind == RDV else "call:"
    button = callbacks.parse(update.callback_query.data)
    draft = _draft(context, kind)
    if (
        button is None
        or not button.route.startswith(prefix)
        or draft is None
        or button.args[0] != draft.flow
    ):
        await answer_stale(update, d, language)
        return None
    return draft, [button.route.removeprefix(prefix), *button.args[1:]]


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """``/annuler`` (``/cancel``) inside /rdv or /appel: forget the draft."""
    d = deps(context)
    context.user_data.pop(_DRAFT_KEY, None)
    language = staff_language(context, update.effective_user.id)
    await update.effective_message.reply_text(d.i18n.text(language, "desk.cancelled"))
    return ConversationHandler.END


async def desk_stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /rdv or /appel button once its conversation is over (or from someone else)."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    await answer_stale(update, d, staff_language(context, update.effective_user.id))


# /rdv


async def rdv_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """``/rdv [business] [Mme Durand 06 12 34 56 78 détartrage mardi 10h]``."""
    if not await require_secretary(update, context):
        return ConversationHandler.END
    if await _too_long(update, context):
        return ConversationHandler.END
    return await _rdv_next(update, context, _start_draft(context, RDV))


async def rdv_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await require_secretary(update, context):
        return ConversationHandler.END
    draft = _draft(context, RDV)
    if draft is None:
        return ConversationHandler.END
    if await _too_long(update, context):
        return RDV
    draft.text = update.effective_message.text
    return await _rdv_next(update, context, draft)


def _merge_booking(d: Deps, draft: _Draft, business: Business) -> None:
    if not draft.text:
        return
    now = d.booking.local(business, d.clock.now())
    read, recurrence = read_series_booking(
        draft.text, now, business.services, business.practitioners, with_name=draft.name is None
    )
    draft.series = recurrence or draft.series
    draft.text = None
    draft.name = read.name or draft.name
    draft.phone = read.phone or draft.phone
    draft.service = read.service or draft.service
    if read.wanted != Wanted():
        draft.wanted = read.wanted


def _only_business_offering(d: Deps, text: str) -> Business | None:
    """The business a booking must be for when it names a service only one of them offers
    ("massage samedi 10h" is the institute's)."""
    offering = []
    for business in d.settings.businesses:
        now = d.booking.local(business, d.clock.now())
        if read_booking(text, now, business.services).service is not None:
            offering.append(business)
    return offering[0] if len(offering) == 1 else None


async def _rdv_next(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: _Draft) -> int:
    """Ask for what is missing, else show the free slots."""
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None and draft.text:
        business = _only_business_offering(d, draft.text)
        draft.business = business.slug if business is not None else None
    if business is None:
        await reply(
            update,
            d.i18n.text(language, "desk.which_business"),
            _business_buttons(d, language, "rdv", draft),
        )
        return RDV
    _merge_booking(d, draft, business)
    missing = _missing_key(draft)
    if missing is not None:
        await reply(
            update,
            d.i18n.text(
                language,
                missing,
                business=business.name,
                caller=_understood(d, language, draft),
            ),
        )
        return RDV
    service = business.service(draft.service) if draft.service else None
    if service is None and len(business.services) == 1:
        service = business.services[0]
    if service is None:
        rows = [[(s.name, f"rdv:{draft.flow}:v:{s.key}")] for s in business.services]
        await reply(
            update,
            d.i18n.text(language, "rdv.which_service", caller=_understood(d, language, draft)),
            keyboard(*rows),
        )
        return RDV
    draft.service = service.key
    await _rdv_offer(update, d, language, draft, business, service, intro_key=None)
    return RDV


async def _rdv_offer(
    update: Update,
    d: Deps,
    language: str,
    draft: _Draft,
    business: Business,
    service: Service,
    *,
    intro_key: str | None,
) -> None:
    wanted = draft.wanted
    offer = await d.booking.offer(business, service, wanted, limit=PROPOSALS_SHOWN)
    caller = _understood(d, language, draft)
    other_day = (d.i18n.text(language, "rdv.other_day"), f"rdv:{draft.flow}:o")
    if offer.beyond_horizon:
        await reply(
            update, _beyond_text(d, language, business, caller, service), keyboard([other_day])
        )
        return
    if not offer.slots:
        await reply(
            update,
            d.i18n.text(language, "rdv.no_room", caller=caller, service=service.name),
        )
        return
    if intro_key is None and offer.exact:
        intro_key = "rdv.free"
    elif intro_key is None and wanted.exact and wanted.day_from is not None:
        intro_key = "rdv.nearest"
    elif intro_key is None:
        intro_key = "rdv.slots"
    asked = (
        datetime.combine(
            wanted.day_from, wanted.time_from, tzinfo=d.booking.rules[business.slug].zone
        )
        if wanted.exact and wanted.day_from is not None and intro_key != "rdv.taken"
        else offer.slots[0].start
    )
    # "rdv.taken" names no day: each time then says its own.
    named = None if intro_key == "rdv.taken" else asked.date()

    def data_of(slot: Slot) -> str:
        index = business.practitioners.index(slot.practitioner)
        return f"rdv:{draft.flow}:s:{int(slot.start.timestamp())}:{index}"

    rows = offers.slot_rows(d, language, offer.slots, named, data_of)
    rows.append([other_day])
    text = d.i18n.text(
        language,
        intro_key,
        caller=caller,
        business=business.name,
        service=service.name,
        day=d.i18n.day(language, asked),
        time=d.i18n.time(language, asked),
    )
    if offer.unavailable is not None and intro_key != "rdv.taken":
        reason = offers.reason_text(d, language, business, offer.unavailable)
        line = d.i18n.text(language, "offers.desk_reason", reason=reason)
        text = f"{text}\n{line}"
    if draft.series is not None:
        text += "\n" + series.draft_line(d, language, draft.series.every, draft.series.count)
    await reply(update, text, keyboard(*rows))


def _beyond_text(d: Deps, language: str, business: Business, caller: str, service: Service) -> str:
    last = d.booking.last_day(business)
    return d.i18n.text(
        language,
        "offers.desk_beyond",
        caller=caller,
        service=service.name,
        last=d.i18n.day(language, last),
        days=(last - d.booking.today(business)).days,
    )


async def rdv_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await require_secretary(update, context):
        return ConversationHandler.END
    found = await _button_flow(update, context, RDV)
    if found is None:
        return RDV
    draft, (action, *arguments) = found
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    if action == "b" and arguments and d.settings.business(arguments[0]):
        draft.business = arguments[0]
        return await _rdv_next(update, context, draft)
    if action == "bp":
        await _business_page(update, d, language, "rdv", draft, arguments[0])
        return RDV
    business = d.settings.business(draft.business) if draft.business else None
    if business is None:
        await answer_stale(update, d, language)
        return RDV
    if action == "v" and arguments and business.service(arguments[0]):
        draft.service = arguments[0]
        return await _rdv_next(update, context, draft)
    service = business.service(draft.service) if draft.service else None
    if service is None:
        await answer_stale(update, d, language)
        return RDV
    if action == "o":
        days = await d.booking.days_with_room(business, service, DAYS_SHOWN)
        rows = [
            [(d.i18n.short_day(language, day), f"rdv:{draft.flow}:d:{day_code(day)}")]
            for day in days
        ]
        await reply(
            update,
            d.i18n.text(language, "rdv.which_day", service=service.name),
            keyboard(*rows) if rows else None,
        )
        return RDV
    if action == "d" and arguments:
        day = arguments[0]
        draft.wanted = Wanted(day, day)
        return await _rdv_next(update, context, draft)
    if action == "s" and len(arguments) == 2:
        return await _rdv_book(update, context, draft, business, service, arguments)
    await answer_stale(update, d, language)
    return RDV


async def _rdv_book(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: _Draft,
    business: Business,
    service: Service,
    arguments: list[str],
) -> int:
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    start, index = arguments
    if index >= len(business.practitioners):
        await answer_stale(update, d, language)
        return RDV
    if draft.series is not None:
        who = Who(caller_name=draft.name, caller_phone=draft.phone)
        context.user_data.pop(_DRAFT_KEY, None)
        practitioner = business.practitioners[index]
        await series.book_typed(
            update, d, language, business, service, start, practitioner, draft.series, who
        )
        return ConversationHandler.END
    try:
        appointment = await d.booking.book_by_office(
            business,
            service,
            start,
            business.practitioners[index],
            caller_name=draft.name,
            caller_phone=draft.phone,
            actor=user.id,
        )
    except (SlotTaken, ValueError) as error:
        log.info("secretary %s could not book %s: %s", user.id, start, error)
        local = d.booking.local(business, start)
        draft.wanted = Wanted(local.date(), local.date(), local.time(), local.time())
        await _rdv_offer(update, d, language, draft, business, service, intro_key="rdv.taken")
        return RDV
    context.user_data.pop(_DRAFT_KEY, None)
    await audit(
        d,
        user.id,
        "appointment.book_phone",
        f"appointment:{appointment.id}",
        None,
        {
            **snapshot(appointment),
            "source": appointment.source,
            "caller_name": appointment.caller_name,
            "caller_phone": appointment.caller_phone,
        },
    )
    log.info("secretary %s booked appointment %s for a caller", user.id, appointment.id)
    await reply(
        update,
        d.i18n.text(
            language,
            "rdv.booked",
            caller=_understood(d, language, draft),
            **appointment_values(d, language, appointment, business),
        ),
        keyboard(series.repeat_row(d, language, appointment)),
    )
    return ConversationHandler.END


# /appel


async def call_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """``/appel [business] [M. Leroy 06 11 22 33 44 rappeler pour ses résultats]``."""
    if not await require_secretary(update, context):
        return ConversationHandler.END
    if await _too_long(update, context):
        return ConversationHandler.END
    return await _call_next(update, context, _start_draft(context, CALL))


async def call_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await require_secretary(update, context):
        return ConversationHandler.END
    draft = _draft(context, CALL)
    if draft is None:
        return ConversationHandler.END
    if await _too_long(update, context):
        return CALL
    draft.text = update.effective_message.text
    return await _call_next(update, context, draft)


def _merge_call(d: Deps, draft: _Draft, business: Business) -> None:
    if not draft.text:
        return
    now = d.booking.local(business, d.clock.now())
    # Once the name is known, a capitalised "Rappeler demain" is the message, not a name.
    read = read_caller(draft.text, now, with_name=draft.name is None)
    draft.text = None
    draft.name = read.name or draft.name
    draft.phone = read.phone or draft.phone
    draft.message = read.rest or draft.message


async def _call_next(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: _Draft) -> int:
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None:
        await reply(
            update,
            d.i18n.text(language, "desk.which_business"),
            _business_buttons(d, language, "call", draft),
        )
        return CALL
    _merge_call(d, draft, business)
    caller = _understood(d, language, draft)
    missing = _missing_key(draft) or (None if draft.message else "call.need_message")
    if missing is not None:
        await reply(update, d.i18n.text(language, missing, business=business.name, caller=caller))
        return CALL
    buttons = keyboard(
        [(d.i18n.text(language, "call.send"), f"call:{draft.flow}:send:0")],
        [(d.i18n.text(language, "call.send_urgent"), f"call:{draft.flow}:send:1")],
    )
    await reply(
        update,
        d.i18n.text(
            language,
            "call.review",
            business=business.name,
            caller=caller,
            message=draft.message,
        ),
        buttons,
    )
    return CALL


async def call_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await require_secretary(update, context):
        return ConversationHandler.END
    found = await _button_flow(update, context, CALL)
    if found is None:
        return CALL
    draft, (action, *arguments) = found
    d = deps(context)
    if action == "b" and arguments and d.settings.business(arguments[0]):
        draft.business = arguments[0]
        return await _call_next(update, context, draft)
    if action == "bp":
        language = staff_language(context, update.effective_user.id)
        await _business_page(update, d, language, "call", draft, arguments[0])
        return CALL
    business = d.settings.business(draft.business) if draft.business else None
    ready = business is not None and draft.name and draft.phone and draft.message
    if action == "send" and ready:
        return await _call_send(update, context, draft, business, urgent=arguments[0])
    await answer_stale(update, d, staff_language(context, update.effective_user.id))
    return CALL


async def _call_send(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: _Draft,
    business: Business,
    *,
    urgent: bool,
) -> int:
    """Store the call and forward it at once to the business's employers."""
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    call = await d.store.calls.add(
        NewCall(
            business_id=d.booking.business_id(business),
            caller_name=draft.name,
            caller_phone=draft.phone,
            message=draft.message,
            urgent=urgent,
        ),
        actor=user.id,
        now=d.clock.now(),
        tell=lambda call: outbox.to_employers(
            business, outbox.CALL, call_id=call.id, taken_by=call.taken_by
        ),
    )
    context.user_data.pop(_DRAFT_KEY, None)
    await audit(
        d,
        user.id,
        "call.take",
        f"call:{call.id}",
        None,
        {
            "business_id": call.business_id,
            "caller_name": call.caller_name,
            "caller_phone": call.caller_phone,
            "message": call.message,
            "urgent": call.urgent,
        },
    )
    owed = len(business.employers)
    log.info("call %s for %s passed on to %s employer(s)", call.id, business.slug, owed)
    key = "call.sent" if owed else "call.not_delivered"
    await reply(
        update,
        d.i18n.text(
            language,
            key,
            business=business.name,
            caller=f"{call.caller_name} · {call.caller_phone}",
            count=owed,
        ),
    )
    return ConversationHandler.END


async def _call_of(
    context: ContextTypes.DEFAULT_TYPE, message: Message
) -> tuple[Deps, str, Call, Business] | None:
    d = deps(context)
    call = await d.store.calls.get(message.payload["call_id"])
    if call is None:
        return None
    business = d.settings.business(d.store.business_slug(call.business_id))
    if business is None:
        return None  # dropped from config since
    return d, staff_language(context, message.chat_id), call, business


async def _call_forward(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A call message for an employer, urgent ones marked."""
    found = await _call_of(context, message)
    if found is None:
        return None
    d, language, call, business = found
    taken = d.booking.local(business, call.taken_at)
    text = d.i18n.text(
        language,
        "call.forward_urgent" if call.urgent else "call.forward",
        business=business.name,
        caller=f"{call.caller_name} · {call.caller_phone}",
        message=call.message,
        secretary=secretary_name(d, call.taken_by),
        time=d.i18n.time(language, taken),
    )
    return Rendered(text)


async def _call_undelivered(
    context: ContextTypes.DEFAULT_TYPE, message: Message
) -> Rendered | None:
    """An employer could not receive a call message: the secretary who took it calls."""
    found = await _call_of(context, message)
    if found is None:
        return None
    d, language, call, business = found
    caller = f"{call.caller_name} · {call.caller_phone}"
    text = d.i18n.text(language, "call.not_delivered", business=business.name, caller=caller)
    return Rendered(text)


RENDERERS: dict[str, Renderer] = {
    outbox.CALL: _call_forward,
    outbox.CALL_UNDELIVERED: _call_undelivered,
}


async def _end_quietly(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command while a draft waits: the secretary moved on; the command goes on."""
    context.user_data.pop(_DRAFT_KEY, None)
    return ConversationHandler.END


def _consuming(
    callback: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]],
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]:
    """The conversation runs in an early group: what it handled stops there, with its new
    state, instead of reaching the patients' text handler too."""

    @functools.wraps(callback)
    async def consumed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise ApplicationHandlerStop(await callback(update, context))

    return consumed


def desk(secretaries: filters.BaseFilter) -> ConversationHandler:
    """/rdv and /appel, the secretary flows that read free text.

    To register in a group of its own ahead of every text handler: the text, buttons and
    commands it handles stop there; other commands go on to the later groups (any other
    command ends a half-typed draft and still runs). The ``secretaries`` filter keeps
    everyone else out (each handler checks the role too).
    """
    text = filters.TEXT & ~filters.COMMAND & secretaries
    with warnings.catch_warnings():
        # The conversation is per chat on purpose: a secretary runs one draft at a time,
        # whichever message its buttons are on; the draft's number rejects older buttons.
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=UserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler(["rdv", "appointment"], _consuming(rdv_start), filters=secretaries),
                CommandHandler(["appel", "call"], _consuming(call_start), filters=secretaries),
            ],
            states={
                RDV: [
                    MessageHandler(text, _consuming(rdv_text)),
                    CallbackQueryHandler(_consuming(rdv_button), pattern=callbacks.route_is("rdv")),
                ],
                CALL: [
                    MessageHandler(text, _consuming(call_text)),
                    CallbackQueryHandler(
                        _consuming(call_button), pattern=callbacks.route_is("call")
                    ),
                ],
            },
            fallbacks=[
                CommandHandler(["annuler", "cancel"], _consuming(cancel), filters=secretaries),
                MessageHandler(filters.COMMAND & secretaries, _end_quietly),
            ],
            allow_reentry=True,
            conversation_timeout=DESK_TIMEOUT,
            name="desk",
            persistent=True,
        )
