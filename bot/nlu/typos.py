"""SMS short forms and small typos in date words, put right before anything is read."""

from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.nlu.patterns import Pattern
from bot.nlu.words import _MONTH_NUMBERS, _WEEKDAY_NUMBERS, _fold

# common SMS and English short forms of date words
_ABBREVIATIONS = {
    "2main": "demain",
    "dem1": "demain",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "2morrow": "tomorrow",
    "2moro": "tomorrow",
    "auj": "aujourdhui",
    "ajd": "aujourdhui",
    "wknd": "weekend",
    "aprm": "aprem",
    "mat": "matin",
    "pro": "prochain",
    "proch": "prochain",
}


def _by_first_letter(words: Iterable[str]) -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    for word in words:
        targets.setdefault(word[0], []).append(word)
    return targets


# the date words a typo is looked for in, by first letter (typos rarely hit the first one);
# short words ("soir", "midi", "mars") are left alone
_TYPO_TARGETS = _by_first_letter(
    word
    for word in (
        *_WEEKDAY_NUMBERS,
        *_MONTH_NUMBERS,
        "demain",
        "tomorrow",
        "aujourdhui",
        "today",
        "tonight",
        "prochain",
        "prochaine",
        "suivant",
        "semaine",
        "matin",
        "matinee",
        "morning",
        "apres",
        "aprem",
        "soiree",
        "evening",
        "afternoon",
        "weekend",
        "heures",
        "heure",
        "quinze",
    )
    if len(word) >= 5
)
# real words one letter away from a date word: never "corrected"
_NOT_TYPOS = frozenset(["domain", "main", "marc", "marche", "mari", "marin", "martin", "match"])


def _allowed_typos(word: str, target: str) -> int:
    if len(target) >= 8 and len(word) >= 7:
        return 2
    return 1


@lru_cache(maxsize=8192)
def _correct(word: str) -> str:
    """The date word `word` was probably meant for ("mrdi" -> "mardi"), else `word`."""
    if word in _ABBREVIATIONS:
        return _ABBREVIATIONS[word]
    if len(word) < 4 or word in _NOT_TYPOS or not word.isalpha():
        return word
    targets = _TYPO_TARGETS.get(word[0])
    if not targets or word in targets:
        return word
    hit = process.extractOne(word, targets, scorer=OSA.distance, score_cutoff=2)
    if hit is None:
        return word
    target, distance, _ = hit
    # a 4-letter word may only lack one letter of a 5-letter date word ("mrdi")
    if len(word) == 4 and len(target) != 5:
        return word
    return target if distance <= _allowed_typos(word, target) else word


_TOKEN = Pattern(r"[a-z0-9]+")


def _normalise(text: str) -> str:
    return _TOKEN.sub(lambda m: _correct(m.group()), _fold(text))
