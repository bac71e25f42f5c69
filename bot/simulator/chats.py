"""The scripted side: users, their private chats with the bot, and the messages in them."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.simulator.forms import as_int
from bot.simulator.markup import utf16_len

if TYPE_CHECKING:
    from bot.simulator.server import Simulator

_COMMAND = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


@dataclass(frozen=True)
class SimFile:
    """A file the bot uploaded, kept so that tests can read it and the bot can resend it."""

    file_id: str
    file_unique_id: str
    filename: str
    data: bytes
    mime_type: str

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class SimMessage:
    """A message of a private chat as the phone shows it, kept up to date with edits."""

    message_id: int
    chat: dict[str, Any]  # Telegram's Chat object
    sender: dict[str, Any]  # Telegram's User object
    date: datetime
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None  # an inline keyboard, the only kind on a message
    contact: dict[str, Any] | None = None
    document_file: SimFile | None = None
    photo_file: SimFile | None = None
    edit_date: datetime | None = None
    deleted: bool = False
    reply_to: SimMessage | None = None  # the message this one answers (Telegram's reply)

    @property
    def from_bot(self) -> bool:
        return bool(self.sender["is_bot"])

    @property
    def buttons(self) -> list[list[str]]:
        """The labels of the inline keyboard, row by row."""
        return [[button["text"] for button in row] for row in self._keyboard()]

    def button(self, label: str) -> dict[str, Any]:
        """The InlineKeyboardButton labelled ``label``."""
        found = self.find_button(label)
        if found is None:
            raise AssertionError(f"no button {label!r} on {self.summary()!r}: {self.buttons}")
        return found

    def find_button(self, label: str) -> dict[str, Any] | None:
        return next((b for row in self._keyboard() for b in row if b["text"] == label), None)

    @property
    def document(self) -> tuple[str, bytes] | None:
        return (
            (self.document_file.filename, self.document_file.data) if self.document_file else None
        )

    @property
    def photo(self) -> tuple[str, bytes] | None:
        return (self.photo_file.filename, self.photo_file.data) if self.photo_file else None

    def summary(self) -> str:
        """What the chat shows, on one line: attachments, text, then the buttons."""
        parts = []
        if self.document_file:
            parts.append(f"[document {self.document_file.filename}]")
        if self.photo_file:
            parts.append(f"[photo {self.photo_file.filename}]")
        if self.contact:
            parts.append(f"[contact {self.contact['phone_number']}]")
        if self.text or self.caption:
            parts.append(self.text or self.caption or "")
        line = " ".join(parts)
        labels = [f"[{label}]" for row in self.buttons for label in row]
        return f"{line}  {' '.join(labels)}" if labels else line

    def to_api(self, *, nested: bool = True) -> dict[str, Any]:
        """Telegram's Message object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": int(self.date.timestamp()),
        }
        if self.edit_date:
            message["edit_date"] = int(self.edit_date.timestamp())
        optional = {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "contact": self.contact,
            "document": self.document_file.to_api() if self.document_file else None,
            "photo": [_photo_size(self.photo_file)] if self.photo_file else None,
            "reply_markup": self.reply_markup,
            # Telegram nests the replied-to message one level deep, without its own reply.
            "reply_to_message": self.reply_to.to_api(nested=False)
            if self.reply_to and nested
            else None,
        }
        message.update({key: value for key, value in optional.items() if value})
        return message

    def _keyboard(self) -> list[list[dict[str, Any]]]:
        return self.reply_markup["inline_keyboard"] if self.reply_markup else []


def _photo_size(photo: SimFile) -> dict[str, Any]:
    # The simulator does not decode images, so it cannot tell their dimensions.
    return {
        "file_id": photo.file_id,
        "file_unique_id": photo.file_unique_id,
        "width": 0,
        "height": 0,
        "file_size": len(photo.data),
    }


# The people ------------------------------------------------------------------------------------


class SimUser:
    """A Telegram user in a private chat with the bot. Obtain one with :meth:`Simulator.user`."""

    def __init__(
        self,
        simulator: Simulator,
        user_id: int,
        first_name: str,
        *,
        language: str | None,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self._simulator = simulator
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language = language
        self.blocked = False
        self.answers: list[str] = []  # answerCallbackQuery texts shown to this user
        self._chat_messages: dict[int, SimMessage] = {}
        self._message_ids = itertools.count(1)
        # A reply keyboard replaces the phone's keyboard until the bot removes it.
        self._reply_keyboard: list[list[dict[str, Any]]] | None = None

    def __repr__(self) -> str:
        return f"SimUser({self.id}, {self.first_name!r})"

    # What the phone shows

    @property
    def messages(self) -> list[SimMessage]:
        """The bot's messages in this chat, oldest first, deleted ones flagged ``deleted``."""
        return [m for m in self._chat_messages.values() if m.from_bot]

    @property
    def last(self) -> SimMessage:
        """The bot's latest message still in the chat."""
        shown = [m for m in self.messages if not m.deleted]
        if not shown:
            raise AssertionError(f"the bot has sent {self.first_name} nothing (yet)")
        return shown[-1]

    @property
    def keyboard(self) -> list[list[str]] | None:
        """The labels of the reply keyboard the bot put in place of the phone's, if any."""
        if self._reply_keyboard is None:
            return None
        return [[button["text"] for button in row] for row in self._reply_keyboard]

    # What the user does

    async def send(self, text: str) -> None:
        """Send a text message; a leading /command is marked as a bot_command entity."""
        command = _COMMAND.match(text)
        entities = (
            [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}]
            if command
            else []
        )
        await self._say(text, entities=entities)

    async def share_contact(self, phone_number: str) -> None:
        """Share one's own phone number, as the "share contact" keyboard button does."""
        contact = {"phone_number": phone_number, "first_name": self.first_name, "user_id": self.id}
        if self.last_name:
            contact["last_name"] = self.last_name
        await self._say(None, contact=contact)

    async def reply(self, message: SimMessage, text: str) -> None:
        """Answer ``message`` with Telegram's reply (swipe left on it, then type)."""
        await self._say(text, reply_to=message)

    async def send_photo(self, data: bytes, *, caption: str | None = None) -> None:
        """Send a picture taken with the phone, with an optional caption."""
        number = next(self._simulator._file_ids)
        photo = SimFile(f"user-photo-{number}", f"u{number}", "photo.jpg", data, "image/jpeg")
        await self._say(None, photo_file=photo, caption=caption)

    async def tap(self, label: str, *, in_message: SimMessage | None = None) -> None:
        """Tap the button labelled ``label``.

        Looks in ``in_message`` if given, else in the latest bot message showing that label,
        then on the reply keyboard (whose text buttons send their label as a message).
        """
        self._check_can_write()
        found = self._find_inline_button(label, in_message)
        if found is None:
            key = self._reply_button(label) if in_message is None else None
            if key is None:
                raise AssertionError(self._missing_button(label, in_message))
            if key.get("request_contact"):
                raise AssertionError(f"{label!r} shares a contact: use share_contact(phone)")
            await self.send(label)
            return
        message, button = found
        if "callback_data" not in button:
            kinds = sorted(set(button) - {"text"})
            raise AssertionError(f"{label!r} is not a callback button ({kinds}); nothing to send")
        self._simulator._record_line(f"{self.first_name} > {label}")
        await self._simulator._submit(
            "callback_query",
            {
                "id": self._simulator._new_callback_query(self),
                "from": self.to_api(),
                "message": message.to_api(),
                "chat_instance": f"{self._simulator.bot_id}-{self.id}",
                "data": button["callback_data"],
            },
        )

    def block_bot(self) -> None:
        """Block the bot: from now on it gets 403 "Forbidden: bot was blocked by the user"."""
        self.blocked = True
        self._simulator._record_line(f"({self.first_name} blocked the bot)")

    def unblock_bot(self) -> None:
        self.blocked = False
        self._simulator._record_line(f"({self.first_name} unblocked the bot)")

    # Telegram objects

    def to_api(self) -> dict[str, Any]:
        """Telegram's User object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language,
        }
        user.update({key: value for key, value in optional.items() if value})
        return user

    def chat_to_api(self) -> dict[str, Any]:
        """Telegram's Chat object of the private chat with this user."""
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username}
        chat.update({key: value for key, value in optional.items() if value})
        return chat

    # Internals shared with the Simulator

    def _add_message(self, sender: dict[str, Any], **content: Any) -> SimMessage:
        """Append a message to the chat; user's and bot's messages share one id sequence."""
        message = SimMessage(
            message_id=next(self._message_ids),
            chat=self.chat_to_api(),
            sender=sender,
            date=self._simulator.now(),
            **content,
        )
        self._chat_messages[message.message_id] = message
        return message

    def _message(self, message_id: object) -> SimMessage | None:
        return self._chat_messages.get(as_int(message_id, 0))

    async def _say(self, text: str | None, **content: Any) -> None:
        self._check_can_write()
        message = self._add_message(self.to_api(), text=text, **content)
        self._simulator._record_line(f"{self.first_name}: {message.summary()}")
        await self._simulator._submit("message", message.to_api())

    def _check_can_write(self) -> None:
        # On a real phone the chat with a blocked bot shows "Restart" instead of the input field.
        if self.blocked:
            raise AssertionError(f"{self.first_name} has blocked the bot: unblock_bot() first")

    def _find_inline_button(
        self, label: str, in_message: SimMessage | None
    ) -> tuple[SimMessage, dict[str, Any]] | None:
        if in_message is not None and in_message.deleted:
            raise AssertionError(f"the message {in_message.summary()!r} was deleted")
        candidates = [in_message] if in_message else reversed(self.messages)
        for message in candidates:
            button = message.find_button(label) if not message.deleted else None
            if button is not None:
                return message, button
        return None

    def _reply_button(self, label: str) -> dict[str, Any] | None:
        keys = self._reply_keyboard or []
        return next((key for row in keys for key in row if key["text"] == label), None)

    def _missing_button(self, label: str, in_message: SimMessage | None) -> str:
        shown = [in_message] if in_message else [m for m in self.messages if not m.deleted]
        with_buttons = [f"{m.summary()!r}" for m in reversed(shown) if m.buttons]
        if self.keyboard and in_message is None:
            with_buttons.append(f"reply keyboard {self.keyboard}")
        where = "; ".join(with_buttons) or "no buttons at all"
        return f"{self.first_name} sees no button {label!r}. Shown (latest first): {where}"
