"""The invoice PDF read back line by line (its QR code pixel by pixel), the statement CSV, and
numbering under contention. Its Factur-X data: tests/test_facturx.py."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from bot.i18n import I18n
from bot.invoice import StatementRow, render_pdf, statement_csv
from bot.missions import Month, invoice_number
from storage import Store
from storage.missions import Invoice, InvoiceLine, NewMission, Party

pytestmark = pytest.mark.backends

PARIS = ZoneInfo("Europe/Paris")
SELLER = Party(
    name="Claire Moreau",
    address="8 rue des Lilas\n69003 Lyon",
    siret="812 345 678 00021",
    email="claire.moreau@example.fr",
    iban="FR76 3000 6000 0112 3456 7890 189",
    vat_exempt=True,
    bic="AGRIFRPP",
    payment_method="transfer",
)
CLIENT = Party("Cabinet dentaire Dupont", "12 rue de la Paix, 75002 Paris")
# Babel writes "1 234,50 €" with a narrow no-break space, which the PDF keeps, and a
# no-break space before the sign, which fpdf2 writes as a space (its width may stretch).
NNBSP = "\u202f"


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


def an_invoice(**changes) -> Invoice:
    values = {
        "id": 1,
        "year": 2027,
        "sequence": 1,
        "business_id": 1,
        "period": "2027-01",
        "issued_at": datetime(2027, 2, 1, 8, 30, tzinfo=UTC),
        "due_on": date(2027, 3, 3),
        "total": 123450,
        "seller": SELLER,
        "client": CLIENT,
        "lines": (
            InvoiceLine(
                1, 11, datetime(2027, 1, 12, 10, tzinfo=UTC), "transcription", "Compte rendu", 4500
            ),
            InvoiceLine(
                2, 12, datetime(2027, 1, 31, 23, 30, tzinfo=UTC), "call", "Permanence", 118950
            ),
        ),
    }
    values.update(changes)
    return Invoice(**values)


def pdf_lines(i18n: I18n, invoice: Invoice, language: str = "fr") -> list[str]:
    data = render_pdf(
        invoice,
        i18n=i18n,
        language=language,
        zone=PARIS,
        kind_label=lambda kind: i18n.text(language, f"mission_kind.{kind}"),
        period_label="janvier 2027" if language == "fr" else "January 2027",
    )
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text().splitlines()


def test_the_invoice_says_everything_french_law_asks_line_by_line(i18n):
    assert pdf_lines(i18n, an_invoice()) == [
        "Claire Moreau — EI",
        "8 rue des Lilas",
        "69003 Lyon",
        "SIREN : 812 345 678 · SIRET : 812 345 678 00021",
        "claire.moreau@example.fr",
        "Facture n° 2027-0001",
        "Date d'émission : 1 février 2027",
        "Prestations de janvier 2027",
        "Client :",
        "Cabinet dentaire Dupont",
        "12 rue de la Paix, 75002 Paris",
        "Date Prestation Détail Qté Prix unitaire Montant",
        "12 janv. 2027 Transcription Compte rendu 1 45,00 € 45,00 €",
        # 23:30 UTC on 31 January is already 1 February in Paris.
        f"1 févr. 2027 Appel Permanence 1 1{NNBSP}189,50 € 1{NNBSP}189,50 €",
        f"Total à payer : 1{NNBSP}234,50 €",
        "TVA non applicable, art. 293 B du CGI",
        "Échéance : 3 mars 2027.",
        "Règlement par virement : IBAN FR76 3000 6000 0112 3456 7890 189",
        "BIC : AGRIFRPP",
        "Pour payer par virement, scannez ce code avec l'application de votre banque.",
        "En cas de retard de paiement : pénalités au taux de trois fois le taux d'intérêt légal "
        "et indemnité forfaitaire pour frais de",
        "recouvrement de 40 € (art. L441-10 du Code de commerce). Pas d'escompte pour paiement "
        "anticipé.",
    ]


def test_without_vat_exemption_iban_or_email_those_lines_are_absent(i18n):
    seller = Party("Claire Moreau", "Lyon", "812 345 678 00021", vat_exempt=False)
    lines = pdf_lines(i18n, an_invoice(seller=seller))
    assert "TVA non applicable, art. 293 B du CGI" not in lines
    assert not any("IBAN" in line or "@" in line or "chèque" in line for line in lines)
    assert lines[:3] == [
        "Claire Moreau — EI",
        "Lyon",
        "SIREN : 812 345 678 · SIRET : 812 345 678 00021",
    ]


def test_paid_by_cheque_the_invoice_says_to_whom_and_has_no_qr_code(i18n):
    seller = Party(
        "Claire Moreau",
        "Lyon",
        "812 345 678 00021",
        vat_exempt=True,
        payment_method="cheque",
        siren="812 345 678",
    )
    data = render_pdf(
        an_invoice(seller=seller),
        i18n=i18n,
        language="fr",
        zone=PARIS,
        kind_label=str,
        period_label="janvier 2027",
    )
    page = PdfReader(io.BytesIO(data)).pages[0]
    lines = page.extract_text().splitlines()
    assert "Règlement par chèque à l'ordre de Claire Moreau" in lines
    assert not any("IBAN" in line or "scannez" in line for line in lines)
    assert list(page.images) == []


def test_the_qr_code_is_the_epc_transfer_of_the_total_to_the_iban(i18n):
    """The picture on the invoice is, pixel for pixel, the EPC code segno makes of the
    payee, IBAN, BIC, amount and invoice number: what a banking app will read."""
    from PIL import Image
    from segno.helpers import make_epc_qr

    data = render_pdf(
        an_invoice(),
        i18n=i18n,
        language="fr",
        zone=PARIS,
        kind_label=str,
        period_label="janvier 2027",
    )
    (picture,) = PdfReader(io.BytesIO(data)).pages[0].images
    expected = make_epc_qr(
        name="Claire Moreau",
        iban="FR7630006000011234567890189",
        amount=Decimal("1234.50"),
        text="Facture 2027-0001",
        bic="AGRIFRPP",
    )
    png = io.BytesIO()
    expected.save(png, kind="png", scale=8, border=2)
    drawn = picture.image.convert("L")
    wanted = Image.open(io.BytesIO(png.getvalue())).convert("L")
    assert drawn.size == wanted.size
    assert drawn.tobytes() == wanted.tobytes()


def test_the_invoice_in_english(i18n):
    lines = pdf_lines(i18n, an_invoice(), language="en")
    assert "Invoice #2027-0001" in lines
    assert "Issued on: February 1, 2027" in lines
    assert "SIREN: 812 345 678 · SIRET: 812 345 678 00021" in lines
    assert "Date Service Detail Qty Unit price Amount" in lines
    assert "Jan 12, 2027 Transcription Compte rendu 1 €45.00 €45.00" in lines
    assert "Total due: €1,234.50" in lines
    assert "BIC: AGRIFRPP" in lines
    assert "To pay by bank transfer, scan this code with your bank's app." in lines


def test_the_same_invoice_gives_the_same_bytes(i18n):
    def render() -> bytes:
        return render_pdf(
            an_invoice(),
            i18n=i18n,
            language="fr",
            zone=PARIS,
            kind_label=str,
            period_label="janvier 2027",
        )

    assert render() == render()


def test_a_long_invoice_runs_over_pages_and_keeps_every_line(i18n):
    lines = tuple(
        InvoiceLine(n, n, datetime(2027, 1, 5, tzinfo=UTC), "call", f"Appel numéro {n}", 3500)
        for n in range(1, 81)
    )
    data = render_pdf(
        an_invoice(lines=lines, total=80 * 3500),
        i18n=i18n,
        language="fr",
        zone=PARIS,
        kind_label=str,
        period_label="janvier 2027",
    )
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert all(f"Appel numéro {n} " in text for n in range(1, 81))
    assert f"Total à payer : 2{NNBSP}800,00 €" in text


def test_the_statement_csv_suits_a_french_spreadsheet():
    rows = [
        StatementRow(
            date(2027, 1, 12), "Transcription", 'CR "équipe"; suite', 90, 4500, "2027-0001"
        ),
        StatementRow(date(2027, 1, 13), "Appel", "Rappel", None, 123450, None),
    ]
    headings = [
        "Date",
        "Type",
        "Description",
        "Minutes",
        "Quantité",
        "Prix unitaire (EUR)",
        "Montant (EUR)",
        "Facture",
    ]
    data = statement_csv(rows, language="fr", headings=headings)
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert parsed == [
        headings,
        [
            "2027-01-12",
            "Transcription",
            'CR "équipe"; suite',
            "90",
            "1",
            "45,00",
            "45,00",
            "2027-0001",
        ],
        ["2027-01-13", "Appel", "Rappel", "", "1", "1234,50", "1234,50", ""],
    ]
    english = statement_csv(rows, language="en", headings=headings).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(english)))[2][4:7] == ["1", "1234.50", "1234.50"]


# -- numbering under contention ---------------------------------------------------------------


async def test_invoice_numbers_never_skip_or_repeat_under_concurrent_requests(store, settings):
    """Forty requests at once, from two connections to the file (as two processes would be),
    for twenty months of two businesses, each asked twice: twenty invoices, 1 to 20."""
    ids = [store.business_ids["cabinet-dupont"], store.business_ids["institut-belle-peau"]]
    months = [Month(2026, 1).shift(n) for n in range(10)]
    for business_id in ids:
        for month in months:
            first, _ = month.bounds(PARIS)
            for fee in (3500, 4500):
                mission = await store.missions.create(
                    NewMission(business_id, "call", "Appel", fee), now=first, actor=1
                )
                await store.missions.finish(mission.id, now=first + timedelta(days=3))

    other = await Store.open(settings.database)
    try:

        async def request(which: Store, business_id: int, month: Month):
            first, last = month.bounds(PARIS)
            return await which.missions.issue_invoice(
                business_id,
                period=str(month),
                first=first,
                last=last,
                year=2027,
                now=datetime(2027, 1, 11, tzinfo=UTC),
                due_on=date(2027, 2, 10),
                seller=SELLER,
                client=CLIENT,
            )

        calls = [
            request(connection, business_id, month)
            for month in months
            for business_id in ids
            for connection in (store, other)
        ]
        results = await asyncio.gather(*calls)
    finally:
        await other.close()

    invoices = [invoice for invoice in results if invoice is not None]
    assert len(invoices) == 20 and results.count(None) == 20
    assert sorted(invoice.sequence for invoice in invoices) == list(range(1, 21))
    assert len({invoice_number(i.year, i.sequence) for i in invoices}) == 20
    # Every mission is on exactly one invoice, every invoice holds its month's two missions.
    assert all(invoice.total == 8000 and len(invoice.lines) == 2 for invoice in invoices)
    billed = [line.mission_id for invoice in invoices for line in invoice.lines]
    assert len(billed) == len(set(billed)) == 40


async def test_a_failed_invoice_takes_no_number(store, monkeypatch):
    import storage.missions as storage_missions

    business_id = store.business_ids["cabinet-dupont"]
    first, last = Month(2027, 1).bounds(PARIS)
    mission = await store.missions.create(
        NewMission(business_id, "call", "Appel", 3500), now=first, actor=1
    )
    await store.missions.finish(mission.id, now=first + timedelta(days=1))
    fetch = storage_missions._fetch_invoice

    async def broken(db, invoice_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(storage_missions, "_fetch_invoice", broken)
    arguments = {
        "period": "2027-01",
        "first": first,
        "last": last,
        "year": 2027,
        "now": last,
        "due_on": date(2027, 3, 1),
        "seller": SELLER,
        "client": CLIENT,
    }
    with pytest.raises(RuntimeError):
        await store.missions.issue_invoice(business_id, **arguments)
    assert not (await store.missions.get(mission.id)).locked
    monkeypatch.setattr(storage_missions, "_fetch_invoice", fetch)
    invoice = await store.missions.issue_invoice(business_id, **arguments)
    assert invoice.sequence == 1
