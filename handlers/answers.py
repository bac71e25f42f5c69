"""The answers the bot gives to a patient's question itself: the business's FAQ, a service's
price and duration, the address with a map, the phone, opening hours and coming closures.
What none of these answers goes to the office (``handlers.handoff``)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote_plus

from bot.answers import Answer, Topic, find_answer
from bot.config import WEEKDAYS, Business, Service
from handlers.common import Deps

# Closures further ahead than this are not "coming" yet.
_COMING = timedelta(days=120)


def opening_hours(d: Deps, language: str, business: Business) -> str:
    lines = []
    for index, weekday in enumerate(WEEKDAYS):
        ranges = business.hours.get(weekday)
        if ranges:
            name = d.i18n.weekday(language, index)
            lines.append(f"{name} {', '.join(str(r) for r in ranges)}")
    return "\n".join(lines)


def _map_link(address: str) -> str:
    return f"https://www.openstreetmap.org/search?query={quote_plus(address)}"


def _price(d: Deps, language: str, service: Service) -> str:
    values = {"service": service.name_in(language), "duration": service.duration}
    if service.price is None:
        return d.i18n.text(language, "answer.price_unknown", **values)
    return d.i18n.text(
        language, "answer.price", price=d.i18n.money(language, service.price * 100), **values
    )


def _prices(d: Deps, language: str, business: Business) -> str:
    lines = [
        d.i18n.text(
            language,
            "answer.price_line",
            service=service.name_in(language),
            price=d.i18n.money(language, service.price * 100),
            duration=service.duration,
        )
        for service in business.services
        if service.price is not None
    ]
    return d.i18n.text(language, "answer.prices", business=business.name, lines="\n".join(lines))


def _closures(d: Deps, language: str, business: Business) -> str:
    today = d.booking.today(business)
    coming = [c for c in business.closed if c.last >= today and c.first <= today + _COMING]
    if not coming:
        return d.i18n.text(language, "answer.no_closure", business=business.name)
    lines = [
        d.i18n.text(
            language,
            "answer.closure",
            first=d.i18n.day(language, closure.first),
            last=d.i18n.day(language, closure.last),
        )
        for closure in coming
    ]
    return d.i18n.text(
        language, "answer.closures", business=business.name, closures="\n".join(lines)
    )


def answer_text(d: Deps, language: str, business: Business, question: str) -> str | None:
    """The bot's own answer to ``question``, or None: nobody here knows."""
    found: Answer | None = find_answer(question, business)
    if found is None:
        return None
    if found.faq is not None:
        return found.faq.answer_in(language)
    if found.topic == Topic.PRICE:
        return (
            _price(d, language, found.service) if found.service else _prices(d, language, business)
        )
    if found.topic == Topic.ADDRESS:
        return d.i18n.text(
            language,
            "answer.address",
            business=business.name,
            address=business.address,
            map=_map_link(business.address),
        )
    if found.topic == Topic.PHONE:
        return d.i18n.text(language, "answer.phone", business=business.name, phone=business.phone)
    if found.topic == Topic.HOURS:
        return d.i18n.text(
            language,
            "answer.hours",
            business=business.name,
            hours=opening_hours(d, language, business),
        )
    return _closures(d, language, business)
