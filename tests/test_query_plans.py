"""Every hot path reads through indexes, its time ranges bounded on both sides.

The hot paths are ``bench.hot``'s, the ones ``bench.growth`` times at a million appointments;
here on a small generated database, as SQLite plans them whatever the size (no ANALYZE is
run, by the bench or the bot: the plans do not depend on statistics gathered).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from telegram.ext import CallbackContext

from bench.dataset import Span, fill, remind_all_but
from bench.hot import HOT, converse
from storage.plans import Plan, explain, partial_indexes, recorded
from tests.conftest import MONDAY_9AM


def _flagged(plans: list[Plan], partial: frozenset[str]) -> list[tuple[str, list[str]]]:
    return [
        (p.sql, p.scans(partial) + p.one_sided())
        for p in plans
        if p.scans(partial) or p.one_sided()
    ]


async def test_every_hot_path_reads_through_indexes_with_bounded_time_ranges(
    settings, store, bot, tg
):
    start = MONDAY_9AM - timedelta(days=60)
    spans = [Span(1, len(settings.businesses), start, 120, 14)]
    fill(Path(settings.database), spans, MONDAY_9AM, patients=50, history=True)
    remind_all_but(Path(settings.database), MONDAY_9AM, 0)
    context = CallbackContext(bot)
    business = settings.businesses[0]
    async with recorded(store.db) as statements:
        for number, hot in enumerate(HOT, start=1):
            action = await hot.ready(context, business, MONDAY_9AM.date() + timedelta(1), number)
            await action()
        await converse(tg, 7001, business.slug, 15)
    plans = await explain(store.db, statements)
    partial = await partial_indexes(store.db)
    read = " ".join(plan.sql for plan in plans)
    # What each hot path is known by ran: busy time, the overlap check, the summary's day.
    assert "FROM appointments" in read and "FROM blocks" in read
    assert "INSERT INTO appointment_history" in read and "FROM outbox" in read
    assert _flagged(plans, partial) == []


def test_a_scan_or_a_range_open_on_one_side_is_flagged():
    whole = Plan("SELECT * FROM appointments a WHERE ends_at < ?", ("SCAN a",))
    assert whole.scans() == ["SCAN a"]
    half = Plan(
        "SELECT * FROM appointments WHERE business_id = ? AND starts_at < ?",
        ("SEARCH appointments USING INDEX appointments_by_time (business_id=? AND starts_at<?)",),
    )
    assert half.one_sided() == list(half.steps)
    bounded = "(business_id=? AND starts_at>? AND starts_at<?)"
    both = Plan(
        "SELECT * FROM appointments WHERE business_id = ? AND starts_at > ? AND starts_at < ?",
        (f"SEARCH appointments USING INDEX appointments_by_time {bounded}",),
    )
    assert both.one_sided() == [] and both.scans() == []
    waiting = Plan(
        "SELECT * FROM appointments WHERE status = ? AND scheduled_at <= ?",
        ("SEARCH appointments USING INDEX appointments_requested_by_age (scheduled_at<?)",),
    )
    assert waiting.one_sided() == []
