"""The Bot API methods the simulator serves, acting on the chats as Telegram would."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from bot.simulator.chats import SimFile, SimMessage, SimUser
from bot.simulator.errors import (
    BLOCKED,
    CONFLICT,
    NOT_MODIFIED,
    WEBHOOK_ACTIVE,
    ApiError,
    bad_request,
)
from bot.simulator.forms import Upload, as_int
from bot.simulator.markup import MarkupError, parse_html, utf16_len

# Limits of the text the user sees, once its markup is parsed, and Telegram's complaint.
_LENGTH_LIMITS = {
    "text": (4096, "message is too long"),
    "caption": (1024, "message caption is too long"),
}
_ENTITIES_FIELD = {"text": "entities", "caption": "caption_entities"}
# Telegram refuses an inline keyboard of more buttons than this; the Bot API spec does not
# say so, Telegram's answer does (tginfo/Telegram-Limits lists it).
_INLINE_BUTTONS = 100
_TOO_MANY_BUTTONS = "reply markup is too long"


class BotApiMethods:
    """The methods, mixed into :class:`Simulator`: it holds the state declared here."""

    bot_user: dict[str, Any]
    _users: dict[int, SimUser]
    _commands: dict[tuple[str, str], list[dict[str, Any]]]
    _files: dict[str, SimFile]
    _file_ids: Any  # itertools.count
    _callback_queries: dict[str, SimUser]
    _pending: list[dict[str, Any]]
    _allowed_updates: frozenset[str] | None
    _updates_changed: asyncio.Condition
    _poll_generation: int
    _polled: bool
    _closing: bool
    _webhook: object | None  # a webhook.Webhook while one is set

    # Bot API methods ----------------------------------------------------------------------------

    async def _true(self, params: dict[str, Any], uploads: dict[str, Upload]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        self._poll_generation += 1
        generation = self._poll_generation
        self._polled = True
        limit = min(max(as_int(params.get("limit"), 100), 1), 100)
        timeout = max(as_int(params.get("timeout"), 0), 0)
        async with self._updates_changed:
            offset = params.get("offset")
            if isinstance(offset, int):
                self._confirm(offset)
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allow(allowed)
            # Wakes settle() (updates confirmed) and an older poll, which must now give way.
            self._updates_changed.notify_all()

            def answer_now() -> bool:
                superseded = generation != self._poll_generation
                return bool(self._pending) or superseded or self._closing

            if timeout and not answer_now():
                # A long poll that finds nothing by its timeout answers an empty list.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._updates_changed.wait_for(answer_now)
        if generation != self._poll_generation:
            raise ApiError(409, CONFLICT)
        return self._pending[:limit]

    def _confirm(self, offset: int) -> None:
        """An offset confirms the updates before it; a negative one keeps the last -offset."""
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _allow(self, allowed: list[str]) -> None:
        # An empty list means the default: every kind of update this simulator produces.
        self._allowed_updates = frozenset(allowed) if allowed else None
        if self._allowed_updates is not None:
            self._pending = [u for u in self._pending if self._allowed_updates & u.keys()]

    async def _set_my_commands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        key = (scope_key(params.get("scope")), params.get("language_code") or "")
        self._commands[key] = list(params.get("commands") or [])
        return True

    async def _get_my_commands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self.commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        key = (scope_key(params.get("scope")), params.get("language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _send_message(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        user = self._chat(params)
        text, entities = self._formatted_text("sendMessage", params, "text")
        message = user._add_message(
            self.bot_user,
            text=text,
            entities=entities,
            reply_markup=self._keyboards("sendMessage", user, params),
        )
        self._record_bot_line(user, message, params)
        return message.to_api()

    async def _copy_message(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        user = self._chat(params)
        source = self._users.get(as_int(params.get("from_chat_id"), 0))
        original = source._message(params.get("message_id")) if source else None
        if original is None or original.deleted:
            raise bad_request("message to copy not found")
        message = user._add_message(
            self.bot_user,
            text=original.text,
            entities=original.entities,
            caption=original.caption,
            caption_entities=original.caption_entities,
            photo_file=original.photo_file,
            document_file=original.document_file,
            reply_markup=self._keyboards("copyMessage", user, params),
        )
        self._record_bot_line(user, message, params)
        return {"message_id": message.message_id}

    async def _send_document(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self._send_file("sendDocument", "document", params, uploads)

    async def _send_photo(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        return self._send_file("sendPhoto", "photo", params, uploads)

    def _send_file(
        self, method: str, kind: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> Any:
        user = self._chat(params)
        sent = self._file(kind, params, uploads)
        caption, caption_entities = (
            self._formatted_text(method, params, "caption") if params.get("caption") else (None, [])
        )
        message = user._add_message(
            self.bot_user,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=self._keyboards(method, user, params),
            **{f"{kind}_file": sent},
        )
        self._record_bot_line(user, message, params)
        return message.to_api()

    async def _edit_message_text(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        user = self._chat(params)
        message = self._message_to_edit(user, params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted_text("editMessageText", params, "text")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._inline_keyboard("editMessageText", params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        message.text, message.entities, message.reply_markup = text, entities, markup
        return self._edited(user, message)

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> Any:
        user = self._chat(params)
        message = self._message_to_edit(user, params)
        markup = self._inline_keyboard("editMessageReplyMarkup", params)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(user, message)

    async def _delete_message(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        user = self._chat(params)
        message = user._message(params.get("message_id"))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        who = f"Bot -> {user.first_name}" if message.from_bot else user.first_name
        self._record_line(f"{who} (deleted): {message.summary()}")
        return True

    async def _answer_callback_query(
        self, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> Any:
        user = self._callback_queries.pop(str(params.get("callback_query_id")), None)
        if user is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text:
            user.answers.append(text)
            kind = "alert" if params.get("show_alert") is True else "notification"
            self._record_line(f"Bot -> {user.first_name} ({kind}): {text}")
        return True

    async def _send_chat_action(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        self._chat(params)
        return True

    async def _get_chat(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        user = self._chat(params, reachable=False)
        return {
            **user.chat_to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    # Helpers of the methods ---------------------------------------------------------------------

    def _chat(self, params: dict[str, Any], *, reachable: bool = True) -> SimUser:
        """The user whose private chat ``chat_id`` names; 403 if they blocked the bot."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        user = self._users.get(as_int(chat_id, 0))
        if user is None:
            raise bad_request("chat not found")
        if reachable and user.blocked:
            raise ApiError(403, BLOCKED)
        return user

    def _message_to_edit(self, user: SimUser, params: dict[str, Any]) -> SimMessage:
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        message = user._message(params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _edited(self, user: SimUser, message: SimMessage) -> dict[str, Any]:
        message.edit_date = self.now()
        self._record_line(f"Bot -> {user.first_name} (edited): {message.summary()}")
        return message.to_api()

    def _formatted_text(
        self, method: str, params: dict[str, Any], name: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse the text's markup, then apply Telegram's limits to what the user will see."""
        raw = params.get(name)
        raw = "" if raw is None else str(raw)
        parse_mode = str(params.get("parse_mode") or "").lower()
        if parse_mode == "html":
            try:
                text, entities = parse_html(raw)
            except MarkupError as error:
                raise self._violation(method, f"can't parse entities: {error}") from None
        elif parse_mode in ("", "markdown", "markdownv2"):
            # Markdown is passed through unparsed: the simulator only understands HTML.
            text = raw
            entities = list(params.get(_ENTITIES_FIELD[name]) or [])
        else:
            raise bad_request("unsupported parse_mode")
        if name == "text" and not text.strip():
            raise self._violation(method, "message text is empty")
        limit, too_long = _LENGTH_LIMITS[name]
        if utf16_len(text) > limit:  # Telegram counts UTF-16 code units
            raise self._violation(method, too_long)
        return text, entities

    def _keyboards(
        self, method: str, user: SimUser, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The message's inline keyboard; a reply keyboard goes to the user's input field."""
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "keyboard" in markup:
            user._reply_keyboard = [
                [b if isinstance(b, dict) else {"text": b} for b in row]
                for row in markup["keyboard"]
            ]
        elif isinstance(markup, dict) and markup.get("remove_keyboard"):
            user._reply_keyboard = None
        return self._inline_keyboard(method, params)

    def _inline_keyboard(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message's inline keyboard, refused as Telegram does when it has too many buttons
        (each button's data was checked against the spec: 1-64 bytes)."""
        markup = _inline_keyboard(params.get("reply_markup"))
        rows = markup["inline_keyboard"] if markup is not None else []
        buttons = sum(len(row) for row in rows if isinstance(row, list))
        if buttons > _INLINE_BUTTONS:
            raise self._violation(method, _TOO_MANY_BUTTONS)
        return markup

    def _file(self, kind: str, params: dict[str, Any], uploads: dict[str, Upload]) -> SimFile:
        """The uploaded file, or the one a file_id names."""
        value = params.get(kind)
        attached = value.removeprefix("attach://") if isinstance(value, str) else None
        upload = uploads.get(kind) or uploads.get(attached or "")
        if upload is not None:
            number = next(self._file_ids)
            sent = SimFile(
                file_id=f"{kind}-{number}",
                file_unique_id=f"u{number}",
                filename=upload.filename,
                data=upload.data,
                mime_type=upload.content_type,
            )
            self._files[sent.file_id] = sent
            return sent
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if value in self._files:
            return self._files[value]
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _record_bot_line(self, user: SimUser, message: SimMessage, params: dict[str, Any]) -> None:
        line = f"Bot -> {user.first_name}: {message.summary()}"
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "keyboard" in markup and user.keyboard:
            labels = [f"[{label}]" for row in user.keyboard for label in row]
            line += f"  keyboard: {' '.join(labels)}"
        self._record_line(line)


def _inline_keyboard(markup: object) -> dict[str, Any] | None:
    # An empty inline keyboard is no keyboard.
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


def scope_key(scope: object) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
