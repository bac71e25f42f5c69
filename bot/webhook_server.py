"""The worker's webhook server: it answers Telegram once the update is handled.

python-telegram-bot's own server answers 200 as soon as the update is queued. With several
workers behind a proxy that is too early twice over: a worker killed after its 200 loses the
update, and a chat's next update (which Telegram sends once it has the 200) may be handled on
another worker while the first is still being handled here. This server answers only when
the update has been handled and what the person is in the middle of is written (see
``bot.persistence``); an update the worker failed to handle gets a 500, and Telegram sends it
again, to this worker or another.

Updates are handled one at a time per worker, through the application's update processor,
as when polling: the workers behind the proxy are the concurrency. The server is aiohttp's,
the library the bot already calls the Bot API with (``bot.transport``).
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus

from aiohttp import web
from telegram import Update

from bot.persistence import WorkerApplication

log = logging.getLogger(__name__)

# Where Telegram puts the secret given to setWebhook.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """aiohttp's server on the application's event loop, serving ``path`` on ``host:port``."""

    def __init__(
        self, application: WorkerApplication, *, host: str, port: int, path: str, secret: str
    ):
        self._application, self._secret = application, secret.encode()
        self._host, self._port = host, port
        routes = web.Application()
        path = path.rstrip("/")
        for served in {path or "/", path + "/"}:
            routes.router.add_post(served, self._post)
        # No access log: the bot logs each update itself, by id.
        self._runner = web.AppRunner(routes, access_log=None, handle_signals=False)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        """Take no new request; let those being handled finish and be answered."""
        await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret):
            log.warning("webhook: a request without the right secret was refused")
            return web.Response(status=HTTPStatus.FORBIDDEN)
        application = self._application
        try:
            update = _update_of(await request.read(), application)
        except Exception:
            log.warning("webhook: a body that is not an update was refused")
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        try:
            await application.update_processor.process_update(update, application.handle(update))
        except Exception:
            # Not recorded as handled: Telegram sends it again. What the handlers changed
            # before the failure is in the store already, with what it owed in the outbox.
            log.exception(
                "webhook: update %s not handled; Telegram will send it again", update.update_id
            )
            return web.Response(status=HTTPStatus.INTERNAL_SERVER_ERROR)
        return web.Response(status=HTTPStatus.OK)


def _update_of(body: bytes, application: WorkerApplication) -> Update:
    data = json.loads(body)
    # The id is what an update is known by once handled: python-telegram-bot takes any.
    identifier = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(identifier, int) or isinstance(identifier, bool):
        raise ValueError("no update_id")
    return Update.de_json(data, application.bot)
