"""A local Telegram Bot API server, and people to talk to the bot through it.

The machine running the tests and the demo has no access to Telegram, so this package plays
Telegram's part: an aiohttp server on 127.0.0.1 answers the Bot API methods the bot uses, the
way ``api.telegram.org`` does (same JSON, same error descriptions), and keeps every private chat
as the user's phone would show it. Any python-telegram-bot ``Application`` reaches it like a
self-hosted Bot API server::

    async with Simulator(spec_path=find_spec()) as tg:
        app = (
            Application.builder().token(tg.token)
            .base_url(tg.base_url).base_file_url(tg.base_file_url).build()
        )
        ...  # start polling, then tg.add_idle_waiter(app.update_queue.join)
        alice = tg.user(5001, "Alice", language="fr")
        await alice.send("/start cabinet-dupont")   # returns once the bot has handled it
        await alice.tap("10:00")
        assert "confirmé" in alice.last.text

Every request is recorded in ``tg.requests`` and, given the machine-readable Bot API spec,
checked against it; what fails lands in ``tg.violations`` so a test can assert there is none.

Modules: ``server`` (the HTTP server and the tests' controls), ``methods`` (the Bot API
methods), ``chats`` (users, chats, messages), ``forms`` (decoding requests), ``markup``
(HTML parse mode), ``errors`` (Telegram's error answers), ``faults`` (calls failing as
Telegram's do: ``tg.inject_faults``), ``webhook`` (setWebhook, and updates POSTed to the bot
as Telegram does, retried until it takes them), ``spec`` (the spec checker, and ``botapi/``
the spec).
"""

from bot.simulator.chats import SimFile, SimMessage, SimUser
from bot.simulator.faults import ALL_FAULTS, NOT_FAULTED_BY_DEFAULT, Fault
from bot.simulator.forms import RecordedRequest
from bot.simulator.markup import MarkupError, parse_html
from bot.simulator.server import DEFAULT_TOKEN, Simulator
from bot.simulator.spec import BotApiSpec, find_spec, load_spec
from bot.simulator.webhook import SECRET_HEADER, Delivery

__all__ = [
    "ALL_FAULTS",
    "DEFAULT_TOKEN",
    "NOT_FAULTED_BY_DEFAULT",
    "SECRET_HEADER",
    "BotApiSpec",
    "Delivery",
    "Fault",
    "MarkupError",
    "RecordedRequest",
    "SimFile",
    "SimMessage",
    "SimUser",
    "Simulator",
    "find_spec",
    "load_spec",
    "parse_html",
]
