"""/appel: the secretary passes a call message on to the business's employers.

``/appel [business] [M. Leroy 06 11 22 33 44 rappeler pour ses résultats]``: the bot asks for
what is missing, shows the message back, and "Transmettre" (or "en urgent") stores the call
and owes it at once to every employer of the business. The draft waits between messages as
handlers.desk says.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import outbox
from bot.callers import read_caller
from bot.config import Business
from handlers import desk, steps
from handlers.common import Deps, deps, keyboard, reply, staff_language
from handlers.delivery import Rendered, Renderer
from handlers.desk import Draft
from handlers.staff import audit, secretary_name
from storage.calls import Call, NewCall
from storage.outbox import Message

log = logging.getLogger(__name__)


async def call(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/appel [business] [M. Leroy 06 11 22 33 44 rappeler pour ses résultats]``."""
    await desk.begin(update, context, desk.CALL_STEP, _next)


async def _typed(update, context, d: Deps, language: str, step: dict, text: str) -> None:
    await desk.go_on(update, context, d, language, step, text, _next)


def _merge_call(d: Deps, draft: Draft, business: Business) -> None:
    if not draft.text:
        return
    now = d.booking.local(business, d.clock.now())
    # Once the name is known, a capitalised "Rappeler demain" is the message, not a name.
    read = read_caller(draft.text, now, with_name=draft.name is None)
    draft.text = None
    draft.name = read.name or draft.name
    draft.phone = read.phone or draft.phone
    draft.message = read.rest or draft.message


async def _next(update: Update, d: Deps, language: str, draft: Draft) -> None:
    business = d.settings.business(draft.business) if draft.business else None
    if business is None:
        await reply(
            update,
            d.i18n.text(language, "desk.which_business"),
            desk.business_buttons(d, language, "call", draft),
        )
        return
    _merge_call(d, draft, business)
    caller = desk.understood(d, language, draft)
    missing = desk.missing_key(draft) or (None if draft.message else "call.need_message")
    if missing is not None:
        await reply(update, d.i18n.text(language, missing, business=business.name, caller=caller))
        return
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


# -- buttons: call:{flow}:<action>:... --------------------------------------------------------


async def _business(update, context, d: Deps, language: str, args: list) -> None:
    flow, slug = args
    draft = desk.of_button(context, desk.CALL_STEP, flow)
    if d.settings.business(slug) is None:
        raise steps.Stale(slug)
    draft.business = slug
    await _next(update, d, language, draft)


async def _business_page(update, context, d: Deps, language: str, args: list) -> None:
    """Another page of the businesses, in place."""
    flow, page = args
    draft = desk.of_button(context, desk.CALL_STEP, flow)
    markup = desk.business_buttons(d, language, "call", draft, page)
    await reply(update, d.i18n.text(language, "desk.which_business"), markup)


async def _send(update, context, d: Deps, language: str, args: list) -> None:
    """Store the call and owe it at once to the business's employers."""
    flow, urgent = args
    draft = desk.of_button(context, desk.CALL_STEP, flow)
    business = d.settings.business(draft.business) if draft.business else None
    if business is None or not (draft.name and draft.phone and draft.message):
        raise steps.Stale(f"call draft {flow} is not ready")
    user = update.effective_user
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
    desk.done(context)
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


BUTTONS: dict[str, tuple[int, steps.StepHandler]] = {
    "b": (2, _business),
    "bp": (2, _business_page),
    "send": (2, _send),
}

TEXT_STEPS: dict[str, steps.StepHandler] = {desk.CALL_STEP: _typed}


# -- what the employers receive ----------------------------------------------------------------


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
