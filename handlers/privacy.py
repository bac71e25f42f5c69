"""A patient's rights over their data: ``/mesdonnees`` (``/mydata``) sends everything kept
about them, ``/oublier`` (``/forgetme``) erases it after a confirmation, and the minute's
sweep forgets what is older than ``retention`` says.

Only the asker's own data, ever: the export reads by the sender's Telegram id, and the erase
button carries the id of the one who asked, checked against whoever taps it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks, outbox, privacy
from bot.i18n import pick_language
from handlers.common import Deps, deps, keyboard, person, reply
from handlers.delivery import Rendered, Renderer
from handlers.lookups import listing
from handlers.notices import staff_notice
from handlers.staff import answer_stale
from storage.outbox import Message

log = logging.getLogger(__name__)

# An erase button older than this asks again: the patient confirms what they just read.
CONFIRM_WITHIN = timedelta(hours=1)
FILENAMES = {"fr": "mes-donnees.json", "en": "my-data.json"}


def _places(d: Deps) -> privacy.Places:
    return {
        d.store.business_ids[b.slug]: privacy.Place(b.slug, b.name, d.settings.zone(b))
        for b in d.settings.businesses
        if b.slug in d.store.business_ids
    }


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/mesdonnees``: a short summary, then the whole of it as a JSON file."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    now = d.clock.now()
    data = await d.store.privacy.gather(patient.telegram_id)
    places = _places(d)
    exported = privacy.document(data, places, now=now)
    await update.effective_message.reply_text(_summary_text(d, language, data, places))
    await update.effective_message.reply_document(
        document=privacy.to_json(exported),
        filename=FILENAMES.get(language, FILENAMES["en"]),
        caption=d.i18n.text(language, "privacy.file_caption"),
    )
    log.info(
        "user %s exported their data (%s appointment(s))",
        patient.telegram_id,
        len(data.appointments),
    )


def _summary_text(d: Deps, language: str, data: privacy.PatientData, places: privacy.Places) -> str:
    said = privacy.summary(data, places, now=d.clock.now())
    none = d.i18n.text(language, "privacy.none")
    lines = [
        d.i18n.text(language, "privacy.summary_title"),
        d.i18n.text(
            language,
            "privacy.identity",
            name=said.name or none,
            username=f"@{said.username}" if said.username else none,
            phone=said.phone or none,
            spoken=d.i18n.text(said.language or language, "language.name"),
        ),
        d.i18n.text(
            language, "privacy.businesses", names=listing(d, language, said.businesses) or none
        ),
        d.i18n.text(
            language,
            "privacy.appointments",
            count=said.appointments,
            upcoming=said.upcoming,
        ),
    ]
    if said.next is not None:
        business = d.booking.business_of(said.next)
        local = d.booking.local(business, said.next.starts_at)
        service = business.service(said.next.service)
        lines.append(
            d.i18n.text(
                language,
                "privacy.next",
                day=d.i18n.day(language, local),
                time=d.i18n.time(language, local),
                service=service.name_in(language) if service else said.next.service,
                business=business.name,
            )
        )
    lines.append(d.i18n.text(language, "privacy.messages", count=said.messages))
    retention = d.settings.retention
    lines.append(
        d.i18n.text(
            language,
            "privacy.summary_end",
            appointments=d.i18n.duration(language, retention.appointments),
            messages=d.i18n.duration(language, retention.messages),
        )
    )
    return "\n".join(lines)


async def forget_me(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/oublier``: what erasure does and keeps, and one tap to confirm it."""
    d = deps(context)
    patient = await person(update, context)
    language = patient.language
    if patient.telegram_id in d.settings.staff_ids():
        # Staff are in config, not in the patients' data: the office's to change.
        await update.effective_message.reply_text(d.i18n.text(language, "privacy.staff"))
        return
    buttons = keyboard(
        [
            (
                d.i18n.text(language, "privacy.erase_yes"),
                callbacks.encode("priv:erase", patient.telegram_id, d.clock.now()),
            ),
            (
                d.i18n.text(language, "privacy.erase_no"),
                callbacks.encode("priv:keep", patient.telegram_id),
            ),
        ]
    )
    await update.effective_message.reply_text(
        d.i18n.text(language, "privacy.erase_sure"), reply_markup=buttons
    )


async def _known(d: Deps, update: Update) -> tuple[bool, str]:
    """Whether the tapper is known, and their language, without recording them: erasure must
    not bring them back."""
    user = update.effective_user
    known = await d.store.people.get(user.id)
    if known is None:
        return False, pick_language(user.language_code, d.settings.language)
    return True, known.language


async def erase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``priv:erase:<id>:<asked>``: everything about the tapper goes, if they are ``<id>``."""
    d = deps(context)
    user = update.effective_user
    known, language = await _known(d, update)
    owner, asked = callbacks.read(update.callback_query.data, "priv:erase")
    if owner != user.id:
        log.warning("user %s tapped the erase button of user %s: nothing erased", user.id, owner)
        await answer_stale(update, d, language)
        return
    if not known:
        # A second tap on the same button: the first one erased everything already.
        await reply(update, d.i18n.text(language, "privacy.erased_already"))
        return
    now = d.clock.now()
    if not timedelta(0) <= now - asked <= CONFIRM_WITHIN:
        await reply(update, d.i18n.text(language, "privacy.erase_expired"))
        return
    erased = await d.store.privacy.erase(
        user.id,
        now=now,
        tell=lambda freed: outbox.to_secretaries(d.settings, outbox.PATIENT_ERASED, freed),
    )
    # What this process still holds for them in memory would be written back otherwise.
    context.application.drop_user_data(user.id)
    log.info(
        "user %s erased: %s appointment(s) cancelled, %s kept anonymised, %s message(s) deleted",
        user.id,
        len(erased.cancelled),
        erased.anonymised,
        erased.messages,
    )
    await reply(
        update,
        d.i18n.text(
            language,
            "privacy.erased",
            cancelled=len(erased.cancelled),
            kept=erased.anonymised - len(erased.cancelled),
        ),
    )


async def keep(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``priv:keep:<id>``: nothing is erased."""
    d = deps(context)
    user = update.effective_user
    _, language = await _known(d, update)
    (owner,) = callbacks.read(update.callback_query.data, "priv:keep")
    if owner != user.id:
        log.warning("user %s tapped the keep button of user %s", user.id, owner)
        await answer_stale(update, d, language)
        return
    await reply(update, d.i18n.text(language, "privacy.kept"))


async def apply_retention(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The minute's sweep: appointments and messages older than ``retention`` are forgotten."""
    d = deps(context)
    now = d.clock.now()
    retention = d.settings.retention
    purged = await d.store.privacy.purge(
        appointments_before=now - retention.appointments,
        messages_before=now - retention.messages,
    )
    if purged.appointments or purged.messages or purged.threads:
        log.info(
            "retention: %s appointment(s), %s message(s), %s thread(s) forgotten",
            purged.appointments,
            purged.messages,
            purged.threads,
        )


async def _patient_erased(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Rendered | None:
    """A future appointment freed by an erasure: which time, without who."""
    return await staff_notice(context, message, "privacy.to_office")


RENDERERS: dict[str, Renderer] = {outbox.PATIENT_ERASED: _patient_erased}
