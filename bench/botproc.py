"""A bot under test in its own process, polling the bench's simulator.

``python -m bench.botproc echo|echo-aiohttp|booking <base_url> <token> <folder>
[<config> <now>]``: the booking bot on ``config`` (its database included) living at ``now``
(ISO 8601) when given; or ``booking-webhook <base_url> <token> <folder> <port>``, the
booking bot served by webhook. Its CPU time, memory and SQL counts are then the bot's
alone, not mixed with the simulator's. It talks to the bench over stdin and stdout, one
word a line:

- it writes ``ready`` once it polls;
- ``idle``: it answers ``idle`` once every update it fetched has been handled (what
  ``update_queue.join`` tells a test in the same process);
- ``stats``: it answers one JSON line: CPU seconds so far, peak RSS in KiB and, for the
  booking bot, SQL round trips and write transactions so far;
- end of input: it stops polling and exits.

- ``echo``: a bare python-telegram-bot application: a text is echoed with one button, a tap
  on it answered. The floor: what python-telegram-bot and httpx cost per update.
- ``echo-aiohttp``: the same echo bot making its calls as secretary-bot does, with aiohttp
  (``bot.transport``): the floor on the booking bot's own transport.
- ``booking``: secretary-bot's own application, as ``secretary-bot run`` builds it, on the
  example config and a fresh database in ``folder``; Telegram's pacing is lifted, as the
  bench measures the bot's own work.
- ``booking-webhook``: the same, in webhook mode, listening on 127.0.0.1:``port`` (its
  ``ready`` comes once setWebhook is done).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.yaml"
# The moment the booking bot lives in: a Monday morning, the week ahead open.
NOW = datetime(2027, 1, 11, 7, 0, tzinfo=ZoneInfo("Europe/Paris"))


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    button = InlineKeyboardButton("echo", callback_data="echo")
    await update.effective_message.reply_text(
        update.effective_message.text, reply_markup=InlineKeyboardMarkup([[button]])
    )


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()


def _echo_bot(base_url: str, token: str, transport: str) -> Application:
    builder = Application.builder().token(token).base_url(base_url)
    if transport == "aiohttp":
        from bot.transport import AiohttpRequest, certified

        tls = certified()
        builder = builder.request(AiohttpRequest(timeout=5, connections=256, tls=tls))
        builder = builder.get_updates_request(AiohttpRequest(timeout=5, connections=1, tls=tls))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    application.add_handler(CallbackQueryHandler(_answer))
    return application


async def _booking_bot(base_url: str, token: str, folder: Path, config: Path | None, now: datetime):
    import yaml

    from bot.app import build_application
    from bot.clock import ManualClock
    from bot.config import parse_settings
    from storage import Store

    data = yaml.safe_load((config or EXAMPLE).read_text(encoding="utf-8"))
    if config is None:
        data["database"] = str(folder / "bench.sqlite3")
    settings = parse_settings(data)
    telegram = settings.telegram.model_copy(
        update={"base_url": base_url, "max_messages_per_second": 100_000}
    )
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    application = build_application(
        settings.model_copy(update={"telegram": telegram}),
        store,
        ManualClock(now),
        token=token,
        sweep_every=None,
    )
    return application, store


@asynccontextmanager
async def _polling(application: Application) -> AsyncIterator[None]:
    """The echo bot polls as secretary-bot does (``bot.app.running``), with nothing else."""
    async with application:
        await application.start()
        await application.updater.start_polling(
            poll_interval=0, timeout=30, allowed_updates=Update.ALL_TYPES
        )
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()


def _peak_rss_kib() -> int:
    """The peak resident memory of this process's own address space.

    getrusage's maxrss is kept across exec: it would report the bench's own peak at the fork
    (hundreds of MiB after bench.reminders in ``make bench``) for a bot that never used it.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _stats(store) -> str:
    figures = {
        "cpu": time.process_time(),
        "peak_rss_kib": _peak_rss_kib(),
    }
    if store is not None:
        figures["round_trips"] = store.db.counts.statements
        figures["transactions"] = store.db.counts.write_transactions
    return json.dumps(figures)


async def _serve(
    kind: str,
    base_url: str,
    token: str,
    folder: Path,
    port: str | None,
    config: Path | None,
    now: datetime,
) -> None:
    store = None
    if kind in ("echo", "echo-aiohttp"):
        application = _echo_bot(base_url, token, "aiohttp" if kind == "echo-aiohttp" else "httpx")
        serving = _polling(application)
    else:
        from bot.app import Webhook, running

        webhook = None
        if kind == "booking-webhook":
            url = f"http://127.0.0.1:{port}/tg"
            webhook = Webhook(url=url, host="127.0.0.1", port=int(port), secret="bench-secret")
        application, store = await _booking_bot(base_url, token, folder, config, now)
        serving = running(application, webhook)
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    try:
        async with serving:
            _say("ready")
            while line := (await commands.readline()).decode().strip():
                if line == "idle":
                    await application.update_queue.join()
                    _say("idle")
                elif line == "stats":
                    _say(_stats(store))
    finally:
        if store is not None:
            await store.close()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    kind, base_url, token, folder = sys.argv[1:5]
    if kind not in ("echo", "echo-aiohttp", "booking", "booking-webhook"):
        raise SystemExit(f"unknown bot {kind!r}: echo, echo-aiohttp, booking or booking-webhook")
    port = sys.argv[5] if kind == "booking-webhook" else None
    config, now = (
        (Path(sys.argv[5]), datetime.fromisoformat(sys.argv[6]))
        if kind == "booking" and sys.argv[5:]
        else (None, NOW)
    )
    asyncio.run(_serve(kind, base_url, token, Path(folder), port, config, now))


if __name__ == "__main__":
    main()
