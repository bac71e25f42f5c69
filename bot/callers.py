"""Read what a secretary types about a phone caller: who, which number, and what they want.

"Mme Durand 06 12 34 56 78 détartrage mardi 10h" -> Mme Durand, +33 6 12 34 56 78, and a
request for a scaling on Tuesday at 10:00. Pure: no I/O, no clock of its own.

The phone number is found by ``phonenumbers`` (French numbers by default, any number written
with its +country code). The name is the run of words the text starts with: a civility
(Mme, M., Dr...) and the words after it, or capitalised words that the booking parser does not
read as a day, a time or a service ("Mardi" is a day, "Martin" a name). The rest goes to the
booking parser, ``bot.nlu.parse_request``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.agenda import Wanted
from bot.nlu import ServiceLike, parse_request

REGION = "FR"
_CIVILITIES = frozenset(
    ["m", "mr", "mme", "mlle", "madame", "monsieur", "mademoiselle", "mrs", "ms", "miss", "dr"]
)
# Lower-case words inside a name: "Anne de La Tour", "Jan van Dijk".
_PARTICLES = frozenset(["de", "du", "des", "la", "le", "van", "von", "der", "d'", "da", "di"])
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:[-'’.][^\W\d_]*)*$")
_WORD = re.compile(r"\S+")
_SEPARATORS = " \t\n,;:-–—"
_MOST_NAME_WORDS = 5


@dataclass(frozen=True)
class Caller:
    name: str | None
    phone: str | None  # international format: "+33 6 12 34 56 78"
    rest: str  # the text without the name and the phone


@dataclass(frozen=True)
class CallerRequest:
    name: str | None
    phone: str | None
    service: str | None  # key of a configured service
    wanted: Wanted


def _phone_span(text: str, region: str) -> tuple[str, tuple[int, int]] | None:
    # Imported by the first call taken: its sixty modules of numbering plans are no part of
    # starting the bot.
    import phonenumbers

    for match in phonenumbers.PhoneNumberMatcher(text, region):
        formatted = phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        return formatted, (match.start, match.end)
    return None


def _means_something(word: str, now: datetime, services: Sequence[ServiceLike]) -> bool:
    """True for a word the booking parser reads as a day, a time or a service."""
    request = parse_request(word, now, services)
    return request.day_from is not None or request.time_from is not None or bool(request.service)


def _name_span(
    text: str,
    now: datetime,
    services: Sequence[ServiceLike],
    stop_at: int,
) -> tuple[str, tuple[int, int]] | None:
    """The name the text starts with, and where it is; None when it starts otherwise."""
    words = [m for m in _WORD.finditer(text) if m.end() <= stop_at]
    taken: list[re.Match[str]] = []
    after_civility = False
    for index, match in enumerate(words[: _MOST_NAME_WORDS + 1]):
        raw = match.group()
        word = raw.rstrip(",;:")
        if not word or not _NAME_WORD.match(word):
            break
        bare = word.rstrip(".").lower()
        following = words[index + 1].group() if index + 1 < len(words) else ""
        if bare in _CIVILITIES and not taken:
            after_civility = True
        elif after_civility and len(taken) == 1:
            # "Mme durand", "Mme Noël": after a civility comes a name, whatever it looks like.
            pass
        elif word.lower() in _PARTICLES and taken and following[:1].isupper():
            pass
        elif not word[0].isupper() or _means_something(word, now, services):
            break
        taken.append(match)
        if raw != word:  # "Durand," ends the name
            break
    while taken and taken[-1].group().rstrip(",;:").lower() in _PARTICLES:
        taken.pop()
    names = [m for m in taken if m.group().rstrip(",;:.").lower() not in _CIVILITIES]
    if not names or len(taken) > _MOST_NAME_WORDS:
        return None
    name = " ".join(m.group().rstrip(",;:") for m in taken)
    return name, (taken[0].start(), taken[-1].end())


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    kept, position = [], 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return " ".join(" ".join(kept).split()).strip(_SEPARATORS)


def read_caller(
    text: str,
    now: datetime,
    services: Sequence[ServiceLike] = (),
    *,
    region: str = REGION,
    with_name: bool = True,
) -> Caller:
    """The caller's name and phone in ``text``; ``with_name=False`` when the name is known
    already and the whole text is about something else ("Rappeler demain" is no name)."""
    spans: list[tuple[int, int]] = []
    phone = None
    found_phone = _phone_span(text, region)
    if found_phone is not None:
        phone, phone_span = found_phone
        spans.append(phone_span)
    name = None
    if with_name:
        # The name comes before the number when both are there: "Mme Durand 06 12 34 56 78".
        stop_at = spans[0][0] if spans and spans[0][0] > 0 else len(text)
        start_at = spans[0][1] if spans and spans[0][0] == 0 else 0
        found_name = _name_span(text[start_at:stop_at], now, services, stop_at - start_at)
        if found_name is not None:
            name, (first, last) = found_name
            spans.append((first + start_at, last + start_at))
    if found_phone is not None and not _beside(text, spans):
        # "… rappeler au 06 12 34 56 78": the number is part of the message too.
        spans.remove(found_phone[1])
    return Caller(name, phone, _without(text, spans))


def _beside(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether the spans (name, number) touch: only spaces and punctuation between them, or
    the number alone at the start."""
    if len(spans) == 1:
        return not text[: spans[0][0]].strip(" ,;:-–")
    (_, first_end), (second_start, _) = sorted(spans)
    return not text[first_end:second_start].strip(" ,;:-–")


def read_booking(
    text: str,
    now: datetime,
    services: Sequence[ServiceLike],
    practitioners: Sequence[str] = (),
    *,
    region: str = REGION,
    with_name: bool = True,
) -> CallerRequest:
    """A phone caller's booking: who, their number, the service, the day and time, and the
    practitioner if one is named ("avec le Dr Martin").

    ``now`` is aware and local to the business: days and times are read in its zone.
    """
    caller = read_caller(text, now, services, region=region, with_name=with_name)
    request = parse_request(caller.rest, now, services, practitioners) if caller.rest else None
    if request is None:
        return CallerRequest(caller.name, caller.phone, None, Wanted())
    return CallerRequest(
        caller.name,
        caller.phone,
        request.service,
        Wanted(
            request.day_from,
            request.day_to,
            request.time_from,
            request.time_to,
            request.practitioner,
        ),
    )
