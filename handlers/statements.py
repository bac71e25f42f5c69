"""/releve: a business's month of done missions, as a message, a CSV, and the Factur-X invoices
issued for it; an invoiced mission is locked.

Its buttons (``m:r`` another month, ``m:i`` issue the invoice) share the ``m:`` prefix with
the missions'.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import facturx
from bot.config import Business
from bot.invoice import StatementRow, long_date, short_date, statement_csv
from bot.missions import InputError, Month, invoice_number, month_label, totals_by_kind
from handlers import lookups, steps
from handlers.common import Deps, deps, keyboard, reply, telegram_length
from storage.missions import Invoice, Mission, Party

log = logging.getLogger(__name__)

# Characters of mission lines in the statement message (Telegram takes 4096 in all, and the
# totals follow); the CSV has every line.
STATEMENT_ROOM = 3000
PAYMENT_DAYS = 30  # an invoice is due this long after it is issued (French default)


async def statement(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/releve [business] [YYYY-MM]``: the month's done missions (this month by default)."""
    if not await steps.allowed(update, context):
        return
    d = deps(context)
    language = steps.language_of(context, update.effective_user)
    steps.forget(context)
    try:
        business, month = _statement_arguments(d, list(context.args or []))
    except InputError as error:
        await update.effective_message.reply_text(steps.error_text(d, language, error))
        return
    if business is None and len(d.settings.businesses) == 1:
        business = d.settings.businesses[0]
    if business is None:
        text = d.i18n.text(language, "statement.which_business")
        markup = _business_picker(d, language, month, 0)
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    await _send_statement(update, d, language, business, month or _current_month(d, business))


def _business_picker(
    d: Deps, language: str, month: Month | None, page: int
) -> InlineKeyboardMarkup:
    """A button a business, for ``month`` or, when none was asked, each one's current month."""
    asked = month.code if month is not None else "-"
    return keyboard(
        *lookups.business_picker(
            d,
            language,
            lambda b: f"m:r:{lookups.business_id(d, b)}:{(month or _current_month(d, b)).code}",
            lambda number: f"m:rp:{asked}:{number}",
            page,
        )
    )


async def _business_page(update, context, d: Deps, language: str, args: list) -> None:
    """``m:rp:<month>:<page>``: another page of the businesses, in place."""
    first_day, page = args
    month = Month.of(first_day) if first_day is not None else None
    text = d.i18n.text(language, "statement.which_business")
    await reply(update, text, _business_picker(d, language, month, page))


def _statement_arguments(d: Deps, args: list[str]) -> tuple[Business | None, Month | None]:
    """A business's slug and a month, in either order, each optional."""
    if len(args) > 2:
        raise InputError("statement.usage")
    business, month = None, None
    for arg in args:
        found = d.settings.business(arg.lower())
        if found is not None and business is None:
            business = found
        elif month is None and any(c.isdigit() for c in arg):
            month = Month.parse(arg)
        else:
            known = tuple(b.slug for b in d.settings.businesses)
            raise InputError("missions.unknown_business", slug=arg, known=known)
    return business, month


def _current_month(d: Deps, business: Business) -> Month:
    return Month.of(lookups.today(d, d.settings.zone(business)))


def _business_and_month(d: Deps, args: list) -> tuple[Business, Month]:
    """A statement button's business id and month (its first day, read by bot.callbacks);
    a business no longer in config is a stale button."""
    business_id, first_day = args
    business = lookups.business_by_id(d, business_id)
    if business is None:
        raise steps.Stale(str(business_id))
    return business, Month.of(first_day)


async def _statement_button(update, context, d: Deps, language: str, args: list) -> None:
    business, month = _business_and_month(d, args)
    await update.callback_query.answer()
    await _send_statement(update, d, language, business, month)


async def _send_statement(
    update: Update, d: Deps, language: str, business: Business, month: Month
) -> None:
    business_id = lookups.business_id(d, business)
    zone = d.settings.zone(business)
    first, last = month.bounds(zone)
    missions = await d.store.missions.done_on(business_id, first, last)
    invoices = await d.store.missions.invoices_for(business_id, str(month))
    message = update.effective_message
    text, markup = _statement_text(
        d, language, business, month, missions, invoices, as_of=d.clock.now()
    )
    await message.reply_text(text, reply_markup=markup)
    if not missions:
        return
    numbers = {
        line.mission_id: invoice_number(invoice.year, invoice.sequence)
        for invoice in invoices
        for line in invoice.lines
    }
    rows = [
        StatementRow(
            done_on=m.done_at.astimezone(zone).date(),
            kind=lookups.kind_name(d, language, m.kind),
            description=m.description,
            minutes=m.minutes_spent,
            cents=m.fee,
            invoice=numbers.get(m.id),
        )
        for m in missions
    ]
    headings = [
        d.i18n.text(language, key)
        for key in (
            "statement.col_date",
            "statement.col_kind",
            "statement.col_description",
            "statement.col_minutes",
            "statement.col_quantity",
            "statement.col_unit_price",
            "statement.col_amount",
            "statement.col_invoice",
        )
    ]
    data = statement_csv(rows, language=language, headings=headings)
    await message.reply_document(document=data, filename=f"releve-{business.slug}-{month}.csv")
    for invoice in invoices:
        await _send_invoice(message, d, business, invoice)


def _statement_text(
    d: Deps,
    language: str,
    business: Business,
    month: Month,
    missions: list[Mission],
    invoices: list[Invoice],
    *,
    as_of: datetime,
) -> tuple[str, InlineKeyboardMarkup]:
    """The statement as of ``as_of``: its invoice button invoices what it shows, no more."""
    title = d.i18n.text(
        language, "statement.title", business=business.name, month=month_label(language, month)
    )
    lines = [title]
    if not missions:
        lines.append(d.i18n.text(language, "statement.none"))
    zone = d.settings.zone(business)
    room = STATEMENT_ROOM
    for shown, mission in enumerate(missions):
        day = short_date(language, mission.done_at.astimezone(zone).date())
        lock = " 🔒" if mission.locked else ""
        line = (
            f"• {day} · {lookups.kind_name(d, language, mission.kind)} — {mission.description} · "
            f"{d.i18n.money(language, mission.fee)}{lock}"
        )
        room -= telegram_length(line) + 1
        if room < 0:
            left = len(missions) - shown
            lines.append(d.i18n.text(language, "statement.more", count=left))
            break
        lines.append(line)
    if missions:
        lines.append("")
        lines.append(d.i18n.text(language, "statement.by_kind"))
        order = list(d.settings.mission_kinds)
        for total in totals_by_kind(((m.kind, m.fee) for m in missions), order):
            lines.append(
                d.i18n.text(
                    language,
                    "statement.kind_line",
                    kind=lookups.kind_name(d, language, total.kind),
                    count=total.count,
                    total=d.i18n.money(language, total.cents),
                )
            )
        total = sum(m.fee for m in missions)
        lines.append(d.i18n.text(language, "statement.total", total=d.i18n.money(language, total)))
    for invoice in invoices:
        issued = invoice.issued_at.astimezone(lookups.office_zone(d)).date()
        lines.append(
            d.i18n.text(
                language,
                "statement.invoiced",
                number=invoice_number(invoice.year, invoice.sequence),
                date=long_date(language, issued),
                total=d.i18n.money(language, invoice.total),
            )
        )
    business_id = lookups.business_id(d, business)
    unbilled = [m for m in missions if not m.locked]
    rows = []
    if unbilled:
        to_invoice = d.i18n.money(language, sum(m.fee for m in unbilled))
        lines.append(d.i18n.text(language, "statement.to_invoice", total=to_invoice))
        if d.settings.billing is None:
            lines.append(d.i18n.text(language, "statement.no_billing"))
        else:
            label = d.i18n.text(language, "statement.issue")
            shown = int(as_of.timestamp())
            rows.append([(label, f"m:i:{business_id}:{month.code}:{shown}")])
    navigation = []
    for step, key in ((-1, "statement.previous"), (1, "statement.next")):
        if step > 0 and not month < _current_month(d, business):
            continue
        try:
            other = month.shift(step)
        except InputError:  # the edge of the months the bot knows
            continue
        label = d.i18n.text(language, key, month=month_label(language, other))
        navigation.append((label, f"m:r:{business_id}:{other.code}"))
    if navigation:
        rows.append(navigation)
    return "\n".join(lines), keyboard(*rows)


async def _issue(update, context, d: Deps, language: str, args: list) -> None:
    """Invoice the month's missions not invoiced yet that the statement showed (a mission
    finished since goes on the next one): a number is taken only here."""
    business, month = _business_and_month(d, args[:2])
    shown = args[2]
    query = update.callback_query
    billing = d.settings.billing
    if billing is None:
        await query.answer(d.i18n.text(language, "statement.no_billing"), show_alert=True)
        return
    if not business.address.strip():
        # French law wants the client's address on an invoice: no number is taken without it.
        await query.answer(
            d.i18n.text(language, "statement.no_client_address", business=business.name),
            show_alert=True,
        )
        return
    business_id = lookups.business_id(d, business)
    first, last = month.bounds(d.settings.zone(business))
    last = min(last, shown + timedelta(seconds=1))  # done_at is kept in whole seconds
    now = d.clock.now()
    issued_on = now.astimezone(lookups.office_zone(d)).date()
    invoice = await d.store.missions.issue_invoice(
        business_id,
        period=str(month),
        first=first,
        last=last,
        year=issued_on.year,
        now=now,
        due_on=issued_on + timedelta(days=PAYMENT_DAYS),
        seller=Party(
            name=billing.name,
            address=billing.address,
            siret=billing.siret,
            email=billing.email,
            iban=billing.iban,
            vat_exempt=billing.vat_exempt,
            siren=billing.siren_number,
            bic=billing.bic,
            payment_method=billing.payment,
        ),
        client=Party(name=business.name, address=business.address),
    )
    if invoice is None:
        await query.answer(d.i18n.text(language, "statement.nothing_to_invoice"), show_alert=True)
        return
    number = invoice_number(invoice.year, invoice.sequence)
    log.info("secretary %s issued invoice %s", update.effective_user.id, number)
    await query.answer()
    missions = await d.store.missions.done_on(business_id, first, last)
    invoices = await d.store.missions.invoices_for(business_id, str(month))
    text, markup = _statement_text(
        d, language, business, month, missions, invoices, as_of=d.clock.now()
    )
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        log.info("statement not edited: %s", error)
    await _send_invoice(update.effective_message, d, business, invoice)


async def _send_invoice(message: Message, d: Deps, business: Business, invoice: Invoice) -> None:
    # The invoice speaks the office's language: it goes to the employer.
    language = d.settings.language
    number = invoice_number(invoice.year, invoice.sequence)
    period = Month.parse(invoice.period)
    # A Factur-X: the PDF the employer reads, with the EN 16931 data the tax rules want.
    try:
        pdf = await asyncio.to_thread(
            facturx.render,
            invoice,
            i18n=d.i18n,
            language=language,
            zone=lookups.office_zone(d),
            kind_label=lambda kind: lookups.kind_name(d, language, kind),
            period_label=month_label(language, period),
            line_zone=d.settings.zone(business),
        )
    except Exception:  # the factur-x package says an invalid XML with a bare Exception
        # The invoice is issued, its number taken: she is told, the cause is in the log.
        log.exception("invoice %s (id %s) could not be made", number, invoice.id)
        await message.reply_text(d.i18n.text(language, "invoice.failed", number=number))
        return
    caption = d.i18n.text(
        language,
        "invoice.caption",
        number=number,
        business=business.name,
        total=d.i18n.money(language, invoice.total),
    )
    await message.reply_document(document=pdf, filename=f"facture-{number}.pdf", caption=caption)


BUTTONS: dict[str, tuple[int, steps.StepHandler]] = {
    "r": (2, _statement_button),
    "rp": (2, _business_page),
    "i": (3, _issue),
}
