"""The command menus Telegram shows each audience, in their language."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.i18n import LANGUAGES
from handlers.common import DEPS_KEY, Deps, deps, person, staff_language

log = logging.getLogger(__name__)

PATIENT = {
    "fr": ("start", "aide", "langue", "mesdonnees", "oublier"),
    "en": ("start", "help", "language", "mydata", "forgetme"),
}
SECRETARY = {
    "fr": (
        "demandes",
        "agenda",
        "rdv",
        "appel",
        "bloquer",
        "debloquer",
        "patient",
        "presences",
        "ics",
        "mission",
        "missions",
        "releve",
        "gains",
        "publipostage",
        "qr",
        "aide",
    ),
    "en": (
        "requests",
        "agenda",
        "appointment",
        "call",
        "block",
        "unblock",
        "patient",
        "attendance",
        "ics",
        "mission",
        "missions",
        "releve",
        "gains",
        "publipostage",
        "qr",
        "help",
    ),
}
EMPLOYER = {
    "fr": ("resume", "journal", "agenda", "aide"),
    "en": ("summary", "log", "agenda", "help"),
}


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


async def _audience(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[str, str, dict[str, tuple[str, ...]]]:
    """Who is asking, checked against config every time: (audience, language, menu)."""
    d = deps(context)
    user = update.effective_user
    if d.settings.is_secretary(user.id):
        return "secretary", staff_language(context, user.id), SECRETARY
    if d.settings.businesses_of_employer(user.id):
        return "employer", d.settings.language, EMPLOYER
    return "patient", (await person(update, context)).language, PATIENT


async def _say_commands(
    update: Update, context: ContextTypes.DEFAULT_TYPE, first_line_key: str | None
) -> None:
    d = deps(context)
    audience, language, menu = await _audience(update, context)
    lines = [d.i18n.text(language, first_line_key or f"help.{audience}")]
    lines += [f"/{c.command} — {c.description}" for c in _commands(d, language, menu[language])]
    await update.effective_message.reply_text("\n".join(lines))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/aide`` (``/help``): what the bot does for the one asking, and their commands."""
    await _say_commands(update, context, None)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command no handler took (a typo, one meant for another bot): the reader's own
    commands, as their menu shows them, rather than silence."""
    await _say_commands(update, context, "menu.unknown_command")
