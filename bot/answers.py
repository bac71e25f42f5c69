"""Which answer a patient's question gets: the business's own FAQ first, then what the bot
knows from config (a service's price and duration, the address, the phone, opening hours,
coming closures). None: nobody here knows, so the question goes to the office (pure).

Matching reads words without accents and forgives small typos ("parkng", "mutuel").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz

from bot.config import Business, FaqEntry, Service
from bot.handoff import plain


class Topic(StrEnum):
    PRICE = "price"
    ADDRESS = "address"
    PHONE = "phone"
    HOURS = "hours"
    CLOSURES = "closures"


@dataclass(frozen=True)
class Answer:
    topic: Topic | None = None
    faq: FaqEntry | None = None
    service: Service | None = None  # the service a price question names


# How close a word must be to a keyword (rapidfuzz ratio, 0-100) to count as it.
_CLOSE = 85

_TOPICS: dict[Topic, tuple[str, ...]] = {
    Topic.PRICE: (
        "prix",
        "combien",
        "tarif",
        "tarifs",
        "coute",
        "coutent",
        "cout",
        "price",
        "prices",
        "cost",
        "costs",
        "much",
        "fee",
        "fees",
    ),
    Topic.ADDRESS: (
        "adresse",
        "ou etes",
        "ou est",
        "ou se trouve",
        "situe",
        "situes",
        "comment venir",
        "acces",
        "address",
        "where",
        "located",
        "directions",
    ),
    Topic.PHONE: ("telephone", "tel", "numero", "appeler", "phone", "number", "call"),
    Topic.HOURS: (
        "horaires",
        "horaire",
        "heures",
        "ouvert",
        "ouverts",
        "ouvre",
        "ouverture",
        "hours",
        "open",
        "opening",
    ),
    Topic.CLOSURES: (
        "ferme",
        "fermes",
        "fermeture",
        "vacances",
        "conges",
        "closed",
        "holiday",
        "holidays",
        "vacation",
    ),
}
# Checked in this order: "combien coûte" is a price even with "où" in the sentence, and
# "fermé" says more than "ouvert".
_ORDER = (Topic.PRICE, Topic.CLOSURES, Topic.PHONE, Topic.HOURS, Topic.ADDRESS)


def _matches(words: list[str], keyword: str) -> bool:
    """A keyword (one word or several) found among the words, typos forgiven."""
    parts = plain(keyword).split()
    if not parts:
        return False
    for index in range(len(words) - len(parts) + 1):
        window = words[index : index + len(parts)]
        if all(_close(word, part) for word, part in zip(window, parts, strict=True)):
            return True
    return False


def _close(word: str, keyword: str) -> bool:
    if word == keyword:
        return True
    # Short words must match exactly: "ou" is not "eu", "tel" is not "tea".
    return min(len(word), len(keyword)) > 4 and fuzz.ratio(word, keyword) >= _CLOSE


def _faq(words: list[str], entries: list[FaqEntry]) -> FaqEntry | None:
    """The entry with the most of its keywords in the question (the first on a tie)."""
    best, score = None, 0
    for entry in entries:
        found = sum(_matches(words, keyword) for keyword in entry.keywords)
        if found > score:
            best, score = entry, found
    return best


def _service(words: list[str], business: Business) -> Service | None:
    for service in business.services:
        names = [service.name, *service.names.values(), *service.keywords]
        if any(_matches(words, name) for name in names):
            return service
    return None


def find_answer(text: str, business: Business) -> Answer | None:
    words = plain(text).split()
    entry = _faq(words, business.faq)
    if entry is not None:
        return Answer(faq=entry)
    for topic in _ORDER:
        if any(_matches(words, keyword) for keyword in _TOPICS[topic]):
            if topic == Topic.PRICE:
                return Answer(topic, service=_service(words, business))
            return Answer(topic)
    return None
