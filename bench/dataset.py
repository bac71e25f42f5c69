"""Years of appointments written straight into a store's file: what the benches that grow
the database share.

The schema comes from the store's migrations; the rows go in through plain sqlite3, a million
in seconds. Each business has two practitioners, "A" and "B", booked side by side in
half-hour slots from 08:00 UTC. What started before ``now`` is done; what starts later is
confirmed, or requested when asked for recently.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

PRACTITIONERS = ("A", "B")
SERVICE = "consultation"
SLOT = 1800


@dataclass(frozen=True)
class Span:
    """Businesses ``first`` to ``last`` booked every day from ``start`` for ``days`` days."""

    first: int
    last: int
    start: datetime
    days: int
    per_day: int


def appointment_rows(
    span: Span, now: datetime, *, limit: int | None = None, patients: int = 1
) -> Iterator[tuple]:
    """The rows of ``span``, ``limit`` at most, their patients drawn from ``patients``.

    Half of the next four days' appointments are requests asked within the last hour (as the
    bot expires and escalates older ones, a steady state has none older); every other one
    was booked a week ahead.
    """
    random.seed(7)
    stamp = int(now.timestamp())
    recent = stamp + 4 * 86400
    count = 0
    for business in range(span.first, span.last + 1):
        for day in range(span.days):
            opening = int((span.start + timedelta(days=day, hours=8)).timestamp())
            for slot in range(span.per_day):
                if count == limit:
                    return
                start = opening + (slot // 2) * SLOT
                status = "done" if start < stamp else random.choice(("confirmed", "requested"))
                asked = start - 86400 * 7
                if status == "requested":
                    if start < recent:
                        asked = stamp - random.randrange(60, 3600)
                    else:
                        status = "confirmed"
                yield (
                    business,
                    PRACTITIONERS[slot % 2],
                    SERVICE,
                    start,
                    start + SLOT,
                    status,
                    "patient",
                    random.randrange(1, patients + 1),
                    asked,
                    asked,
                    asked,
                )
                count += 1


def fill(
    path: Path,
    spans: list[Span],
    now: datetime,
    *,
    limit: int | None = None,
    patients: int = 1,
    history: bool = False,
) -> int:
    """Write ``patients`` people and the appointments of ``spans`` (``limit`` at most in
    the first); with ``history``, each appointment's booking in its history. Returns how
    many appointments were written."""
    written = 0
    with sqlite3.connect(path) as db:
        # Indexes built once at the end, and triggers that would change nothing here (every
        # person is a patient already) left out meanwhile: a few times faster than row by row.
        later = db.execute(
            """SELECT name, type, sql FROM sqlite_master WHERE tbl_name = 'appointments'
               AND type IN ('index', 'trigger') AND sql IS NOT NULL"""
        ).fetchall()
        for name, kind, _ in later:
            db.execute(f"DROP {kind.upper()} {name}")
        db.executemany(
            """INSERT INTO people (telegram_id, first_name, language, created_at, last_seen_at,
                   patient) VALUES (?, ?, 'fr', 0, 0, 1)""",
            ((number, f"Patient{number}") for number in range(1, patients + 1)),
        )
        for index, span in enumerate(spans):
            rows = list(
                appointment_rows(span, now, limit=limit if index == 0 else None, patients=patients)
            )
            db.executemany(
                """INSERT INTO appointments (business_id, practitioner, service, starts_at,
                       ends_at, status, source, patient_id, created_at, updated_at, scheduled_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
            written += len(rows)
        if history:
            db.execute(
                """INSERT INTO appointment_history (appointment_id, at, actor, from_status,
                       to_status, business_id)
                   SELECT id, created_at, patient_id, NULL, status, business_id
                   FROM appointments"""
            )
        for _, _, sql in later:
            db.execute(sql)
    return written


def remind_all_but(path: Path, now: datetime, left: int) -> int:
    """Mark every confirmed appointment of the next 48 hours reminded, but for the first
    ``left``, as in steady state. Returns how many appointments that window holds."""
    stamp = int(now.timestamp())
    with sqlite3.connect(path) as db:
        window = db.execute(
            """SELECT id, starts_at FROM appointments WHERE status = 'confirmed'
               AND starts_at > ? AND starts_at <= ? ORDER BY id""",
            (stamp, stamp + 48 * 3600),
        ).fetchall()
        db.executemany(
            """INSERT INTO reminders_sent (appointment_id, offset_minutes, starts_at, claimed_at,
                   sent_at) VALUES (?, ?, ?, ?, ?)""",
            [(i, 2880 if s > stamp + 7200 else 120, s, stamp, stamp) for i, s in window[left:]],
        )
    return len(window)
