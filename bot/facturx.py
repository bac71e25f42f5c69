"""The invoice as Factur-X: its figures as EN 16931 data (UN/CEFACT CII XML) inside its PDF.

From September 2027 a French micro-entrepreneur's invoice to a business counts only in a
structured form; Factur-X is the one that stays a readable PDF. The ``factur-x`` package
builds the XML from the invoice's fields (keyed by their EN 16931 business terms, BT-1,
BG-25...), checks it against the XSD of the EN 16931 profile it ships, and embeds it in the
PDF with the PDF/A-3 metadata that says so. The XML carries what the PDF shows: seller
(name, SIREN, SIRET, address), buyer, number, dates, each mission as a line of quantity 1
at its fee, totals, the VAT exemption, the payment terms and means.

The factur-x package (with lxml) and pypdf are imported when an invoice is made, not with
this module.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import I18n
from bot.invoice import (
    UNIT_QUANTITY,
    long_date,
    payment_method_of,
    render_pdf,
    siren_of,
)
from bot.missions import Month, invoice_number
from storage.missions import Invoice, Party

LEVEL = "en16931"
INVOICE = "380"  # UNTDID 1001: commercial invoice
UNIT = "C62"  # UN/ECE recommendation 20: "one", a piece of work
VAT_EXEMPT = "E"  # UNTDID 5305: exempt from VAT
# UNTDID 4461: how the buyer pays.
PAYMENT_MEANS = {"transfer": "58", "cheque": "20"}  # SEPA credit transfer; cheque
# ISO 6523 schemes of French company numbers.
SIRENE = "0002"  # the SIREN, a company's legal number
SIRET = "0009"  # the SIRET, one of its establishments
# UNTDID 4451 subject of a note: the tax mention; the late-payment penalties.
NOTE_TAX = "TXD"
NOTE_PENALTIES = "PMD"
# A French postcode and its town: "69003 Lyon", "75002 Paris Cedex 02".
_POSTCODE_CITY = re.compile(r"^(\d{5})\s+(.+)$")


def render(
    invoice: Invoice,
    *,
    i18n: I18n,
    language: str,
    zone: ZoneInfo,
    kind_label: Callable[[str], str],
    period_label: str,
    line_zone: ZoneInfo | None = None,
) -> bytes:
    """The invoice as a Factur-X PDF (EN 16931 profile): the PDF of ``bot.invoice`` with its
    XML inside, checked against the profile's XSD on the way."""
    pdf = render_pdf(
        invoice,
        i18n=i18n,
        language=language,
        zone=zone,
        kind_label=kind_label,
        period_label=period_label,
        line_zone=line_zone,
    )
    xml = cii_xml(
        invoice,
        i18n=i18n,
        language=language,
        zone=zone,
        kind_label=kind_label,
        line_zone=line_zone,
    )
    number = invoice_number(invoice.year, invoice.sequence)
    title = i18n.text(language, "invoice.title", number=number)
    return embed(pdf, xml, invoice=invoice, language=language, title=title)


def cii_xml(
    invoice: Invoice,
    *,
    i18n: I18n,
    language: str,
    zone: ZoneInfo,
    kind_label: Callable[[str], str],
    line_zone: ZoneInfo | None = None,
) -> bytes:
    """The invoice's CII XML, valid against the EN 16931 XSD (the package raises if not)."""
    from facturx import generate_cii_xml

    data = invoice_data(
        invoice,
        i18n=i18n,
        language=language,
        zone=zone,
        kind_label=kind_label,
        line_zone=line_zone,
    )
    # The schematron check needs a Saxon server the bot does not run; the XSD is checked.
    return generate_cii_xml(data, level=LEVEL, check_xsd=True, check_schematron=False)


def invoice_data(
    invoice: Invoice,
    *,
    i18n: I18n,
    language: str,
    zone: ZoneInfo,
    kind_label: Callable[[str], str],
    line_zone: ZoneInfo | None = None,
) -> dict[str, Any]:
    """The invoice's EN 16931 fields, as the factur-x package takes them: the PDF's texts
    in the invoice's language, its amounts as decimal strings."""
    seller, client = invoice.seller, invoice.client
    if not seller.vat_exempt:
        # Category E is the only one the bot can state: it knows no VAT rate.
        raise ValueError(f"invoice {invoice.id}: a seller liable to VAT is not supported")
    number = invoice_number(invoice.year, invoice.sequence)
    month = Month.parse(invoice.period)
    days = [line.done_at.astimezone(line_zone or zone).date() for line in invoice.lines]
    # The French wording of the exemption, which is the law's, in whichever language.
    exemption = i18n.text("fr", "invoice.vat_exempt")
    penalties = i18n.text(language, "invoice.penalties")
    due = i18n.text(language, "invoice.due", date=long_date(language, invoice.due_on))
    total = _euros(invoice.total)
    data: dict[str, Any] = {
        "BT-1": number,
        "BT-2": invoice.issued_at.astimezone(zone).date(),
        "BT-3": INVOICE,
        "BT-5": "EUR",
        "BT-9": invoice.due_on,
        "BT-20": f"{due} {penalties}",
        "BG-1": [
            {"BT-21": NOTE_TAX, "BT-22": exemption},
            {"BT-21": NOTE_PENALTIES, "BT-22": penalties},
        ],
        "BG-4": _party(seller, seller=True),
        "BG-7": _party(client, seller=False),
        # The day the last mission was done; without a delivery the package writes an
        # empty, invalid delivery element.
        "BT-72": max(days, default=_first_day(month)),
        "BT-73": _first_day(month),
        "BT-74": _last_day(month),
        "BT-83": number,
        "BG-23": [
            {
                "BT-116": total,
                "BT-117": "0.00",
                "BT-118": VAT_EXEMPT,
                "BT-119": "0",
                "BT-120": exemption,
            }
        ],
        "BG-25": [
            {
                "BT-126": str(line.position),
                "BT-129": str(UNIT_QUANTITY),
                "BT-130": UNIT,
                "BT-131": _euros(line.fee * UNIT_QUANTITY),
                "BT-134": day,
                "BT-135": day,
                "BT-146": _euros(line.fee),
                "BT-151": VAT_EXEMPT,
                "BT-152": "0",
                "BT-153": kind_label(line.kind),
                "BT-154": line.description,
            }
            for line, day in zip(invoice.lines, days, strict=True)
        ],
        "BT-106": total,
        "BT-109": total,
        "BT-110": "0.00",
        "BT-112": total,
        "BT-115": total,
    }
    method = payment_method_of(seller)
    if method in PAYMENT_MEANS:
        data["BT-81"] = PAYMENT_MEANS[method]
        if method == "transfer" and seller.iban:
            data["BT-84"] = seller.iban.replace(" ", "")
            if seller.bic:
                data["BT-86"] = seller.bic
    return data


def embed(pdf: bytes, xml: bytes, *, invoice: Invoice, language: str, title: str) -> bytes:
    """``xml`` attached to ``pdf`` as its Factur-X data, with the PDF/A-3 metadata.

    The package dates its metadata with the clock; they are dated with the issue instead,
    so that the same invoice, sent again, is the same file.
    """
    from facturx import generate_from_binary

    made = generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level=LEVEL,
        check_xsd=False,  # checked as it was built
        lang=language,
        pdf_metadata={
            "author": invoice.seller.name,
            "keywords": "Factur-X, Invoice",
            "title": title,
            "subject": invoice.client.name,
        },
    )
    return _dated(made, invoice.issued_at)


def _dated(pdf: bytes, moment: datetime) -> bytes:
    """``pdf`` with every date the factur-x package wrote replaced by ``moment``."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    utc = moment.astimezone(UTC)
    pdf_date = utc.strftime("D:%Y%m%d%H%M%S+00'00'")
    xmp_date = utc.strftime("%Y-%m-%dT%H:%M:%S+00:00").encode()
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    # Embedded files and their /AF relationship are PDF 1.7, which PDF/A-3 is built on.
    writer.pdf_header = b"%PDF-1.7"
    writer.add_metadata({"/CreationDate": pdf_date, "/ModDate": pdf_date})
    root = writer.root_object
    metadata = root["/Metadata"].get_object()
    metadata.set_data(
        re.sub(
            rb"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)[^<]*",
            rb"\g<1>" + xmp_date,
            metadata.get_data(),
        )
    )
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    for filespec in names[1::2]:
        params = filespec.get_object()["/EF"]["/F"].get_object()["/Params"]
        params[NameObject("/ModDate")] = TextStringObject(pdf_date)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _party(party: Party, *, seller: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": party.name, **_address(party.address)}
    if party.siret:
        fields["identifiers"] = {SIRET: party.siret.replace(" ", "")}
    siren = siren_of(party)
    if siren:
        fields["legal_identifier"] = siren.replace(" ", "")
        fields["legal_identifier_schemeid"] = SIRENE
    if seller and party.email:
        fields["contacts"] = [{"email": party.email}]
    return fields


def _address(text: str) -> dict[str, str]:
    """A French address as written in config ("8 rue des Lilas, 69003 Lyon", or on several
    lines) as EN 16931's fields: up to three lines, postcode, city, country."""
    parts = [part.strip() for part in re.split(r"[\n,]", text) if part.strip()]
    fields = {"country_code": "FR"}
    lines = []
    for part in parts:
        match = _POSTCODE_CITY.match(part)
        if match and "postcode" not in fields:
            fields["postcode"], fields["city"] = match[1], match[2]
        else:
            lines.append(part)
    # A fourth line and beyond go on the third: EN 16931 has three.
    kept = lines[:2] + ([", ".join(lines[2:])] if lines[2:] else [])
    fields.update(zip(("addr_l1", "addr_l2", "addr_l3"), kept, strict=False))
    return fields


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _first_day(month: Month) -> date:
    return date(month.year, month.month, 1)


def _last_day(month: Month) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
