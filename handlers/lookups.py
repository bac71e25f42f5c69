"""What the secretary's flows look up alike: a business by the id that storage and buttons
carry, its name and zone, today's date, a mission kind's label; the picker of businesses
every flow shows, a page at a time, and lists of their names that fit in a message.

Storage and buttons name a business by its id, config by its slug; one dropped from config
since still has missions, shown under its slug.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot import paging
from bot.config import Business
from bot.missions import kind_label
from handlers.common import Deps


def kind_name(d: Deps, language: str, kind: str) -> str:
    return kind_label(d.i18n, language, kind)


def business_by_id(d: Deps, business_id: int) -> Business | None:
    return next(
        (b for b in d.settings.businesses if d.store.business_ids.get(b.slug) == business_id),
        None,
    )


def business_name(d: Deps, business_id: int) -> str:
    business = business_by_id(d, business_id)
    if business is not None:
        return business.name
    # Dropped from config since: its missions keep their history under its slug.
    return next((s for s, i in d.store.business_ids.items() if i == business_id), "?")


def business_id(d: Deps, business: Business) -> int:
    return d.store.business_ids[business.slug]


def business_zone(d: Deps, business_id: int, default: ZoneInfo) -> ZoneInfo:
    business = business_by_id(d, business_id)
    return d.settings.zone(business) if business else default


def office_zone(d: Deps) -> ZoneInfo:
    return ZoneInfo(d.settings.timezone)


def today(d: Deps, zone: ZoneInfo) -> date:
    return d.clock.now().astimezone(zone).date()


def turn_labels(d: Deps, language: str) -> paging.TurnLabels:
    return paging.TurnLabels(
        previous=d.i18n.text(language, "paging.previous"),
        position=d.i18n.text(language, "paging.position"),
        next=d.i18n.text(language, "paging.next"),
    )


def business_picker(
    d: Deps,
    language: str,
    data_of: Callable[[Business], str],
    turn: Callable[[int], str],
    page: int = 0,
    businesses: Sequence[Business] | None = None,
) -> list[list[tuple[str, str]]]:
    """A button a business (every one in config unless ``businesses`` are named), in config
    order, a page at a time: ``data_of`` is a business's button, ``turn(n)`` shows page n."""
    shown = d.settings.businesses if businesses is None else businesses
    choices = [(b.name, data_of(b)) for b in shown]
    return paging.picker_rows(choices, page, turn, turn_labels(d, language))


def business_buttons(
    d: Deps, language: str, prefix: str, page: int = 0
) -> list[list[tuple[str, str]]]:
    """The picker of a flow whose buttons carry the business's id: ``<prefix>:<id>``, its
    pages turned by ``<prefix>p:<page>`` (bot.callbacks)."""
    return business_picker(
        d, language, lambda b: f"{prefix}:{business_id(d, b)}", lambda n: f"{prefix}p:{n}", page
    )


def listing(d: Deps, language: str, names: Sequence[str]) -> str:
    """``a, b, c`` or, for many, the first few and ``and 492 more``: one message, however
    many businesses the office serves."""
    shown, more = paging.shortened(names)
    joined = ", ".join(shown)
    return d.i18n.text(language, "paging.and_more", names=joined, count=more) if more else joined
