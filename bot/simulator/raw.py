"""Updates of any shape, for tests that feed the bot what no well-behaved phone sends.

``SimUser.send`` and ``SimUser.tap`` do what a person does in a private chat; Telegram also
delivers edited messages, group and channel posts, and taps whose data a modified client made
up, on messages the bot can no longer reach. These functions deliver such updates as given.
"""

from __future__ import annotations

from typing import Any

from bot.simulator.chats import SimUser
from bot.simulator.server import Simulator

__all__ = ["new_callback_query_id", "submit"]


async def submit(simulator: Simulator, kind: str, payload: dict[str, Any]) -> None:
    """Deliver one update of ``kind`` (``"message"``, ``"edited_message"``,
    ``"channel_post"``, ``"callback_query"``...) carrying ``payload`` as is, and return once
    the bot has handled it, as ``SimUser.send`` does."""
    await simulator._submit(kind, payload)


def new_callback_query_id(simulator: Simulator, user: SimUser) -> str:
    """An id for a tap by ``user``: the simulator then takes one answerCallbackQuery for it,
    as Telegram does, and refuses a second one."""
    return simulator._new_callback_query(user)
