"""Telegram's HTML parse mode: the text a user sees and its entities, measured in UTF-16."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.simulator.forms import as_int


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class MarkupError(ValueError):
    """Text that Telegram refuses to parse ("Bad Request: can't parse entities: ...")."""


_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_HTML_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# Telegram supports numeric character references and only these four named ones.
_HTML_CHARACTER = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the text the user sees and its MessageEntity objects."""
    text: list[str] = []
    offset = 0  # in UTF-16 code units, like entity offsets
    open_tags: list[tuple[str, dict[str, Any] | None]] = []
    opened: list[dict[str, Any]] = []  # in the order of their start tags: outer ones first
    position = 0
    while position < len(markup):
        if markup[position] == "<":
            tag = _HTML_TAG.match(markup, position)
            at = f"at byte offset {_byte_offset(markup, position)}"
            if tag is None:  # a bare "<", which Telegram wants written &lt;
                seen = markup[position:].split(maxsplit=1)[0]
                raise MarkupError(f'Unsupported start tag "{seen}" {at}')
            name = tag.group(2)
            if tag.group(1):
                entity = _close_tag(name.lower(), open_tags, at)
                if entity is not None:
                    entity["length"] = offset - entity["offset"]
            else:
                entity = _open_tag(name, tag.group(3), offset, open_tags, at)
                open_tags.append((name.lower(), entity))
                if entity is not None:
                    opened.append(entity)
            position = tag.end()
            continue
        character = _HTML_CHARACTER.match(markup, position)
        piece = html.unescape(character.group()) if character else markup[position]
        position = character.end() if character else position + 1
        text.append(piece)
        offset += utf16_len(piece)
    if open_tags:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    # Telegram drops empty entities and lists the others by offset, outer ones first.
    entities = sorted((e for e in opened if e["length"]), key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


def _open_tag(
    name: str,
    attributes_text: str,
    offset: int,
    open_tags: list[tuple[str, dict[str, Any] | None]],
    at: str,
) -> dict[str, Any] | None:
    """The entity a start tag begins, or None when the tag adds no entity of its own."""
    if name.lower() not in _HTML_ENTITY_TYPES:
        raise MarkupError(f'Unsupported start tag "{name}" {at}')
    name = name.lower()
    attributes = {
        match.group(1).lower(): html.unescape(next((g for g in match.groups()[1:] if g), ""))
        for match in _HTML_ATTRIBUTE.finditer(attributes_text)
    }
    entity: dict[str, Any] = {"type": _HTML_ENTITY_TYPES[name], "offset": offset}
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise MarkupError('Tag "span" must have class "tg-spoiler"')
    if name == "code" and open_tags and open_tags[-1][0] == "pre":
        # <pre><code class="language-python"> is one pre entity with a language.
        language = attributes.get("class", "").removeprefix("language-")
        parent = open_tags[-1][1]
        if parent is not None and language:
            parent["language"] = language
        return None
    if name == "a":
        href = attributes.get("href", "")
        user_id = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user_id:
            mentioned = {"id": int(user_id.group(1)), "is_bot": False, "first_name": ""}
            return {"type": "text_mention", "offset": offset, "user": mentioned}
        return {**entity, "url": href} if href else None
    if name == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    if name == "tg-emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    if name == "tg-time":
        entity["unix_time"] = as_int(attributes.get("unix"), 0)
        if attributes.get("format"):
            entity["date_time_format"] = attributes["format"]
    return entity


def _close_tag(
    name: str, open_tags: list[tuple[str, dict[str, Any] | None]], at: str
) -> dict[str, Any] | None:
    if not open_tags:
        raise MarkupError(f"Unexpected end tag {at}")
    expected, entity = open_tags.pop()
    if expected != name:
        raise MarkupError(f'Unmatched end tag {at}, expected "</{expected}>", found "</{name}>"')
    return entity


def _byte_offset(text: str, position: int) -> int:
    return len(text[:position].encode("utf-8"))
