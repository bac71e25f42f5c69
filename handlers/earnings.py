"""/gains: what the secretary earned, this month so far and the twelve before, by business and
beside last year's, as text and as a chart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from babel.numbers import format_currency
from telegram import Update
from telegram.ext import ContextTypes

from bot.earnings_chart import Series, render_chart
from bot.missions import Month, earnings_by_month, month_label, short_month_label
from handlers import lookups, steps
from handlers.common import deps

MONTHS_SHOWN = 12  # /gains: the full months before this one


async def earnings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """This month so far and the last twelve, by business, with last year's where known."""
    if not await steps.allowed(update, context):
        return
    d = deps(context)
    language = steps.language_of(context, update.effective_user)
    steps.forget(context)
    zone = lookups.office_zone(d)
    today = lookups.today(d, zone)
    current = Month.of(today)
    months = [current.shift(-n) for n in range(MONTHS_SHOWN, -1, -1)]
    # Two years back, a day of margin each side for businesses in other zones.
    first = months[0].shift(-12).bounds(zone)[0] - timedelta(days=1)
    entries = await d.store.missions.earnings(first, d.clock.now() + timedelta(days=1))
    table = earnings_by_month(entries, lambda b: lookups.business_zone(d, b, zone))

    def total(month: Month) -> int:
        return sum(table.get(month, {}).values())

    def money(cents: int) -> str:
        return d.i18n.money(language, cents)

    lines = [d.i18n.text(language, "earnings.title")]
    lines.append(
        d.i18n.text(
            language,
            "earnings.this_month",
            day=d.i18n.day(language, today),
            total=money(total(current)),
        )
    )
    for business_id, cents in sorted(table.get(current, {}).items()):
        lines.append(
            d.i18n.text(
                language,
                "earnings.business_line",
                business=lookups.business_name(d, business_id),
                total=money(cents),
            )
        )
    if total(current.shift(-12)):
        lines.append(
            d.i18n.text(
                language,
                "earnings.last_year",
                month=month_label(language, current.shift(-12)),
                total=money(total(current.shift(-12))),
            )
        )
    past = months[:-1]
    year_total = sum(total(m) for m in past)
    lines.append("")
    lines.append(
        d.i18n.text(
            language,
            "earnings.twelve",
            total=money(year_total),
            average=money(round(year_total / MONTHS_SHOWN)),
        )
    )
    by_business: dict[int, int] = {}
    for month in past:
        for business_id, cents in table.get(month, {}).items():
            by_business[business_id] = by_business.get(business_id, 0) + cents
    for business_id, cents in sorted(by_business.items()):
        lines.append(
            d.i18n.text(
                language,
                "earnings.business_line",
                business=lookups.business_name(d, business_id),
                total=money(cents),
            )
        )
    for month in reversed(past):
        before = month.shift(-12)
        if not total(month) and not total(before):
            continue  # the chart shows the empty months; the list keeps to those that earned
        line = d.i18n.text(
            language,
            "earnings.month_line",
            month=month_label(language, month),
            total=money(total(month)),
        )
        if total(before):
            line += " " + d.i18n.text(
                language,
                "earnings.month_before",
                month=month_label(language, before),
                total=money(total(before)),
            )
        lines.append(line)
    await update.effective_message.reply_text("\n".join(lines))

    businesses = sorted({b for m in months for b in table.get(m, {})})
    png = await asyncio.to_thread(
        render_chart,
        months=[short_month_label(language, m) for m in months],
        series=[
            Series(lookups.business_name(d, b), [table.get(m, {}).get(b, 0) for m in months])
            for b in businesses
        ],
        last_year=[total(m.shift(-12)) or None for m in months],
        title=d.i18n.text(language, "earnings.chart_title"),
        last_year_label=d.i18n.text(language, "earnings.chart_last_year"),
        money=lambda euros: format_currency(
            euros, "EUR", format="#,##0 ¤", locale=language, currency_digits=False
        ),
    )
    await update.effective_message.reply_photo(photo=png, filename=f"gains-{current}.png")
