"""PDF exports: the filtered list and the invoice document, read back as text.

Today is frozen at 2025-07-15 12:00 UTC.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from PIL import Image
from pypdf import PdfReader

from invoice_app.exports import list_pdf

TODAY = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)
NAMES = {
    "latin": "Zoë Çelik Ñandú Ærø",
    "cyrillic": "Пётр Ильич Чайковский",
    "japanese": "山田太郎株式会社",
    "greek": "Αλέξανδρος Παπαδόπουλος",
}


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def pages(response) -> list[str]:
    """The text of each page, whitespace runs (cell edges too) as one space."""
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.fixture
def listing(make_invoice):
    """30 USD invoices (two pages), one EUR and one JPY, names in four scripts."""
    names = list(NAMES.values())
    for i in range(30):
        make_invoice(
            number=f"INV-L{i:03d}",
            client_name=names[i % len(names)] if i < 4 else f"Client {i:03d}",
            client_email=f"client{i}@example.test",
            billing_period=date(2025, 1 + i % 6, 1),
            usage_cost=Decimal("10.00") + i,
            payable=Decimal("10.00") + i,
        )
    make_invoice(number="INV-EUR", currency="EUR", payable=Decimal("99.99"))
    make_invoice(number="INV-JPY", currency="JPY", payable=Decimal("5000"))


def test_list_has_rows_in_order_filters_totals_and_page_numbers(client, auth, listing):
    auth.login()
    texts = pages(client.get("/billing/invoices/export.pdf?sort=number&q=inv-l"))
    assert len(texts) == 2
    everything = "\n".join(texts)
    numbers = re.findall(r"INV-L\d{3}", everything)
    assert numbers == [f"INV-L{i:03d}" for i in range(30)]
    for i, text in enumerate(texts, 1):
        assert f"Page {i} of 2" in text
        assert "Invoice No" in text and "Payable" in text  # header on every page
    assert "Search inv-l" in texts[0]
    assert "Invoice number, ascending" in texts[0]
    assert "Invoices 30" in texts[0]
    assert "2025-07-15 12:00 UTC by admin@example.test" in texts[0]
    assert "Totals per currency" in texts[-1]
    usd_total = sum(Decimal("10.00") + i for i in range(30))
    assert f"USD 30 ${usd_total:,.2f} ${usd_total:,.2f}" in texts[-1]


def test_list_totals_are_per_currency(client, auth, listing):
    auth.login()
    text = "\n".join(pages(client.get("/billing/invoices/export.pdf")))
    assert "EUR 1 €15.00 €99.99" in text
    assert "JPY 1 ¥15 ¥5,000" in text


def test_list_exports_every_match_not_one_page(client, auth, listing):
    auth.login()
    text = "\n".join(pages(client.get("/billing/invoices/export.pdf?per_page=10")))
    assert len(re.findall(r"INV-L\d{3}", text)) == 30


@pytest.mark.parametrize("script", NAMES)
def test_client_names_in_any_script_come_out_as_text(client, auth, listing, script):
    auth.login()
    text = "\n".join(pages(client.get("/billing/invoices/export.pdf")))
    assert NAMES[script] in text


def test_list_longer_than_the_pdf_limit_is_not_made_at_once(
    app, client, auth, make_invoice
):
    app.config["PDF_MAX_ROWS"] = 3
    auth.login("staff")
    for i in range(4):
        make_invoice(number=f"INV-M{i:03d}")
    refused = client.get("/billing/invoices/export.pdf")
    assert refused.status_code == 422
    message = refused.get_data(as_text=True)
    assert "at most 3 invoices" in message and "in the background" in message
    assert client.get("/billing/invoices/export.pdf?q=inv-m001").status_code == 200
    # The PDF button queues it instead (tests/test_export_pdf_jobs.py) and says so.
    page = client.get("/billing/invoices").get_data(as_text=True)
    head = page.split('id="export-links"')[1].split("</div>")[0]
    assert "export.pdf" not in head
    assert "4 invoices: the PDF is made in the background" in head


def test_render_time_limit_stops_the_render(app, client, auth, make_invoice):
    app.config["PDF_RENDER_TIMEOUT"] = 0.000001
    auth.login()
    make_invoice(number="INV-SLOW")
    for path in ("export.pdf", "INV-SLOW.pdf"):
        response = client.get(f"/billing/invoices/{path}")
        assert response.status_code == 503
        assert "took longer than" in response.get_data(as_text=True)


ISSUER = {
    "ISSUER_NAME": "Nimbus Cloud Services GmbH",
    "ISSUER_ADDRESS": "Wolkenstraße 12\\n10115 Berlin",
    "ISSUER_TAX_ID": "DE123456789",
}


@pytest.fixture
def issuer_app(app):
    app.config.update(ISSUER)
    return app


@pytest.fixture
def issuer_client(issuer_app, client, auth):
    auth.login("staff")
    return client


def invoice_text(client, number: str) -> str:
    response = client.get(f"/billing/invoices/{number}.pdf")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="invoice-{number}.pdf"'
    )
    return "\n".join(pages(response))


def test_invoice_document_has_every_part(issuer_client, make_invoice):
    make_invoice(
        number="INV-D001",
        client_name=NAMES["cyrillic"],
        client_email="petr@example.test",
        billing_period=date(2025, 5, 1),
        usage_cost=Decimal("150.00"),
        payable=Decimal("135.00"),
        issue_date=date(2025, 6, 1),
        due_date=date(2025, 8, 30),
        notes="PO 4711",
        lines=[
            ("GPU hours", "100", "1.2", "120.00"),
            ("Object storage (GB-months)", "1300", "0.023", "29.90"),
            ("山田 support", "1", "0.10", "0.10"),
        ],
    )
    text = invoice_text(issuer_client, "INV-D001")
    for expected in [
        "Nimbus Cloud Services GmbH",
        "Wolkenstraße 12",
        "10115 Berlin",
        "Tax ID: DE123456789",
        NAMES["cyrillic"],
        "petr@example.test",
        "INVOICE",
        "INV-D001",
        "May 2025",
        "Jun 1, 2025",
        "Aug 30, 2025",
        "GPU hours",
        "Object storage (GB-months)",
        "山田 support",
        "0.023",
        "$120.00",
        "Usage cost $150.00",
        "Adjustment -$15.00",
        "Payable (USD) $135.00",
        "Due Aug 30, 2025",
        "PO 4711",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    for mark in ("DRAFT", "VOID", "PAID"):
        assert mark not in text


@pytest.mark.parametrize(
    ("status", "mark", "absent"),
    [
        ("DRAFT", "DRAFT", ("VOID", "PAID")),
        ("CANCEL", "VOID", ("DRAFT", "PAID")),
        ("PAID", "PAID", ("DRAFT", "VOID")),
    ],
)
def test_watermarks(issuer_client, make_invoice, status, mark, absent):
    make_invoice(
        number=f"INV-W-{status}",
        status=status,
        paid_date=date(2025, 6, 20) if status == "PAID" else None,
    )
    text = invoice_text(issuer_client, f"INV-W-{status}")
    assert mark in text
    assert not any(other in text for other in absent)
    if status == "PAID":
        assert "2025-06-20" in text and "Paid on Jun 20, 2025" in text


def test_no_adjustment_line_when_payable_equals_usage(issuer_client, make_invoice):
    make_invoice(number="INV-NOADJ")
    assert "Adjustment" not in invoice_text(issuer_client, "INV-NOADJ")


def test_overdue_invoice_says_so(issuer_client, make_invoice):
    make_invoice(number="INV-LATE", status="DUE", due_date=date(2025, 7, 1))
    assert "Overdue since Jul 1, 2025" in invoice_text(issuer_client, "INV-LATE")


def test_unknown_invoice_is_404(issuer_client):
    assert issuer_client.get("/billing/invoices/INV-NOPE.pdf").status_code == 404


def test_logo_comes_from_the_static_folder(
    issuer_app, issuer_client, make_invoice, tmp_path
):
    static = tmp_path / "static"
    (static / "brand").mkdir(parents=True)
    Image.new("RGB", (40, 20), "#1d4ed8").save(static / "brand" / "logo.png")
    Image.new("RGB", (40, 20), "#ff0000").save(tmp_path / "outside.png")
    issuer_app.static_folder = str(static)
    make_invoice(number="INV-LOGO")

    def images(logo: str) -> int:
        issuer_app.config["ISSUER_LOGO"] = logo
        response = issuer_client.get("/billing/invoices/INV-LOGO.pdf")
        return len(PdfReader(io.BytesIO(response.get_data())).pages[0].images)

    assert images("brand/logo.png") == 1
    assert images("../outside.png") == 0
    assert images("/etc/passwd") == 0


def test_page_chunks_put_fewer_rows_on_the_first_page():
    chunks = list(list_pdf.page_chunks(list(range(70)), 24, 32))
    assert [len(c) for c in chunks] == [24, 32, 14]
    assert list(list_pdf.page_chunks([], 24, 32)) == []


def test_empty_list_still_makes_a_pdf(client, auth, listing):
    auth.login()
    text = "\n".join(pages(client.get("/billing/invoices/export.pdf?q=nothing-here")))
    assert "No invoices match these filters." in text and "Page 1 of 1" in text


def test_a_page_holds_at_most_32_rows_each_under_the_header(client, auth, make_invoice):
    for i in range(70):
        make_invoice(number=f"INV-P{i:03d}", client_name=f"Client {i:03d}")
    auth.login()
    texts = pages(client.get("/billing/invoices/export.pdf?sort=number"))
    per_page = [re.findall(r"INV-P\d{3}", text) for text in texts]
    assert [len(numbers) for numbers in per_page] == [24, 32, 14]
    assert sum(per_page, []) == [f"INV-P{i:03d}" for i in range(70)]
    for text in texts:
        assert "Invoice No Client Billing period Due date Status" in text


# Wider than the client column (31% of the page): it has to wrap.
LONG_NAME = "Fjällräven Intergalactic Cloud Computing and Data Warehousing " * 2
MIXED_NAME = "山田太郎株式会社 Yamada Taro Holdings International " * 3


@pytest.mark.parametrize("name", [LONG_NAME.strip(), MIXED_NAME.strip()])
def test_a_long_client_name_wraps_in_its_column_and_reads_whole(
    client, auth, make_invoice, name
):
    make_invoice(number="INV-LONG", client_name=name)
    auth.login()
    response = client.get("/billing/invoices/export.pdf")
    (page,) = PdfReader(io.BytesIO(response.get_data())).pages
    raw = page.extract_text()
    # Whole and in order, then the next column; on more than one line.
    assert f"INV-LONG {name} May 2025" in " ".join(raw.split())
    lines = raw.splitlines()
    start = lines.index("INV-LONG") + 1
    assert len(lines[start]) < len(name) and name.startswith(lines[start].strip())


MARKUP = '<b>Bold</b> & <font name="Courier" color="red">Red</font> &amp; <br/>'


@pytest.mark.parametrize(
    "name",
    [MARKUP, f"{MARKUP} {LONG_NAME}", f"山田 {MARKUP}"],
    ids=["short", "wide", "cjk"],
)
def test_markup_in_a_client_name_prints_literally(client, auth, make_invoice, name):
    # Short text is drawn as it is; wide or CJK text goes through a Paragraph,
    # which would parse it as markup if it were not escaped.
    make_invoice(number="INV-MARK", client_name=name, notes=name)
    auth.login()
    text = "\n".join(
        pages(client.get("/billing/invoices/export.pdf?columns=notes&q=inv-mark"))
    )
    assert text.count(" ".join(name.split())) == 2  # client and notes
