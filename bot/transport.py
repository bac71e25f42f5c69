"""python-telegram-bot's calls to the Bot API, made with aiohttp rather than httpx.

python-telegram-bot leaves the HTTP library to a ``BaseRequest``: it builds every call,
reads every answer and raises its own errors; the request only moves bytes. Its default,
httpx over anyio, costs about 1.5 ms of CPU a call on these cores, and a booking takes nine
calls; aiohttp, which the bot already carries for its webhook and the simulator, moves the
same bytes for about half of it (``make bench`` prints both echo bots side by side).
python-telegram-bot's maintainers keep an aiohttp request of their own in ptbcontrib, which
is not published on PyPI; this is ours, in their interface.

Whether a failed call may have reached Telegram decides if an owed message may be sent
again (``handlers.delivery.classify``): ``NOT_SENT`` are the failures before any byte left.
"""

from __future__ import annotations

import json
import ssl

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# No connection could be had: refused, unreachable, or none free in the pool in time.
NOT_SENT: tuple[type[Exception], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)
# Any other failure of the connection: the call may have been applied.
TRANSPORT_ERROR = aiohttp.ClientError
_JSON = "application/json"


def certified() -> ssl.SSLContext:
    """Certificates checked against certifi's bundle, as httpx does, not whatever the
    machine has (a slim container may have none). Made once for all of a bot's requests:
    reading the bundle takes tens of milliseconds."""
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """A pool of keep-alive connections to the Bot API.

    Timeouts as python-telegram-bot passes them per call: ``connect`` and ``pool`` bound
    getting a connection, ``read`` the wait for each piece of the answer (a long poll adds
    its own timeout to it); aiohttp has no write timeout, the read one covers a slow upload.
    """

    __slots__ = ("_connections", "_timeout", "_tls", "_session")

    def __init__(self, *, timeout: float, connections: int, tls: ssl.SSLContext):
        self._timeout = timeout
        self._connections = connections
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        # Made here, in the running loop, rather than when the application is built.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ssl=self._tls),
                timeout=aiohttp.ClientTimeout(total=None),
                headers={"User-Agent": self.USER_AGENT},
                # Telegram sets no cookies; a jar would be read and written on every call.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self._given(pool_timeout),
            sock_connect=self._given(connect_timeout),
            sock_read=self._given(read_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are ClientErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _given(self, timeout: float | None) -> float | None:
        # As python-telegram-bot's docs say to tell a timeout not given.
        return self._timeout if timeout is BaseRequest.DEFAULT_NONE else timeout


def _body(request_data: RequestData | None) -> aiohttp.Payload | aiohttp.FormData | None:
    """The parameters as one JSON object, which the Bot API takes for any call without a file;
    multipart when files go with them."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        # One C call: a form-encoded body (httpx's way) quotes every character of a text or
        # keyboard in Python, seven times the cost; a dict handed to aiohttp goes through its
        # multipart writer.
        body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
        return aiohttp.BytesPayload(body, content_type=_JSON)
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
