"""The secretary's phone desk: /rdv books an appointment for a caller (handlers.phone_booking),
/appel passes a call message on to the business's employers (handlers.calls).

Both read free text over several messages. What the caller said so far is a draft that waits
as the secretary's typed step (handlers.steps), like any other flow of hers: the text she
types next goes to it, its buttons act on it, and a command, ``/annuler`` or half an hour of
silence forgets it. It is part of her user data, read and written for each update (see
bot.persistence), so whichever worker gets her next message goes on with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.agenda import Wanted
from bot.series import Recurrence
from handlers import lookups, steps
from handlers.common import Deps, deps, keyboard, staff_language, telegram_length
from handlers.staff import find_business, require_secretary

RDV_STEP = "desk.rdv"
CALL_STEP = "desk.call"
# What one typed message of a /rdv or /appel may hold (see too_long).
DESK_TEXT_LIMIT = 1000

_FLOW_KEY = "desk_flow"


@dataclass
class Draft:
    """What the secretary told so far; ``flow`` ties buttons to this draft, not an old one."""

    flow: int
    business: str | None = None
    text: str | None = None  # typed, not read yet (before the business was known)
    name: str | None = None
    phone: str | None = None
    service: str | None = None
    wanted: Wanted = field(default_factory=Wanted)
    message: str | None = None
    series: Recurrence | None = None  # "tous les mardis x10": the tapped time is the first


def start(context: ContextTypes.DEFAULT_TYPE, step: str) -> Draft:
    """A new draft for ``step`` from the command's words: ``[business] [what the caller said]``."""
    d = deps(context)
    flow = (context.user_data.get(_FLOW_KEY, 0) + 1) % 100_000
    context.user_data[_FLOW_KEY] = flow
    draft = Draft(flow)
    words = list(context.args or [])
    business = find_business(d, words[0]) if words else None
    if business is not None:
        words = words[1:]
    elif len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    draft.business = business.slug if business is not None else None
    draft.text = " ".join(words) or None
    wait(context, step, draft)
    return draft


def wait(context: ContextTypes.DEFAULT_TYPE, step: str, draft: Draft) -> None:
    """The draft waits for the secretary's next words (its half hour starts again)."""
    steps.await_text(context, step, draft=draft)


def of_button(context: ContextTypes.DEFAULT_TYPE, step: str, flow: int) -> Draft:
    """The draft a button of ``step`` acts on, waiting again; steps.Stale when that draft is
    over or was replaced by a newer one."""
    waiting = steps.awaited(context)
    draft = waiting.get("draft") if waiting is not None and waiting["step"] == step else None
    if not isinstance(draft, Draft) or draft.flow != flow:
        raise steps.Stale(f"{step} draft {flow}")
    wait(context, step, draft)
    return draft


def of_text(context: ContextTypes.DEFAULT_TYPE, step: dict) -> Draft:
    """The draft a typed text goes to, waiting again."""
    draft = step["draft"]
    wait(context, step["step"], draft)
    return draft


def done(context: ContextTypes.DEFAULT_TYPE) -> None:
    steps.end_step(context)


def business_buttons(
    d: Deps, language: str, prefix: str, draft: Draft, page: int = 0
) -> InlineKeyboardMarkup:
    """``<prefix>:<flow>:b:<slug>`` a business, a page at a time (``<prefix>:<flow>:bp:<n>``)."""
    return keyboard(
        *lookups.business_picker(
            d,
            language,
            lambda b: f"{prefix}:{draft.flow}:b:{b.slug}",
            lambda number: f"{prefix}:{draft.flow}:bp:{number}",
            page,
        )
    )


def understood(d: Deps, language: str, draft: Draft) -> str:
    """The caller as understood so far: ``Mme Durand · +33 6 12 34 56 78``."""
    unknown = d.i18n.text(language, "desk.unknown")
    return " · ".join([draft.name or unknown, draft.phone or unknown])


def missing_key(draft: Draft) -> str | None:
    if draft.name is None and draft.phone is None:
        return "desk.need_name_phone"
    if draft.name is None:
        return "desk.need_name"
    if draft.phone is None:
        return "desk.need_phone"
    return None


async def too_long(update: Update, d: Deps, language: str) -> bool:
    """A typed message too long to be a caller's name, number and message: said so, unread.

    The bot says back what it understood and passes the message on to the employers, each
    time around the secretary's words: they must leave room in Telegram's 4096.
    """
    if telegram_length(update.effective_message.text) <= DESK_TEXT_LIMIT:
        return False
    await update.effective_message.reply_text(
        d.i18n.text(language, "desk.too_long", limit=DESK_TEXT_LIMIT)
    )
    return True


# What a flow does with its draft once more of it is known: ask for the rest, or act.
NextStep = Callable[[Update, Deps, str, "Draft"], Awaitable[None]]


async def begin(
    update: Update, context: ContextTypes.DEFAULT_TYPE, step: str, next_step: NextStep
) -> None:
    """``/rdv`` or ``/appel``, with whatever the secretary typed after it: a new draft."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    if await too_long(update, d, language):
        return
    await next_step(update, d, language, start(context, step))


async def go_on(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    d: Deps,
    language: str,
    step: dict,
    text: str,
    next_step: NextStep,
) -> None:
    """The secretary's next message, read into the draft waiting for it."""
    draft = of_text(context, step)
    if await too_long(update, d, language):
        return
    draft.text = text
    await next_step(update, d, language, draft)
