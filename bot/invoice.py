"""A month's statement as CSV, and the invoice as a PDF a French micro-entrepreneur may send.

The PDF carries what French law asks of an invoice from a VAT-exempt sole trader: the
seller's name with "EI", address, SIREN and SIRET; a number from an unbroken yearly
sequence; the issue date and the period of the work; the client; each line with its
quantity, unit price and amount, and the total; the VAT exemption article; the payment
due date, how to pay (with the bank details and a QR code of the transfer) and the
late-payment terms. The words come from the catalogues; the invoice is rebuilt from what
was stored when it was issued, so sending it again gives the same document.
``bot.facturx`` puts the same figures, as data, inside it.
"""

from __future__ import annotations

import csv
import io
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

from bot.i18n import I18n
from bot.missions import invoice_number
from storage.missions import Invoice, Party

# fpdf2 (and matplotlib, for its fonts) and segno are imported when an invoice is drawn, not
# with this module: the bot's start-up need not pay for them, nor does the CSV statement.

_FONT = "DejaVu"

_MARGIN = 18  # mm
_LINE = 5.5  # mm, one line of body text
# Columns of the lines table, in mm: date, kind, description, quantity, unit price, amount
# (A4 is 210 wide, 174 between the margins).
_COLUMNS = (24, 30, 56, 12, 26, 26)
_QR_SIZE = 32  # mm: EPC asks for at least 2 cm for a phone to read it from paper
# An EPC QR code carries 0.01 to 999 999 999.99 euros (here in cents).
_EPC_MAX = 99_999_999_999
UNIT_QUANTITY = 1  # each mission is one line: one piece of work at its fee


def long_date(language: str, day: date) -> str:
    """``1 février 2027`` / ``February 1, 2027``."""
    return format_date(day, "long", locale=language)


def short_date(language: str, day: date) -> str:
    """``12 janv. 2027`` / ``Jan 12, 2027``."""
    return format_date(day, "medium", locale=language)


def siren_of(party: Party) -> str | None:
    """The SIREN as printed, the SIRET's first nine digits when none was stored."""
    if party.siren:
        return party.siren
    if not party.siret:
        return None
    digits = party.siret.replace(" ", "")[:9]
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def payment_method_of(party: Party) -> str | None:
    """``transfer`` or ``cheque``; an invoice stored before the method was kept was paid
    by transfer when it showed an IBAN."""
    if party.payment_method:
        return party.payment_method
    return "transfer" if party.iban else None


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

    def money(cents: int) -> str:
        return i18n.money(language, cents)

    from fpdf import FPDF
    from fpdf.enums import Align, OutputIntentSubType, TableBordersLayout, XPos, YPos
    from fpdf.fonts import FontFace
    from fpdf.output import PDFICCProfile

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
    pdf.set_lang(language)
    # PDF/A, which Factur-X is, wants the colours' meaning said: sRGB, as Pillow (fpdf2's
    # image library) describes it.
    pdf.add_output_intent(
        OutputIntentSubType.PDFA,
        "sRGB",
        "IEC 61966-2-1:1999",
        "http://www.color.org",
        PDFICCProfile(contents=_srgb_profile(), n=3, alternate="DeviceRGB"),
        "sRGB IEC61966-2.1",
    )
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
        line(text("invoice.siren_siret", siren=siren_of(seller), siret=seller.siret))
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

    # The work, one row per mission; the table repeats its headings on each page.
    pdf.set_font(_FONT, "", 9)
    with pdf.table(
        col_widths=_COLUMNS,
        width=sum(_COLUMNS),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=FontFace(emphasis="BOLD"),
        line_height=_LINE,
        align="LEFT",
    ) as table:
        table.row(
            [
                text("invoice.col_date"),
                text("invoice.col_kind"),
                text("invoice.col_description"),
                text("invoice.col_quantity"),
                text("invoice.col_unit_price"),
                text("invoice.col_amount"),
            ]
        )
        for entry in invoice.lines:
            table.row(
                [
                    short_date(language, entry.done_at.astimezone(line_zone or zone).date()),
                    kind_label(entry.kind),
                    entry.description,
                    format_decimal(UNIT_QUANTITY, locale=language),
                    money(entry.fee),
                    money(entry.fee * UNIT_QUANTITY),
                ]
            )
    pdf.ln(3)
    line(text("invoice.total", total=money(invoice.total)), bold=True, size=12)
    if seller.vat_exempt:
        line(text("invoice.vat_exempt"))
    pdf.ln(4)

    # How and when to pay.
    line(text("invoice.due", date=long_date(language, invoice.due_on)))
    method = payment_method_of(seller)
    if method == "transfer" and seller.iban:
        line(text("invoice.iban", iban=seller.iban))
        if seller.bic:
            line(text("invoice.bic", bic=seller.bic))
        if 0 < invoice.total <= _EPC_MAX:
            if pdf.will_page_break(_QR_SIZE + _LINE):
                pdf.add_page()
            top = pdf.get_y() + 1
            qr = epc_qr_png(seller, invoice.total, text("invoice.qr_reference", number=number))
            pdf.image(io.BytesIO(qr), x=pdf.l_margin, y=top, w=_QR_SIZE, h=_QR_SIZE)
            pdf.set_xy(pdf.l_margin + _QR_SIZE + 4, top + _QR_SIZE / 2 - _LINE)
            pdf.set_font(_FONT, "", 9)
            pdf.multi_cell(width - _QR_SIZE - 4, _LINE, text("invoice.qr"))
            pdf.set_xy(pdf.l_margin, top + _QR_SIZE + 2)
    elif method == "cheque":
        line(text("invoice.cheque", name=seller.name))
    line(text("invoice.penalties"), size=8)
    return bytes(pdf.output())


def _srgb_profile() -> bytes:
    """The sRGB ICC profile littlecms makes, dated once and for all: its header holds the
    time it was made, and the same invoice must give the same bytes."""
    from PIL import ImageCms

    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
    return bytes(profile)


def epc_qr_png(seller: Party, cents: int, reference: str) -> bytes:
    """The EPC ("GiroCode") QR code of the SEPA transfer that pays ``cents`` to the seller,
    as a PNG: a banking app reads the payee, IBAN, amount and reference from it."""
    from segno.helpers import make_epc_qr

    qr = make_epc_qr(
        name=seller.name[:70],  # the EPC field's length
        iban=(seller.iban or "").replace(" ", ""),
        amount=Decimal(cents) / 100,
        text=reference,
        bic=seller.bic,
    )
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


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
    """The statement for a spreadsheet: French ones want ``;`` and a decimal comma. Its
    columns are the invoice's: a mission is one piece of work at its fee.

    UTF-8 with a byte-order mark, which is how Excel knows it is UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if language == "fr" else ",", lineterminator="\r\n")
    writer.writerow(headings)

    def euros(cents: int) -> str:
        return format_decimal(Decimal(cents) / 100, "#0.00", locale=language)

    for row in rows:
        writer.writerow(
            [
                row.done_on.isoformat(),
                row.kind,
                row.description,
                "" if row.minutes is None else row.minutes,
                UNIT_QUANTITY,
                euros(row.cents),
                euros(row.cents * UNIT_QUANTITY),
                row.invoice or "",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
