"""python-telegram-bot's persistence over the bot's own SQLite file.

What a person was in the middle of — a phone booking half typed, a mission being described —
survives a restart: their ``user_data`` and the conversations' states. Chat and bot data are
not kept: the bot's services live in ``bot_data`` and are rebuilt at each start, and
everything else is in the store's own tables.

The values are pickled: they are the bot's own dataclasses, written and read by the bot
alone, in the file that already holds every appointment.
"""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.sessions import Sessions

log = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]

# How often the application hands changed user data over, in seconds; a state change of a
# conversation is written at once.
UPDATE_INTERVAL = 5


def _load(value: bytes, what: str) -> Any:
    """The kept value, or None when this version of the bot can no longer read it.

    A half-typed draft is not worth refusing to start over: it is dropped and logged.
    """
    try:
        return pickle.loads(value)
    except Exception:
        log.warning("dropping the kept state of %s: it no longer loads", what, exc_info=True)
        return None


class SQLitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, sessions: Sessions, update_interval: float = UPDATE_INTERVAL):
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        # What user_sessions holds for each user, as this process last read or wrote it. The
        # application hands over the data of every user it heard from at each interval,
        # nearly always unchanged or empty: only a difference is worth a write transaction.
        self._kept: dict[int, bytes] = {}

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        found = {}
        for user_id, value in (await self._sessions.user_data()).items():
            data = _load(value, f"user {user_id}")
            if data is None:
                await self._sessions.put_user_data(user_id, None)
            else:
                found[user_id] = data
                self._kept[user_id] = value
        return found

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await self._keep(user_id, pickle.dumps(data) if data else None)

    async def drop_user_data(self, user_id: int) -> None:
        await self._keep(user_id, None)

    async def _keep(self, user_id: int, value: bytes | None) -> None:
        if self._kept.get(user_id) == value:
            return
        await self._sessions.put_user_data(user_id, value)
        if value is None:
            del self._kept[user_id]
        else:
            self._kept[user_id] = value

    async def get_conversations(self, name: str) -> ConversationDict:
        found: ConversationDict = {}
        for key, state in (await self._sessions.conversations(name)).items():
            loaded = _load(state, f"conversation {name} {key}")
            if loaded is None:
                await self._sessions.put_conversation(name, key, None)
            else:
                found[tuple(json.loads(key))] = loaded
        return found

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        state = pickle.dumps(new_state) if new_state is not None else None
        await self._sessions.put_conversation(name, json.dumps(list(key)), state)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: this process is the only writer."""

    async def flush(self) -> None:
        """Nothing to flush: every update was written as it came."""

    # Not kept (see the module's docstring); the interface still asks for them.

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
