"""The configured service and the practitioner a message names."""

import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.nlu.request import ServiceLike
from bot.nlu.typos import _TOKEN
from bot.nlu.words import _fold

_SERVICE_FILLER = frozenset(
    [
        "de",
        "du",
        "des",
        "d",
        "la",
        "le",
        "les",
        "l",
        "un",
        "une",
        "pour",
        "the",
        "a",
        "an",
        "of",
        "for",
    ]
)


def _content_words(folded: str) -> list[str]:
    """Words that name things, singular: "soins du visage" -> ["soin", "visage"]."""
    return [
        word[:-1] if len(word) > 3 and word[-1] in "sx" else word
        for word in _TOKEN.findall(folded)
        if word not in _SERVICE_FILLER
    ]


@lru_cache(maxsize=1024)
def _service_phrases(name: str, keywords: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    phrases = (_content_words(_fold(text)) for text in (name, *keywords))
    return tuple((" ".join(words), len(words)) for words in phrases if words)


def _typos_allowed(phrase: str) -> int:
    """Short names must match exactly: "carie" is one letter from "carte"."""
    return 0 if len(phrase) <= 7 else 1 if len(phrase) <= 10 else 2


def _find_service(folded: str, services: Sequence[ServiceLike]) -> str | None:
    words = _content_words(folded)
    best: tuple[float, int, str] | None = None
    grams: dict[int, list[str]] = {}
    for service in services:
        for phrase, size in _service_phrases(service.name, tuple(service.keywords)):
            if size not in grams:
                grams[size] = [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
            hit = process.extractOne(
                phrase, grams[size], scorer=OSA.distance, score_cutoff=_typos_allowed(phrase)
            )
            if hit is not None and (best is None or (hit[1], hit[2]) < best[:2]):
                best = (hit[1], hit[2], service.key)
    return None if best is None else best[2]


# A practitioner is named after a title or "avec": a bare "Dupont" may be the practice's name.
_PRACTITIONER_CUE = (
    r"\b(?:dr|docteur|doctor|doc|pr|professeur|avec|with|chez|par|see|voir)\b\.?"
    r"(?:\s+(?:le|la|l'|the|dr|docteur|doctor|mme|madame|m|mr|monsieur|mlle)\b\.?)*\s+"
)
_TITLES = frozenset({"dr", "docteur", "doctor", "pr", "mme", "madame", "mr", "monsieur", "mlle"})


@lru_cache(maxsize=256)
def _practitioner_pattern(name: str) -> re.Pattern[str] | None:
    words = [w for w in _TOKEN.findall(_fold(name)) if w not in _TITLES and len(w) >= 3]
    if not words:
        return None
    return re.compile(_PRACTITIONER_CUE + r"(?:" + "|".join(map(re.escape, words)) + r")\b")


def _find_practitioner(folded: str, practitioners: Sequence[str]) -> str | None:
    """The one practitioner the message asks for by name; several or none: None."""
    named = [
        name
        for name in practitioners
        if (pattern := _practitioner_pattern(name)) is not None and pattern.search(folded)
    ]
    return named[0] if len(named) == 1 else None
