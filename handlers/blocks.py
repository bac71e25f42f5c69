"""Blocked time: hours nobody may book (a training, a holiday), set and lifted by a
secretary with /bloquer and /debloquer; the agenda shows them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks, office
from bot.config import Business
from bot.nlu import parse_request
from handlers import office as office_handlers
from handlers import waitlist
from handlers.agenda import block_line
from handlers.common import Deps, appointment_values, deps, keyboard, reply, staff_language
from handlers.staff import (
    audit,
    business_slugs,
    contact_of,
    find_business,
    patient_of,
    require_secretary,
)
from storage.blocks import Block, NewBlock

log = logging.getLogger(__name__)

# The soonest blocks /debloquer offers to lift, one button each.
BLOCKS_SHOWN = 20
# A block's reason is shown in the agenda, the summary and the digest: a line, not a letter.
REASON_LIMIT = 200
_HOURS = re.compile(
    r"\b(?P<h1>\d{1,2})\s*[h:]\s*(?P<m1>\d{2})?\s*(?:-|–|à|a|to)\s*"
    r"(?P<h2>\d{1,2})\s*(?:[h:]\s*(?P<m2>\d{2})?)?",
    re.IGNORECASE,
)
_ALL_DAY = re.compile(
    r"(?:toute\s+la\s+)?journ[ée]e(?:\s+enti[èe]re)?|\ball\s+day\b|\bwhole\s+day\b",
    re.IGNORECASE,
)


# -- blocked time: /bloquer <business> <day> <hours> [practitioner] [reason], and its undo ------


@dataclass(frozen=True)
class _BlockAsk:
    business: Business
    spans: list[tuple[datetime, datetime]]  # one a day over several days with hours
    practitioner: str | None
    reason: str | None


def _practitioner_named(business: Business, text: str) -> tuple[str | None, str]:
    """The practitioner named anywhere in the words ("Dr Martin du 1er au 5"), and the
    words without the name."""
    lowered = text.lower()
    for practitioner in sorted(business.practitioners, key=len, reverse=True):
        at = lowered.find(practitioner.lower())
        if at >= 0:
            rest = f"{text[:at]} {text[at + len(practitioner) :]}"
            return practitioner, " ".join(rest.split())
    return None, text


def _read_block(d: Deps, words: list[str]) -> _BlockAsk | str:
    """The block asked for, or the key of the message saying what is wrong: one day or a
    range of days ("du 1er au 5 février"), with hours or for whole days."""
    business = find_business(d, words[0]) if words else None
    if business is None and len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    elif business is None:
        return "block.usage"
    else:
        words = words[1:]
    practitioner, text = _practitioner_named(business, " ".join(words))
    zone = d.booking.rules[business.slug].zone
    now = d.clock.now().astimezone(zone)
    hours = _HOURS.search(text) or _ALL_DAY.search(text)
    if hours is None:
        days_text, rest = office.split_reason(text)
        request = parse_request(days_text or text, now)
        if request.day_from is None or request.day_from == request.day_to:
            return "block.usage"  # one day needs its hours, or "journée"
    else:
        request = parse_request(text[: hours.start()], now)
        rest = text[hours.end() :]
        if request.day_from is None:
            return "block.bad_day"
    first_day, last_day = request.day_from, request.day_to or request.day_from
    if hours is not None and "h1" in hours.groupdict():
        try:
            first = time(int(hours["h1"]), int(hours["m1"] or 0))
            last = time(int(hours["h2"]), int(hours["m2"] or 0)) if hours["h2"] != "24" else None
        except ValueError:
            return "block.bad_hours"
        spans = []
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            end_day, end_time = (day, last) if last is not None else (day + timedelta(1), time.min)
            spans.append(
                (
                    datetime.combine(day, first, tzinfo=zone),
                    datetime.combine(end_day, end_time, tzinfo=zone),
                )
            )
    else:
        spans = [
            (
                datetime.combine(first_day, time.min, tzinfo=zone),
                datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone),
            )
        ]
    if any(end <= start for start, end in spans):
        return "block.bad_hours"
    spans = [(start, end) for start, end in spans if end > now]
    if not spans:
        return "block.past"
    rest = rest.strip(" -–:,")
    if len(rest) > REASON_LIMIT:
        return "block.long_reason"
    return _BlockAsk(business, spans, practitioner, rest or None)


def _block_record(block: Block) -> dict[str, object]:
    return {
        "business_id": block.business_id,
        "practitioner": block.practitioner,
        "starts_at": block.starts_at,
        "ends_at": block.ends_at,
        "reason": block.reason,
    }


def _block_summary(d: Deps, language: str, blocks: list[Block], business: Business) -> str:
    """One block, or a series of them, as one: its days, and its hours on each."""
    block = blocks[0]
    start = d.booking.local(business, block.starts_at)
    end = d.booking.local(business, block.ends_at)
    last = d.booking.local(business, blocks[-1].ends_at - timedelta(seconds=1))
    line = block_line(d, language, block, start, end)
    if last.date() == start.date():
        day = d.i18n.day(language, start)
        return d.i18n.text(language, "block.summary", business=business.name, day=day, line=line)
    return d.i18n.text(
        language,
        "office.block_range_summary",
        business=business.name,
        first=d.i18n.day(language, start),
        last=d.i18n.day(language, last),
        line=line,
    )


async def block(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    asked = _read_block(d, list(context.args or []))
    if isinstance(asked, str):
        # Business and day only: the reason typed after them is the office's own words.
        shown = (context.args or [])[:2]
        log.info("secretary %s: /bloquer %r not understood (%s)", user.id, shown, asked)
        await update.effective_message.reply_text(
            d.i18n.text(language, asked, businesses=business_slugs(d, language), limit=REASON_LIMIT)
        )
        return
    business = asked.business
    added = await d.store.blocks.add_series(
        [
            NewBlock(
                business_id=d.booking.business_id(business),
                starts_at=start,
                ends_at=end,
                practitioner=asked.practitioner,
                reason=asked.reason,
            )
            for start, end in asked.spans
        ],
        actor=user.id,
        now=d.clock.now(),
    )
    for one in added:
        await audit(d, user.id, "block.add", f"block:{one.id}", None, _block_record(one))
    lines = [d.i18n.text(language, "block.done"), _block_summary(d, language, added, business)]
    inside = await office.hit_by(d.booking, added)
    rows = []
    if inside and len(added) == 1 and added[0].ends_at - added[0].starts_at <= timedelta(days=1):
        lines.append(d.i18n.text(language, "block.to_move", count=len(inside)))
        for appointment in inside:
            values = appointment_values(d, language, appointment, business)
            who = contact_of(appointment, await patient_of(d, appointment))
            lines.append(d.i18n.text(language, "block.to_move_line", who=who, **values))
    elif inside:
        hits = [(a, contact_of(a, await patient_of(d, a))) for a in inside]
        lines += office_handlers.hits_text(d, language, hits)
    if inside:
        rows = office_handlers.hits_buttons(d, language, added[0])
    undo = [(d.i18n.text(language, "block.undo"), f"blk:undo:{added[0].id}")]
    await update.effective_message.reply_text("\n".join(lines), reply_markup=keyboard(*rows, undo))


async def unblock(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/debloquer [business]``: the blocks still ahead, each with its undo button."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    language = staff_language(context, update.effective_user.id)
    named = find_business(d, context.args[0]) if context.args else None
    now = d.clock.now()
    ahead: list[tuple[Block, Business]] = []
    for business in [named] if named is not None else d.settings.businesses:
        horizon = now + d.settings.horizon(business)
        for found in await d.store.blocks.overlapping(
            d.booking.business_id(business), now, horizon
        ):
            ahead.append((found, business))
    if not ahead:
        await update.effective_message.reply_text(d.i18n.text(language, "block.none"))
        return
    ahead.sort(key=lambda pair: pair[0].starts_at)
    # A series is lifted as one: offered once, by its first day still ahead.
    firsts: list[tuple[Block, Business]] = []
    series_seen: set[int] = set()
    for found, business in ahead:
        if found.series is not None:
            if found.series in series_seen:
                continue
            series_seen.add(found.series)
        firsts.append((found, business))
    ahead = firsts
    buttons = []
    for found, business in ahead[:BLOCKS_SHOWN]:
        start = d.booking.local(business, found.starts_at)
        label = d.i18n.text(
            language,
            "block.undo_one",
            day=d.i18n.short_day(language, start),
            time=d.i18n.time(language, start),
            business=business.name,
        )
        buttons.append([(label, f"blk:undo:{found.id}")])
    await update.effective_message.reply_text(
        d.i18n.text(language, "block.which"), reply_markup=keyboard(*buttons)
    )


async def unblock_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``blk:undo:<id>``: lift the block; patients may book that time again."""
    if not await require_secretary(update, context):
        return
    d = deps(context)
    user = update.effective_user
    language = staff_language(context, user.id)
    (block_id,) = callbacks.read(update.callback_query.data, "blk:undo")
    lifted = await d.store.blocks.remove(block_id, now=d.clock.now())
    if lifted is None:
        await update.callback_query.answer(
            d.i18n.text(language, "block.already_lifted"), show_alert=True
        )
        return
    await audit(
        d,
        user.id,
        "block.remove",
        f"block:{lifted.id}",
        _block_record(lifted),
        {**_block_record(lifted), "removed_at": d.clock.now()},
    )
    business = d.settings.business(d.store.business_slug(lifted.business_id))
    text = d.i18n.text(language, "block.lifted")
    if business is not None:
        text += "\n" + _block_summary(d, language, await d.store.blocks.series(lifted), business)
    await reply(update, text)
    await waitlist.offer_freed(context)
