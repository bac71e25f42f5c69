"""The worker's webhook server: it answers Telegram once the update is handled.

python-telegram-bot's own server answers 200 as soon as the update is queued. With several
workers behind a proxy that is too early twice over: a worker killed after its 200 loses the
update, and a chat's next update (which Telegram sends once it has the 200) may be handled on
another worker while the first is still being handled here. This server answers only when
the update has been handled and what the person is in the middle of is written (see
``bot.persistence``); an update the worker failed to handle gets a 500, and Telegram sends it
again, to this worker or another.

Updates are handled one at a time per worker, through the application's update processor,
as when polling: the workers behind the proxy are the concurrency.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from http import HTTPStatus

import tornado.web
from telegram import Update
from tornado.httpserver import HTTPServer

from bot.persistence import WorkerApplication

log = logging.getLogger(__name__)

# Where Telegram puts the secret given to setWebhook.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Tornado on the application's event loop, serving ``path`` on ``host:port``."""

    def __init__(
        self, application: WorkerApplication, *, host: str, port: int, path: str, secret: str
    ):
        self._host, self._port = host, port
        self._in_flight: set[asyncio.Future[None]] = set()
        routes = [
            (
                rf"{path.rstrip('/')}/?",
                _UpdateHandler,
                {"bot_application": application, "secret": secret, "in_flight": self._in_flight},
            )
        ]
        self._server = HTTPServer(tornado.web.Application(routes, log_function=_no_access_log))

    def start(self) -> None:
        self._server.listen(self._port, address=self._host)

    async def stop(self) -> None:
        """Take no new request; let those being handled finish and be answered."""
        self._server.stop()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        await self._server.close_all_connections()


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """The bot logs each update itself, by id; tornado's access log would add nothing."""


class _UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self,
        bot_application: WorkerApplication,
        secret: str,
        in_flight: set[asyncio.Future[None]],
    ) -> None:
        self.bot_application = bot_application
        self.secret = secret
        self.in_flight = in_flight

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook: a request without the right secret was refused")
            self.send_error(HTTPStatus.FORBIDDEN)
            return
        application = self.bot_application
        try:
            update = _update_of(self.request.body, application)
        except Exception:
            log.warning("webhook: a body that is not an update was refused")
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        done = asyncio.get_running_loop().create_future()
        self.in_flight.add(done)
        try:
            await application.update_processor.process_update(update, application.handle(update))
        except Exception:
            # Not recorded as handled: Telegram sends it again. What the handlers changed
            # before the failure is in the store already, with what it owed in the outbox.
            log.exception(
                "webhook: update %s not handled; Telegram will send it again", update.update_id
            )
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        finally:
            self.in_flight.discard(done)
            done.set_result(None)
        self.set_status(HTTPStatus.OK)
        self.finish()


def _update_of(body: bytes, application: WorkerApplication) -> Update:
    data = json.loads(body)
    # The id is what an update is known by once handled: python-telegram-bot takes any.
    identifier = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(identifier, int) or isinstance(identifier, bool):
        raise ValueError("no update_id")
    return Update.de_json(data, application.bot)
