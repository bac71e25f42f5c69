"""python-telegram-bot's persistence over the store's sessions, shared by every worker.

What a person is in the middle of — a phone booking half typed, a mission being described, a
mail merge being prepared — is their ``user_data``. Several workers may serve the same bot
(behind a reverse proxy, on one database) and any of them may get that person's next update,
so their ``user_data`` is read from the store for each update that concerns them
(``refresh_user_data``, which the application calls before the first handler runs) and
written, when it changed, before that update is done (``WorkerApplication``). Memory only
caches what was read last; it is never trusted for the next update.

Chat and bot data are not kept: the bot's services live in ``bot_data`` and are rebuilt at
each start, and everything else is in the store's own tables.

The values are pickled: they are the bot's own dataclasses, written and read by the bot
alone, in the database that already holds every appointment.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

from telegram import Update
from telegram.ext import Application, BasePersistence, PersistenceInput

from bot.clock import Clock
from storage.sessions import Sessions
from storage.updates import HandledUpdates

log = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


def _load(value: bytes, what: str) -> Any:
    """The kept value, or None when this version of the bot can no longer read it.

    A half-typed draft is not worth failing an update over: it is dropped and logged.
    """
    try:
        return pickle.loads(value)
    except Exception:
        log.warning("dropping the kept state of %s: it no longer loads", what, exc_info=True)
        return None


class StorePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, sessions: Sessions):
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            )
        )
        self._sessions = sessions
        # What the store held for each user when this process last read or wrote it: the
        # application hands over the data of every user of every update, nearly always
        # unchanged or empty, and only a difference is worth a write transaction.
        self._kept: dict[int, bytes] = {}
        # Users whose data the last write failed to keep: their update is not done.
        self.unwritten: set[int] = set()

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Nothing is loaded at start: each update reads its own person's data."""
        return {}

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """The user's data as the store holds it now, whichever worker wrote it last."""
        value = await self._sessions.get(user_id)
        loaded = _load(value, f"user {user_id}") if value is not None else None
        if value is not None and loaded is None:
            await self._sessions.put(user_id, None)
            value = None
        user_data.clear()
        if loaded:
            user_data.update(loaded)
        self._remember(user_id, value)

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await self._keep(user_id, pickle.dumps(data) if data else None)

    async def drop_user_data(self, user_id: int) -> None:
        await self._keep(user_id, None)

    async def _keep(self, user_id: int, value: bytes | None) -> None:
        if self._kept.get(user_id) == value:
            return
        try:
            await self._sessions.put(user_id, value)
        except Exception:
            self.unwritten.add(user_id)
            raise
        self.unwritten.discard(user_id)
        self._remember(user_id, value)

    def _remember(self, user_id: int, value: bytes | None) -> None:
        if value is None:
            self._kept.pop(user_id, None)
        else:
            self._kept[user_id] = value

    async def flush(self) -> None:
        """Nothing to flush: every update was written as it ended."""

    # Not kept (see the module's docstring); the interface still asks for them.

    async def get_conversations(self, name: str) -> ConversationDict:
        """No ConversationHandler is persistent: typed steps live in user data."""
        return {}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """No ConversationHandler is persistent: typed steps live in user data."""

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Chat data is not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Chat data is not kept."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not kept."""

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Bot data is rebuilt at each start."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Bot data is rebuilt at each start."""

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: object) -> None:
        """Buttons carry their own data: there is no callback data cache to keep."""


class StateNotWritten(Exception):
    """What the person is in the middle of could not be written: the update is not done."""


class WorkerApplication(Application):
    """An application whose updates end with their person's data written, each handled once.

    python-telegram-bot writes user data on a timer (``update_interval``): a worker that
    stopped or crashed within it would lose a half-typed step, and another worker would not
    see it. Here each update hands over what it changed before it counts as handled.

    Telegram sends an update again when it did not get its 200 (lost, or late): whichever
    worker gets it then finds it recorded and leaves it. The record is written after the
    update is handled, so a worker killed in between leaves it to be handled again — never
    lost, handled twice only in that window. Nor is one whose person's data could not be
    written: ``StateNotWritten`` reaches the webhook server, whose 500 has Telegram send it
    again, to be handled from the state the store still holds.
    """

    handled_updates: HandledUpdates | None = None
    clock: Clock | None = None

    def record_updates(self, handled: HandledUpdates, clock: Clock) -> None:
        self.handled_updates, self.clock = handled, clock

    async def process_update(self, update: object) -> None:
        """Polling's way in: an update that fails here is not fetched again, so it is logged
        and the next one goes on (an exception would stop python-telegram-bot's fetcher)."""
        try:
            await self.handle(update)
        except Exception:
            log.exception("update %s not done", getattr(update, "update_id", None))

    async def handle(self, update: object) -> None:
        """Handle ``update`` unless it was already, and write what it changed; raise when
        that could not be done, so that Telegram sends it again (the webhook server's 500)."""
        handled, clock = self.handled_updates, self.clock
        known = isinstance(update, Update) and handled is not None and clock is not None
        if known and await handled.seen(update.update_id):
            log.info("update %s was handled already: not again", update.update_id)
            return
        await super().process_update(update)
        await self.update_persistence()
        user = update.effective_user if isinstance(update, Update) else None
        persistence = self.persistence
        unwritten = isinstance(persistence, StorePersistence) and persistence.unwritten
        if user is not None and unwritten and user.id in unwritten:
            raise StateNotWritten(f"update {update.update_id}: user {user.id}'s data")
        if known:
            await handled.record(update.update_id, clock.now())
