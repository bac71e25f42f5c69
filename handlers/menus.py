"""The command menus Telegram shows each audience, in their language."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.i18n import LANGUAGES
from handlers.common import DEPS_KEY, Deps, deps, person, staff_language

log = logging.getLogger(__name__)

PATIENT = {"fr": ("start", "langue"), "en": ("start", "language")}
SECRETARY = {
    "fr": (
        "demandes",
        "agenda",
        "rdv",
        "appel",
        "bloquer",
        "debloquer",
        "presences",
        "ics",
        "mission",
        "missions",
        "releve",
        "gains",
        "publipostage",
    ),
    "en": (
        "requests",
        "agenda",
        "appointment",
        "call",
        "block",
        "unblock",
        "attendance",
        "ics",
        "mission",
        "missions",
        "releve",
        "gains",
        "publipostage",
    ),
}
EMPLOYER = {"fr": ("resume", "agenda"), "en": ("summary", "agenda")}


def _commands(d: Deps, language: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, d.i18n.text(language, f"command.{name}")) for name in names]


async def publish(application: Application) -> None:
    """Patients see how to start; each secretary and employer sees their own commands.

    A staff member who never opened the bot has no chat yet: Telegram refuses their menu,
    which is logged, and set again at the next start.
    """
    d: Deps = application.bot_data[DEPS_KEY]
    bot = application.bot
    private = BotCommandScopeAllPrivateChats()
    office = d.settings.language
    await bot.set_my_commands(_commands(d, office, PATIENT[office]), scope=private)
    for language in LANGUAGES:
        await bot.set_my_commands(
            _commands(d, language, PATIENT[language]), scope=private, language_code=language
        )
    staff = [(s.telegram_id, s.language, SECRETARY) for s in d.settings.secretaries]
    secretary_ids = {s.telegram_id for s in d.settings.secretaries}
    employers = sorted({e for b in d.settings.businesses for e in b.employers} - secretary_ids)
    staff += [(employer, d.settings.language, EMPLOYER) for employer in employers]
    for chat_id, language, names in staff:
        try:
            await bot.set_my_commands(
                _commands(d, language, names[language]), scope=BotCommandScopeChat(chat_id)
            )
        except TelegramError as error:
            log.warning("no command menu for %s yet: %s", chat_id, error)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command no handler took (a typo, /help, one meant for another bot): the reader's
    own commands, as their menu shows them, rather than silence."""
    d = deps(context)
    user = update.effective_user
    if d.settings.is_secretary(user.id):
        language = staff_language(context, user.id)
        names = SECRETARY[language]
    elif d.settings.businesses_of_employer(user.id):
        language = d.settings.language
        names = EMPLOYER[language]
    else:
        language = (await person(update, context)).language
        names = PATIENT[language]
    lines = [d.i18n.text(language, "menu.unknown_command")]
    lines += [f"/{c.command} — {c.description}" for c in _commands(d, language, names)]
    await update.effective_message.reply_text("\n".join(lines))
