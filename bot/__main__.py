"""``secretary-bot``: run the bot, play the demo, check a config, read a message."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import re
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.app import Webhook

log = logging.getLogger("secretary-bot")

TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
SECRET_VARIABLE = "TELEGRAM_WEBHOOK_SECRET"
# What Telegram accepts as a webhook's secret_token.
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _configure_logging(verbose: bool, *, secrets: list[str], log_content: bool) -> None:
    from bot.logsafety import SafeFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(LOG_FORMAT, secrets=secrets, content=log_content))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])


def _load(path: str) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as error:
        for line in error.errors:
            sys.stderr.write(f"{line}\n")
        sys.stderr.write(f"{path}: invalid configuration, see above\n")
        raise SystemExit(2) from None


def check_config(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    sys.stdout.write(
        f"{args.config}: valid — {len(settings.businesses)} businesses, "
        f"{len(settings.secretaries)} secretaries\n"
    )
    return 0


async def _serve(settings: Settings, token: str, webhook: Webhook | None) -> None:
    # Starting makes some hundred thousand objects (modules, classes, the store) that live as
    # long as the bot: the collector, left on, would scan them again and again while they are
    # made (a seventh of the start); frozen once made, no later collection scans them either.
    gc.disable()
    try:
        from bot.app import build_application, running
        from bot.clock import SystemClock
        from storage import Store

        store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    finally:
        gc.freeze()
        gc.enable()
    try:
        application = build_application(
            settings, store, SystemClock(), token=token, sweep_every=settings.sweep_every
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with running(application, webhook):
            if webhook is None:
                log.info("polling %s", settings.telegram.base_url or "Telegram")
            else:
                log.info("webhook %s, listening on %s:%d", webhook.url, webhook.host, webhook.port)
            await stop.wait()
            log.info("stopping")
    finally:
        await store.close()


def _webhook(args: argparse.Namespace) -> Webhook | None:
    """Webhook mode as the flags and the environment say, None to poll; SystemExit(2) with
    the reason when they say it wrong."""
    from bot.app import Webhook

    if args.webhook is None and args.listen is None:
        return None
    if args.webhook is None or args.listen is None:
        _refuse("--webhook and --listen go together: the URL Telegram posts to, where to listen")
    url = urlsplit(args.webhook)
    if url.scheme not in ("http", "https") or not url.hostname:
        _refuse(f"--webhook {args.webhook!r} is not a URL such as https://bot.example.org/tg")
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        _refuse(f"--listen {args.listen!r} is not HOST:PORT, such as 127.0.0.1:8443")
    secret = os.environ.get(SECRET_VARIABLE, "").strip()
    if not secret:
        _refuse(
            f"{SECRET_VARIABLE} is not set: webhook mode needs a secret, so that only Telegram's "
            "requests are taken (1 to 256 characters among A-Z, a-z, 0-9, _ and -)"
        )
    if not SECRET_SHAPE.fullmatch(secret):
        _refuse(
            f"{SECRET_VARIABLE} must be 1 to 256 characters among A-Z, a-z, 0-9, _ and -, "
            "as Telegram requires"
        )
    return Webhook(url=args.webhook, host=host.strip("[]"), port=int(port), secret=secret)


def _refuse(reason: str) -> NoReturn:
    sys.stderr.write(f"{reason}\n")
    raise SystemExit(2)


def run(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        sys.stderr.write(f"{TOKEN_VARIABLE} is not set: put the token BotFather gave you there\n")
        return 2
    webhook = _webhook(args)
    secrets = [token] if webhook is None else [token, webhook.secret]
    _configure_logging(args.verbose, secrets=secrets, log_content=args.log_content)
    try:
        asyncio.run(_serve(settings, token, webhook))
    except Exception:
        # Through the log, not Python's own printout: the traceback may quote the token.
        log.critical("the bot stopped on an error", exc_info=True)
        return 1
    return 0


def backup(args: argparse.Namespace) -> int:
    from storage.backup import backup_database

    settings = _load(args.config)
    if isinstance(settings.database, str):
        sys.stderr.write("the database is a PostgreSQL server's: back it up with pg_dump\n")
        return 2
    if not settings.database.is_file():
        sys.stderr.write(f"{settings.database}: no database there to back up\n")
        return 2
    if args.destination.is_dir():
        sys.stderr.write(f"{args.destination} is a folder: name the backup file\n")
        return 2
    backup_database(settings.database, args.destination)
    sys.stdout.write(f"{settings.database} backed up to {args.destination}\n")
    return 0


def demo(args: argparse.Namespace) -> int:
    from bot.demo import play

    settings = _load(args.config)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(play(settings, sys.stdout.write))


def parse(args: argparse.Namespace) -> int:
    from bot.nlu import parse_request

    services = []
    zone = ZoneInfo("Europe/Paris")
    if args.config:
        settings = _load(args.config)
        business = settings.business(args.business) if args.business else settings.businesses[0]
        if business is None:
            sys.stderr.write(f"no business {args.business!r} in {args.config}\n")
            return 2
        services, zone = business.services, settings.zone(business)
    try:
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(zone)
    except ValueError:
        sys.stderr.write(f"--now {args.now!r} is not an ISO 8601 moment such as 2027-01-11T09:00\n")
        return 2
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    request = parse_request(args.text, now, services)
    sys.stdout.write(json.dumps(request.to_json(), ensure_ascii=False, indent=2) + "\n")
    return 0


def qr(args: argparse.Namespace) -> int:
    from bot.qr import deep_link, write

    settings = _load(args.config)
    business = settings.business(args.slug)
    if business is None:
        known = ", ".join(b.slug for b in settings.businesses)
        sys.stderr.write(f"no business {args.slug!r} in {args.config}; there are: {known}\n")
        return 2
    if args.out.suffix.lower() not in (".png", ".svg"):
        sys.stderr.write(f"{args.out}: name a .png or a .svg file\n")
        return 2
    try:
        link = deep_link(args.bot_username, business.slug)
    except ValueError as error:
        sys.stderr.write(f"--bot-username: {error}\n")
        return 2
    write(args.out, link, business.name)
    sys.stdout.write(f"{args.out}: QR code of {link} ({business.name})\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="secretary-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    command = commands.add_parser(
        "run",
        help="poll Telegram (or telegram.base_url) and serve, or take its updates by webhook",
        description=(
            "Poll Telegram for updates (the default), or, given --webhook and --listen, have "
            f"Telegram POST them: the secret it must send is read from {SECRET_VARIABLE}."
        ),
    )
    command.add_argument("--config", default="config.yaml")
    command.add_argument(
        "--webhook",
        metavar="URL",
        help="webhook mode: the URL Telegram posts updates to (behind a proxy, the proxy's, "
        "the same for every worker); told to Telegram at start-up",
    )
    command.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="webhook mode: where this worker listens, e.g. 127.0.0.1:8443 behind a proxy",
    )
    command.add_argument("--verbose", action="store_true", help="log at DEBUG level")
    command.add_argument(
        "--log-content",
        action="store_true",
        help="for debugging only: let the log show people's names, phone numbers and messages",
    )
    command.set_defaults(handler=run)

    command = commands.add_parser(
        "backup", help="copy the database to DEST, safely while the bot runs"
    )
    command.add_argument("--config", default="config.yaml")
    command.add_argument("destination", metavar="DEST", type=Path)
    command.set_defaults(handler=backup)

    command = commands.add_parser("demo", help="a scripted scene against the local simulator")
    command.add_argument("--config", default="config.example.yaml")
    command.set_defaults(handler=demo)

    command = commands.add_parser("check-config", help="validate a configuration file")
    command.add_argument("config", type=Path)
    command.set_defaults(handler=check_config)

    command = commands.add_parser(
        "qr", help="write the QR code of a business's link, its name under it (PNG or SVG)"
    )
    command.add_argument("--config", default="config.yaml")
    command.add_argument(
        "--bot-username",
        required=True,
        help="the bot's Telegram username, as BotFather gave it (the link is t.me/<it>)",
    )
    command.add_argument("slug", help="the business's slug in the configuration")
    command.add_argument("out", metavar="OUT", type=Path, help="OUT.png, or OUT.svg")
    command.set_defaults(handler=qr)

    command = commands.add_parser("parse", help="print how a message is understood, as JSON")
    command.add_argument("text")
    command.add_argument("--now", help="ISO 8601 moment the message was sent")
    command.add_argument("--config")
    command.add_argument("--business", help="slug of the business whose services to match")
    command.set_defaults(handler=parse)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
