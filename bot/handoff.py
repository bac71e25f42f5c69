"""When the bot passes a patient's message to a person, and when it answers it itself (pure).

The reader of booking messages (``bot.nlu``) says what a message asks for; this decides what
the bot cannot serve: someone who asks for a person, someone running late, anything it did
not read. A greeting or a thank-you the bot answers itself: nobody needs to be called for it.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from bot.nlu import BookingRequest, Intent


class Reason(StrEnum):
    PERSON = "person"  # asks for a person
    LATE = "late"  # running late for an appointment
    UNREAD = "unread"  # the bot did not understand it
    FILE = "file"  # a voice note, photo, document... the bot does not read


def plain(text: str) -> str:
    """Lower case, no accents, one space between words: how the rules below read."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9']+", stripped))


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


_PERSON = _any(
    r"parler (?:a|avec) (?:quelqu'?un|une? (?:personne|humaine?|secretaire)|la secretaire)",
    r"(?:un|une) (?:humain|humaine|vraie? personne)",
    r"quelqu'?un (?:de reel|de vrai|en vrai)",
    r"(?:rappelez|appelez|rappeler|appeler) moi",
    r"me (?:rappeler|appeler)",
    r"(?:speak|talk) (?:to|with) (?:someone|somebody|a (?:person|human)|a real person|staff)",
    r"(?:a|real) (?:human|person)",
    r"call me(?: back)?",
)
_LATE = _any(
    r"en retard",
    r"(?:du|un peu de|petit) retard",
    r"(?:running|be|am|i'm|im|will be) (?:a (?:bit|little) )?late",
    r"late for",
)
# Words that make a whole message a pleasantry when nothing else is in it.
_PLEASANTRIES = frozenset(
    {
        "merci",
        "beaucoup",
        "bcp",
        "mille",
        "fois",
        "ok",
        "okay",
        "oki",
        "d'accord",
        "daccord",
        "dac",
        "parfait",
        "super",
        "top",
        "genial",
        "bonjour",
        "bonsoir",
        "salut",
        "hello",
        "hi",
        "hey",
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "great",
        "perfect",
        "cool",
        "fine",
        "good",
        "tres",
        "bien",
        "bonne",
        "journee",
        "soiree",
        "a",
        "bientot",
        "demain",
        "tantot",
        "au",
        "revoir",
        "bye",
        "see",
    }
)


def is_pleasantry(text: str) -> bool:
    words = plain(text).split()
    return bool(words) and len(words) <= 6 and all(word in _PLEASANTRIES for word in words)


def needs_person(text: str, request: BookingRequest) -> Reason | None:
    """Why this message must go to the office, or None when the bot can answer it."""
    words = plain(text)
    if _PERSON.search(words):
        return Reason.PERSON
    if _LATE.search(words):
        return Reason.LATE
    if request.intent == Intent.OTHER and not is_pleasantry(text):
        return Reason.UNREAD
    return None
