"""The employer's journal: what the secretaries did for a business, told in plain words.

Pure: the entries come from the audit log (``storage.audit``), the words from the
catalogues. Each entry carries the state it changed as it was then (the appointment's
service and time, the block's hours, the caller's name, the mission), so the journal reads
the same later, whatever became of the appointment or the mission since.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Business
from bot.i18n import I18n
from bot.missions import kind_label
from storage.audit import AuditEntry

log = logging.getLogger(__name__)

# How many days back each word of ``/journal`` reaches, today included.
PERIOD_DAYS = {"jour": 1, "day": 1, "semaine": 7, "week": 7, "mois": 30, "month": 30}
DEFAULT_DAYS = 1
# A month of a busy office is hundreds of lines: the most recent ones, and how many were left.
SHOWN = 300


def first_day(today: date, days: int) -> date:
    """The first day of a period of ``days`` days that ends today."""
    return today - timedelta(days=days - 1)


class _Words:
    """The values every line of one journal is written with."""

    def __init__(
        self,
        i18n: I18n,
        language: str,
        business: Business,
        zone: ZoneInfo,
        secretaries: Mapping[int, str],
    ):
        self.i18n = i18n
        self.language = language
        self.business = business
        self.zone = zone
        self.secretaries = secretaries

    def text(self, key: str, **values: object) -> str:
        return self.i18n.text(self.language, key, **values)

    def local(self, recorded: str) -> datetime:
        """An instant as the audit log keeps it (ISO 8601, UTC), in the business's zone."""
        return datetime.fromisoformat(recorded).astimezone(self.zone)

    def who(self, actor: int) -> str:
        return self.secretaries.get(actor) or self.text("journal.someone")

    def appointment(self, state: Mapping[str, Any]) -> dict[str, str]:
        starts = self.local(state["starts_at"])
        service = self.business.service(state["service"])
        return {
            "service": service.name_in(self.language) if service else state["service"],
            "day": self.i18n.day(self.language, starts),
            "time": self.i18n.time(self.language, starts),
            "practitioner": state["practitioner"],
        }

    def block(self, state: Mapping[str, Any]) -> dict[str, str]:
        starts, ends = self.local(state["starts_at"]), self.local(state["ends_at"])
        return {
            "day": self.i18n.day(self.language, starts),
            "start": self.i18n.time(self.language, starts),
            "end": self.i18n.time(self.language, ends),
            "whom": state["practitioner"] or self.text("journal.everyone"),
            "reason": state["reason"] or "—",
        }

    def mission(self, state: Mapping[str, Any]) -> dict[str, str]:
        return {
            "kind": kind_label(self.i18n, self.language, state["kind"]),
            "description": state["description"],
            "fee": self.i18n.money(self.language, state["fee"]),
        }


def _appointment_line(key: str) -> Callable[[_Words, AuditEntry], str]:
    def line(words: _Words, entry: AuditEntry) -> str:
        return words.text(key, **words.appointment(entry.after))

    return line


def _proposal(words: _Words, entry: AuditEntry) -> str:
    asked = words.appointment(entry.before)
    return words.text(
        "journal.request_propose",
        asked_day=asked["day"],
        asked_time=asked["time"],
        **words.appointment(entry.after["proposed"]),
    )


def _phone_booking(words: _Words, entry: AuditEntry) -> str:
    return words.text(
        "journal.book_phone", caller=entry.after["caller_name"], **words.appointment(entry.after)
    )


def _late(key: str) -> Callable[[_Words, AuditEntry], str]:
    def line(words: _Words, entry: AuditEntry) -> str:
        return words.text(key, **words.appointment(entry.before))

    return line


def _office_move(words: _Words, entry: AuditEntry) -> str:
    moved = words.appointment(entry.after)
    return words.text(
        "journal.office_move",
        new_day=moved["day"],
        new_time=moved["time"],
        new_practitioner=moved["practitioner"],
        **words.appointment(entry.before),
    )


def _block_added(words: _Words, entry: AuditEntry) -> str:
    return words.text("journal.block_add", **words.block(entry.after))


def _block_lifted(words: _Words, entry: AuditEntry) -> str:
    return words.text("journal.block_remove", **words.block(entry.before))


def _call(words: _Words, entry: AuditEntry) -> str:
    key = "journal.call_urgent" if entry.after["urgent"] else "journal.call"
    return words.text(key, caller=entry.after["caller_name"])


def _mission(key: str) -> Callable[[_Words, AuditEntry], str]:
    def line(words: _Words, entry: AuditEntry) -> str:
        return words.text(key, **words.mission(entry.after))

    return line


# Every action the handlers record for a business, and how it reads; an action not here
# (none today) stays in the audit log and out of the journal.
_LINES: dict[str, Callable[[_Words, AuditEntry], str]] = {
    "request.confirm": _appointment_line("journal.request_confirm"),
    "request.decline": _appointment_line("journal.request_decline"),
    "request.propose": _proposal,
    "appointment.book_phone": _phone_booking,
    "appointment.done": _appointment_line("journal.appointment_done"),
    "appointment.no_show": _appointment_line("journal.appointment_no_show"),
    "late.cancel": _late("journal.late_cancel"),
    "late.keep": _late("journal.late_keep"),
    "appointment.book": _appointment_line("journal.office_book"),
    "appointment.move": _office_move,
    "appointment.cancel": _late("journal.office_cancel"),
    "block.add": _block_added,
    "block.remove": _block_lifted,
    "call.take": _call,
    "mission.create": _mission("journal.mission_create"),
    "mission.start": _mission("journal.mission_start"),
    "mission.done": _mission("journal.mission_done"),
    "mission.cancel": _mission("journal.mission_cancel"),
}
KNOWN_ACTIONS = frozenset(_LINES)


def write_journal(
    i18n: I18n,
    language: str,
    business: Business,
    zone: ZoneInfo,
    days: tuple[date, date],
    entries: Sequence[AuditEntry],
    secretaries: Mapping[int, str],
) -> str:
    """The journal of ``business`` from ``days[0]`` to ``days[1]``, entries oldest first,
    grouped by day; the title says the period, each line the time and who did what."""
    words = _Words(i18n, language, business, zone, secretaries)
    first, last = days
    if first == last:
        period = i18n.day(language, first)
    else:
        period = i18n.text(
            language,
            "journal.period",
            first=i18n.day(language, first),
            last=i18n.day(language, last),
        )
    parts = [i18n.text(language, "journal.title", business=business.name, period=period)]
    lines: list[tuple[date, str]] = []
    for entry in entries:
        line = _line(words, entry)
        if line is not None:
            lines.append((entry.at.astimezone(zone).date(), line))
    if not lines:
        parts.append(i18n.text(language, "journal.nothing"))
        return "\n".join(parts)
    parts.append(i18n.text(language, "journal.count", count=len(lines)))
    if len(lines) > SHOWN:
        parts.append(i18n.text(language, "journal.earlier", count=len(lines) - SHOWN))
        lines = lines[-SHOWN:]
    shown_day = None
    for day, line in lines:
        if day != shown_day:
            parts.append(i18n.text(language, "journal.day", day=i18n.day(language, day)))
            shown_day = day
        parts.append(line)
    return "\n".join(parts)


def _line(words: _Words, entry: AuditEntry) -> str | None:
    """``09:05 · Claire a confirmé ...``; None for an action the journal does not tell, or an
    entry without what its action should hold (one written by an older version)."""
    write = _LINES.get(entry.action)
    if write is None:
        return None
    try:
        said = write(words, entry)
    except (KeyError, TypeError, ValueError) as error:
        log.warning("audit entry %s (%s) not in the journal: %r", entry.id, entry.action, error)
        return None
    return words.text(
        "journal.line",
        time=words.i18n.time(words.language, entry.at.astimezone(words.zone)),
        secretary=words.who(entry.actor),
        did=said,
    )
