"""What the secretary-side modules (inbox, agenda, blocks, desk) share: who may act, the
audit trail, and the day codes that buttons carry (bot.callbacks reads them back).

Each command and button checks the sender against config at every call: a button's
callback data can be replayed by anyone who has seen it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from telegram import Update, User
from telegram.ext import ContextTypes

from bot.config import Business
from bot.i18n import pick_language
from handlers.common import Deps, deps, is_secretary, staff_language
from handlers.lookups import listing
from storage.appointments import Appointment
from storage.people import Person

log = logging.getLogger(__name__)

PROPOSALS_SHOWN = 6


# -- access ------------------------------------------------------------------------------------


def _reader_language(context: ContextTypes.DEFAULT_TYPE, user: User) -> str:
    d = deps(context)
    if d.settings.is_secretary(user.id) or d.settings.businesses_of_employer(user.id):
        return staff_language(context, user.id)
    return pick_language(user.language_code, d.settings.language)


def _command_word(update: Update) -> str:
    words = (update.effective_message.text or "").split(maxsplit=1)
    return words[0] if words else ""


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A polite no to someone who may not do this; nothing changes, the attempt is logged."""
    d = deps(context)
    user = update.effective_user
    query = update.callback_query
    # The command word only: what follows it may be a patient's name or number.
    asked = query.data if query is not None else _command_word(update)
    log.warning("refused %r from user %s: not a secretary", asked, user.id)
    text = d.i18n.text(_reader_language(context, user), "error.not_allowed")
    if query is not None:
        await query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(text)


async def require_secretary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The role, from config, at every call: buttons can be replayed by anyone who saw them."""
    if is_secretary(context, update.effective_user):
        return True
    await refuse(update, context)
    return False


async def answer_stale(update: Update, d: Deps, language: str) -> None:
    log.warning(
        "user %s sent unusable callback data %r",
        update.effective_user.id,
        update.callback_query.data,
    )
    await update.callback_query.answer(d.i18n.text(language, "error.stale_button"), show_alert=True)


def secretary_name(d: Deps, user_id: int) -> str:
    return next(s.name for s in d.settings.secretaries if s.telegram_id == user_id)


def contact_of(appointment: Appointment | None, patient: Person | None) -> str:
    """``Alice Martin · @alice_m · +33 6...``, or the phone caller's name and number."""
    if patient is not None:
        parts = (
            patient.full_name,
            f"@{patient.username}" if patient.username else None,
            patient.phone,
        )
    else:
        parts = (appointment.caller_name, appointment.caller_phone)
    return " · ".join(part for part in parts if part)


async def patient_of(d: Deps, appointment: Appointment) -> Person | None:
    return await d.store.people.get(appointment.patient_id) if appointment.patient_id else None


async def audit(
    d: Deps,
    actor: int,
    action: str,
    target: str,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
) -> None:
    await d.store.audit.record(actor, action, target, before, after, d.clock.now())


def snapshot(appointment: Appointment) -> dict[str, object]:
    return {
        "status": appointment.status,
        "starts_at": appointment.starts_at,
        "practitioner": appointment.practitioner,
        "service": appointment.service,
    }


def in_rows(buttons: list[tuple[str, str]], per_row: int) -> list[list[tuple[str, str]]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def find_business(d: Deps, word: str) -> Business | None:
    """A business named by its slug, or by the start of it when only one slug starts so."""
    word = word.lower()
    exact = d.settings.business(word)
    if exact is not None:
        return exact
    starting = [b for b in d.settings.businesses if len(word) >= 3 and b.slug.startswith(word)]
    return starting[0] if len(starting) == 1 else None


def business_slugs(d: Deps, language: str, businesses: Sequence[Business] | None = None) -> str:
    """The slugs to type, of every business unless ``businesses`` are named: the first few
    when there are many, so that a usage text stays one message."""
    shown = d.settings.businesses if businesses is None else businesses
    return listing(d, language, [b.slug for b in shown])


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")
