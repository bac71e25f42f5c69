"""What the secretary's flows look up alike: a business by the id that storage and buttons
carry, its name and zone, today's date, a mission kind's label.

Storage and buttons name a business by its id, config by its slug; one dropped from config
since still has missions, shown under its slug.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

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


def business_buttons(d: Deps, prefix: str) -> list[list[tuple[str, str]]]:
    return [[(b.name, f"{prefix}:{business_id(d, b)}")] for b in d.settings.businesses]
