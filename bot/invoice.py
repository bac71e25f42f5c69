"""A month's statement as CSV, and the invoice as a PDF a French micro-entrepreneur may send.

The PDF carries what French law asks of an invoice from a VAT-exempt sole trader: the
seller's name with "EI", address and SIRET; a number from an unbroken yearly sequence; the
issue date and the period of the work; the client; each line and the total; the VAT
exemption article; the payment due date and the late-payment terms. The words come from the
catalogues; the invoice is rebuilt from what was stored when it was issued, so sending it
again gives the same document.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

from bot.i18n import I18n
from bot.missions import invoice_number
from storage.missions import Invoice

if TYPE_CHECKING:
    # fpdf2 (and matplotlib, for its fonts) are imported when an invoice is drawn, not with
    # this module: the bot's start-up need not pay for them, nor does the CSV statement.
    from fpdf import FPDF

_FONT = "DejaVu"

_MARGIN = 18  # mm
_LINE = 5.5  # mm, one line of body text
# Columns of the lines table, in mm: date, kind, description, amount (A4 is 210 wide).
_COLUMNS = (28, 38, 86, 22)


def long_date(language: str, day: date) -> str:
    """``1 février 2027`` / ``February 1, 2027``."""
    return format_date(day, "long", locale=language)


def short_date(language: str, day: date) -> str:
    """``12 janv. 2027`` / ``Jan 12, 2027``."""
    return format_date(day, "medium", locale=language)


def render_pdf(
    invoice: Invoice,
    *,
    i18n: I18n,
    language: str,
    zone: ZoneInfo,
    kind_label: Callable[[str], str],
    period_label: str,
    line_zone: ZoneInfo | None = None,
) -> bytes:
    """The invoice as a PDF. ``zone`` dates the issue (where the numbering's year is
    counted); ``line_zone``, the client business's zone, dates the work, as its statement
    does (``zone`` when not given)."""

    def text(key: str, **values: object) -> str:
        return i18n.text(language, key, **values)

    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

    # matplotlib ships DejaVu Sans, which has the euro sign, French accents and the narrow
    # no-break space Babel puts in "1 234,50 €"; the PDF core fonts have none of that. Found
    # without importing matplotlib, which an invoice has no other use for.
    fonts = Path(find_spec("matplotlib").origin).parent / "mpl-data" / "fonts" / "ttf"
    number = invoice_number(invoice.year, invoice.sequence)
    seller, client = invoice.seller, invoice.client
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    pdf.add_font(_FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(_FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    # The issue time as creation date: the same invoice always gives the same bytes.
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_title(text("invoice.title", number=number))
    pdf.set_author(seller.name)
    pdf.add_page()
    width = pdf.epw

    def line(value: str, *, bold: bool = False, size: float = 10, align: Align = Align.L) -> None:
        pdf.set_font(_FONT, "B" if bold else "", size)
        pdf.multi_cell(width, _LINE, value, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Who bills.
    line(text("invoice.seller", name=seller.name), bold=True, size=12)
    for part in seller.address.splitlines():
        line(part)
    if seller.siret:
        line(text("invoice.siret", siret=seller.siret))
    if seller.email:
        line(seller.email)
    pdf.ln(6)

    # The invoice itself.
    line(text("invoice.title", number=number), bold=True, size=16)
    issued = invoice.issued_at.astimezone(zone).date()
    line(text("invoice.issued", date=long_date(language, issued)))
    line(text("invoice.period", period=period_label))
    pdf.ln(4)

    # Who pays.
    line(text("invoice.client"), bold=True)
    line(client.name)
    for part in client.address.splitlines():
        line(part)
    pdf.ln(6)

    # The work, one row per mission.
    headings = (
        text("invoice.col_date"),
        text("invoice.col_kind"),
        text("invoice.col_description"),
        text("invoice.col_amount"),
    )
    _row(pdf, headings, bold=True)
    for entry in invoice.lines:
        _row(
            pdf,
            (
                short_date(language, entry.done_at.astimezone(line_zone or zone).date()),
                kind_label(entry.kind),
                entry.description,
                i18n.money(language, entry.fee),
            ),
        )
    pdf.ln(3)
    line(text("invoice.total", total=i18n.money(language, invoice.total)), bold=True, size=12)
    if seller.vat_exempt:
        line(text("invoice.vat_exempt"))
    pdf.ln(4)

    # How and when to pay.
    line(text("invoice.due", date=long_date(language, invoice.due_on)))
    if seller.iban:
        line(text("invoice.iban", iban=seller.iban))
    line(text("invoice.penalties"), size=8)
    return bytes(pdf.output())


def _row(pdf: FPDF, cells: Sequence[str], *, bold: bool = False) -> None:
    """One table row: cells side by side, the row as tall as its longest cell."""
    from fpdf.enums import Align

    pdf.set_font(_FONT, "B" if bold else "", 9)
    top = pdf.get_y()
    heights = [
        len(pdf.multi_cell(width, _LINE, value, dry_run=True, output="LINES")) * _LINE
        for width, value in zip(_COLUMNS, cells, strict=True)
    ]
    height = max(heights)
    if top + height > pdf.page_break_trigger:
        pdf.add_page()
        top = pdf.get_y()
    left = pdf.l_margin
    for index, (width, value) in enumerate(zip(_COLUMNS, cells, strict=True)):
        pdf.set_xy(left, top)
        align = Align.R if index == len(cells) - 1 else Align.L
        pdf.multi_cell(width, _LINE, value, align=align)
        left += width
    pdf.set_xy(pdf.l_margin, top + height)
    pdf.line(pdf.l_margin, top + height, pdf.l_margin + sum(_COLUMNS), top + height)


# -- the statement as CSV ---------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    done_on: date
    kind: str  # as shown: translated
    description: str
    minutes: int | None
    cents: int
    invoice: str | None  # its number, once invoiced


def statement_csv(rows: Sequence[StatementRow], *, language: str, headings: Sequence[str]) -> bytes:
    """The statement for a spreadsheet: French ones want ``;`` and a decimal comma.

    UTF-8 with a byte-order mark, which is how Excel knows it is UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if language == "fr" else ",", lineterminator="\r\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow(
            [
                row.done_on.isoformat(),
                row.kind,
                row.description,
                "" if row.minutes is None else row.minutes,
                format_decimal(Decimal(row.cents) / 100, "#0.00", locale=language),
                row.invoice or "",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
