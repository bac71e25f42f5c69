"""Finding a patient the way a secretary types one: a name without its accents or with a
typo ("Lefebre" for Lefèvre), or a phone number however it is spaced (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz

T = TypeVar("T")

# A name scores 0-100 against what was typed; below this it is not the one meant.
NAME_THRESHOLD = 80
# Digits that make a number worth looking up: fewer would match half the book.
PHONE_DIGITS = 6
SHOWN = 8
_NON_DIGITS = re.compile(r"\D")


def fold(text: str) -> str:
    """Lower case, accents and punctuation gone: ``Lefèvre-Dupré`` -> ``lefevre dupre``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def phone_key(text: str) -> str | None:
    """A phone number's national digits (``+33 6 12..`` and ``06 12..`` alike), or None
    when the text is no number."""
    if re.search(r"[^\d\s.+()\-/]", text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if text.strip().startswith("+33") or digits.startswith("0033"):
        digits = digits[2:] if digits.startswith("33") else digits[4:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= PHONE_DIGITS else None


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """Someone the office may mean: the names to match and the phone numbers known."""

    item: T
    names: Sequence[str]
    phones: Sequence[str | None] = ()


def _name_score(query: str, name: str) -> float:
    """How well the typed words name the person: each typed word against the name's best
    word, so that a surname alone finds "Alice Lefèvre"."""
    words = fold(name).split()
    typed = fold(query).split()
    if not words or not typed:
        return 0.0
    whole = fuzz.ratio(" ".join(typed), " ".join(words))
    per_word = min(max(_word_score(word, candidate) for candidate in words) for word in typed)
    return max(whole, per_word)


def _word_score(typed: str, word: str) -> float:
    if typed == word:
        return 100.0
    if len(typed) >= 3 and word.startswith(typed):
        return 90.0  # the start of a name: "Lef" for Lefèvre
    # A short word is too easily one letter from another name: it must be written right.
    return fuzz.ratio(typed, word) if len(typed) >= 4 else 0.0


def find(query: str, candidates: Sequence[Candidate[T]], *, limit: int = SHOWN) -> list[T]:
    """The candidates the query means, best first: by phone when it is a number, else by
    name, tolerating accents left out and a typo or two."""
    number = phone_key(query)
    if number is not None:
        return [
            c.item
            for c in candidates
            if any(phone_key(p or "") and phone_key(p).endswith(number) for p in c.phones)
        ][:limit]
    scored = []
    for index, candidate in enumerate(candidates):
        score = max((_name_score(query, name) for name in candidate.names if name), default=0)
        if score >= NAME_THRESHOLD:
            scored.append((-score, index, candidate.item))
    scored.sort(key=lambda found: found[:2])
    return [item for _, _, item in scored[:limit]]
