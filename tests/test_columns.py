"""The column chooser: optional list columns, kept per user, followed by exports.

Today is frozen at 2025-07-15 12:00 UTC: INV-C1 (DUE, due 2025-07-05) reads as
OVER_DUE, ten days late, with 5.00 of its 15.00 paid.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import openpyxl
import pytest
import time_machine
from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from invoice_app.extensions import db
from invoice_app.filters import InvalidFilters, InvoiceFilters, parse_filters
from invoice_app.models import Invoice, User
from tests.conftest import csrf_token
from tests.export_job_helpers import cells, download, job, make_user, queue, sign_in
from tests.jobs_worker import queue_settings

TODAY = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)
HOSTILE_NOTE = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def app(app_factory, tmp_path):
    """Background exports run inside the request that queues them."""
    app = app_factory(JOBS_IMMEDIATE=True, **queue_settings(tmp_path))
    with app.app_context():
        yield app


@pytest.fixture
def invoices(make_invoice):
    make_invoice(
        number="INV-C1",
        client_name="Acme Analytics",
        client_email="+ops@acme.example",
        currency="EUR",
        usage_cost=Decimal("15.00"),
        payable=Decimal("15.00"),
        amount_paid=Decimal("5.00"),
        issue_date=date(2025, 6, 5),
        due_date=date(2025, 7, 5),
        billing_period=date(2025, 6, 1),
        notes=HOSTILE_NOTE,
    )
    make_invoice(
        number="INV-C2",
        client_name="Beta Labs",
        currency="JPY",
        usage_cost=Decimal("5000"),
        payable=Decimal("5000"),
        issue_date=date(2025, 6, 1),
        due_date=date(2025, 6, 20),
        status="PAID",
        paid_date=date(2025, 6, 18),
        billing_period=date(2025, 5, 1),
        notes="Paid early",
    )


def headers_of(html: str) -> list[str]:
    """The invoice table's column headers as a user reads them."""
    head = re.search(r"<thead.*?</thead>", html, re.S).group(0)
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    return [" ".join(re.sub(r"<[^>]+>|[▲▼]", " ", c).split()) for c in cells]


def row_cells(html: str, number: str) -> list[str]:
    row = re.search(
        rf"<tr id=\"invoice-\d+\">(?:(?!</tr>).)*?{number}.*?</tr>", html, re.S
    )
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def choose(client, *show, move=None, htmx=False, **filters):
    """Tick the columns show in the chooser (and press a move button)."""
    page = client.get("/billing/invoices", query_string=filters)
    data = MultiDict(
        [("csrf_token", csrf_token(page.get_data(as_text=True)))]
        + [("show", key) for key in show]
        + ([("move", move)] if move else [])
        + list(filters.items())
    )
    return client.post(
        "/billing/columns", data=data, headers={"HX-Request": "true"} if htmx else {}
    )


BASE = ["Invoice No Client Name", "Usage Cost Billing Period", "Payable Due Date"]


# The one parser -------------------------------------------------------------


def test_columns_parse_in_their_order_and_none_means_no_column():
    parse = lambda text: parse_filters(MultiDict({"columns": text}))  # noqa: E731
    assert parse("currency,issue_date").columns == ("currency", "issue_date")
    assert parse(" Notes , CURRENCY ").columns == ("notes", "currency")
    assert parse("none").columns == ()
    assert parse("").columns is None
    assert parse_filters(MultiDict()).columns is None
    assert InvoiceFilters(columns=("notes", "currency")).to_args() == {
        "columns": "notes,currency"
    }
    assert InvoiceFilters(columns=()).to_args() == {"columns": "none"}
    assert InvoiceFilters().to_args() == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("currency,colour", "'colour' is not a column"),
        ("notes,notes", "The column notes is named twice."),
        ("currency,,notes", "'' is not a column"),
        ("none,currency", "'none' is not a column"),
    ],
)
def test_a_bad_column_list_is_refused_on_the_columns_field(text, message):
    with pytest.raises(InvalidFilters) as raised:
        parse_filters(MultiDict({"columns": text}))
    assert message in " ".join(raised.value.errors["columns"])


# The list -------------------------------------------------------------------


def test_by_default_the_list_shows_the_guides_five_columns(client, auth, invoices):
    auth.login("staff")
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html) == [*BASE, "Status", "Actions"]
    assert 'id="column-chooser"' in html


def test_chosen_columns_show_in_order_and_are_kept_for_the_user(client, auth, invoices):
    auth.login("staff")  # a viewer may choose their own columns too
    response = choose(client, "days_overdue", "notes", "balance_due", status="DUE")
    assert response.status_code == 303
    assert response.headers["Location"] == "/billing/invoices?status=DUE"
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html) == [
        *BASE,
        "Status",
        "Days overdue",
        "Notes",
        "Balance due",
        "Actions",
    ]
    cells = row_cells(html, "INV-C1")
    assert cells[4:7] == ["10", HOSTILE_NOTE.replace('"', "&#34;"), "€10.00"]
    # Shown in their own columns, they are not repeated under Payable.
    assert "days overdue" not in cells[2] and "Balance" not in cells[2]
    assert row_cells(html, "INV-C2")[4:7] == ["", "Paid early", "¥0"]
    user = db.session.scalar(db.select(User).where(User.email == "staff@example.test"))
    db.session.refresh(user)
    assert user.list_columns == ["days_overdue", "notes", "balance_due"]


def test_moving_a_column_up_and_down(client, auth, invoices):
    auth.login("staff")
    choose(client, "currency", "issue_date", "client_email")
    choose(client, "currency", "issue_date", "client_email", move="up:client_email")
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html)[4:7] == ["Currency", "Client e-mail", "Issue date"]
    choose(client, "currency", "client_email", "issue_date", move="down:currency")
    choose(client, "client_email", "currency", "issue_date", move="up:client_email")
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html)[4:7] == ["Client e-mail", "Currency", "Issue date"]
    # The chooser lists the shown columns first, in their order.
    boxes = re.findall(r'name="show" value="([a-z_]+)"( checked)?', html)
    assert [key for key, on in boxes if on] == [
        "client_email",
        "currency",
        "issue_date",
    ]
    assert len(boxes) == 7


def test_an_htmx_choice_answers_the_table_fragment(client, auth, invoices):
    auth.login("staff")
    response = choose(client, "issue_date", "currency", htmx=True, sort="number")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="invoice-results"')
    assert "<html" not in html
    assert headers_of(html)[4:6] == ["Issue date", "Currency"]
    # The chooser stays open, and the address is the list's, naming no columns.
    assert '<details class="column-chooser" id="column-chooser" open>' in html
    assert response.headers["HX-Replace-Url"] == "/billing/invoices?sort=number"
    assert row_cells(html, "INV-C1")[4:6] == ["Jun 5, 2025", "EUR"]
    # Issue date is a sort key: its header is a sort link.
    assert 'id="sort-issue_date"' in html


def test_the_fragment_and_the_empty_list_follow_the_column_count(
    client, auth, invoices
):
    auth.login("staff")
    choose(client, "notes", "currency")
    html = client.get(
        "/billing/invoices?q=nothing-like-this", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert headers_of(html)[4:6] == ["Notes", "Currency"]
    assert '<tr class="empty"><td colspan="7">' in html


def test_billing_period_in_its_own_column_is_not_stacked_too(client, auth, invoices):
    auth.login("staff")
    choose(client, "billing_period")
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html) == [
        "Invoice No Client Name",
        "Usage Cost",
        "Payable Due Date",
        "Status",
        "Billing period",
        "Actions",
    ]
    assert 'id="sort-period"' in html
    assert row_cells(html, "INV-C1")[1] == "€15.00"
    assert row_cells(html, "INV-C1")[4] == "June 2025"


def test_another_user_keeps_their_own_columns(app, client, auth, invoices):
    auth.login("staff")
    choose(client, "notes")
    other = app.test_client()
    type(auth)(other).login("admin")
    html = other.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html) == [*BASE, "Status", "Actions"]
    assert "Notes" in headers_of(client.get("/billing/invoices").get_data(True))


def test_columns_in_the_address_win_over_the_saved_choice(client, auth, invoices):
    auth.login("staff")
    choose(client, "notes")
    html = client.get("/billing/invoices?columns=currency").get_data(as_text=True)
    assert headers_of(html)[4:5] == ["Currency"]
    # The filter form keeps them through filtering, sort links carry them.
    assert 'name="columns" value="currency" form="invoice-filters"' in html
    assert "sort=number&amp;columns=currency" in html or (
        "columns=currency&amp;sort=number" in html
    )
    html = client.get("/billing/invoices?columns=none").get_data(as_text=True)
    assert headers_of(html) == [*BASE, "Status", "Actions"]


@pytest.mark.parametrize(
    "path",
    [
        "/billing/invoices",
        "/api/invoices",
        "/billing/invoices/export.xlsx",
        "/billing/invoices/export.pdf",
    ],
)
def test_a_bad_columns_parameter_is_400_with_its_message(client, auth, invoices, path):
    auth.login("staff")
    response = client.get(f"{path}?columns=currency,bogus")
    assert response.status_code == 400
    assert "'bogus' is not a column" in unescape(response.get_data(as_text=True))
    if path == "/api/invoices":
        assert "columns" in {e["field"] for e in response.json["errors"]}
    if path == "/billing/invoices":
        assert 'id="columns-error"' in response.get_data(as_text=True)


def test_a_bad_columns_parameter_in_a_fragment_shows_its_message(
    client, auth, invoices
):
    auth.login("staff")
    response = client.get(
        "/billing/invoices?columns=notes,notes", headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert response.headers["HX-Reswap"] == "none"
    assert "The column notes is named twice." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"show": "colour"},
        {"show": "notes", "move": "sideways:notes"},
        {"show": "notes", "move": "up:colour"},
    ],
)
def test_a_bad_choice_is_400_and_keeps_the_saved_one(client, auth, invoices, fields):
    auth.login("staff")
    choose(client, "currency")
    token = csrf_token(client.get("/billing/invoices").get_data(as_text=True))
    response = client.post("/billing/columns", data={"csrf_token": token, **fields})
    assert response.status_code == 400
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html)[4:5] == ["Currency"]


def test_unticking_every_column_goes_back_to_the_five(client, auth, invoices):
    auth.login("staff")
    choose(client, "currency", "notes")
    choose(client)
    html = client.get("/billing/invoices").get_data(as_text=True)
    assert headers_of(html) == [*BASE, "Status", "Actions"]


def test_a_row_changed_by_an_action_keeps_the_chosen_cells(client, auth, invoices):
    auth.login("admin")
    choose(client, "balance_due", "currency")
    page = client.get("/billing/invoices").get_data(as_text=True)
    invoice = db.session.scalar(db.select(Invoice).where(Invoice.number == "INV-C1"))
    response = client.post(
        "/billing/invoices/INV-C1/pay",
        data={
            "csrf_token": csrf_token(page),
            "version": invoice.version,
            "amount": "4.00",
            "received_on": "2025-07-14",
            "answer": "row",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert row_cells(response.get_data(as_text=True), "INV-C1")[4:6] == [
        "€6.00",
        "EUR",
    ]


# Exports --------------------------------------------------------------------

XLSX_BASE = [
    "Invoice number",
    "Client name",
    "Billing period",
    "Usage cost",
    "Payable",
    "Due date",
    "Status",
    "Paid date",
]


def sheet_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))["Invoices"]


def test_the_xlsx_has_the_chosen_columns_as_typed_cells(client, auth, invoices):
    auth.login("staff")
    choose(
        client,
        "issue_date",
        "balance_due",
        "days_overdue",
        "currency",
        "client_email",
        "notes",
        "billing_period",
    )
    sheet = sheet_of(client.get("/billing/invoices/export.xlsx?sort=number"))
    header = [cell.value for cell in sheet[1]]
    # The billing period is among the fixed columns of a file already.
    assert header == [
        *XLSX_BASE,
        "Issue date",
        "Balance due",
        "Days overdue",
        "Currency",
        "Client e-mail",
        "Notes",
    ]
    assert sheet.auto_filter.ref == "A1:N3"
    row = dict(zip(header, sheet[2], strict=True))  # INV-C1
    assert row["Issue date"].is_date and row["Issue date"].value == datetime(2025, 6, 5)
    assert row["Issue date"].number_format == "yyyy-mm-dd"
    assert row["Balance due"].data_type == "n" and row["Balance due"].value == 10
    assert row["Balance due"].number_format == '#,##0.00 "EUR"'
    assert row["Days overdue"].data_type == "n" and row["Days overdue"].value == 10
    assert row["Days overdue"].number_format == "General"
    assert row["Currency"].value == "EUR"
    for name, text in (("Client e-mail", "+ops@acme.example"), ("Notes", HOSTILE_NOTE)):
        assert row[name].data_type == "s" and row[name].value == text
        assert row[name].quotePrefix is True
    paid = dict(zip(header, sheet[3], strict=True))  # INV-C2
    assert paid["Balance due"].value == 0
    assert paid["Balance due"].number_format == '#,##0 "JPY"'
    assert paid["Days overdue"].value is None
    assert paid["Notes"].value == "Paid early" and not paid["Notes"].quotePrefix


def test_the_xlsx_follows_columns_in_the_address_and_the_order(client, auth, invoices):
    auth.login("staff")
    choose(client, "notes")
    sheet = sheet_of(client.get("/billing/invoices/export.xlsx?columns=currency,notes"))
    assert [c.value for c in sheet[1]][8:] == ["Currency", "Notes"]
    sheet = sheet_of(client.get("/billing/invoices/export.xlsx"))
    assert [c.value for c in sheet[1]] == [*XLSX_BASE, "Notes"]
    sheet = sheet_of(client.get("/billing/invoices/export.xlsx?columns=none"))
    assert [c.value for c in sheet[1]] == XLSX_BASE


def test_the_selection_xlsx_has_the_chosen_columns(client, auth, invoices):
    auth.login("staff")
    choose(client, "days_overdue")
    page = client.get("/billing/invoices").get_data(as_text=True)
    response = client.post(
        "/billing/invoices/bulk/export.xlsx",
        data={"csrf_token": csrf_token(page), "numbers": ["INV-C1"]},
    )
    sheet = sheet_of(response)
    assert [c.value for c in sheet[1]] == [*XLSX_BASE, "Days overdue"]
    assert sheet["I2"].value == 10


def test_the_pdf_prints_the_chosen_columns(client, auth, invoices):
    auth.login("staff")
    choose(client, "days_overdue", "client_email", "notes")
    response = client.get("/billing/invoices/export.pdf?sort=number")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Payable Days overdue Client e-mail Notes" in text
    assert "+ops@acme.example" in text and "Paid early" in text
    plain = client.get("/billing/invoices/export.pdf?columns=none")
    plain_text = " ".join(
        PdfReader(io.BytesIO(plain.get_data())).pages[0].extract_text().split()
    )
    assert "Days overdue" not in plain_text and "Notes" not in plain_text


def test_a_background_export_keeps_the_columns_chosen_when_queued(client, invoices):
    staff = make_user("staff@example.test", "staff")
    sign_in(client, staff)
    choose(client, "notes", "balance_due")
    streamed = client.get("/billing/invoices/export.xlsx?sort=number")
    job_id = queue(client, sort="number")
    # The worker has no user to ask: the job names the columns itself.
    assert job(job_id).filters == {"sort": "number", "columns": "notes,balance_due"}
    # Choosing other columns afterwards does not change the queued file.
    choose(client, "currency")
    body = download(client, job_id).data
    assert cells(body) == cells(streamed.data)
    header = [c[0] for c in cells(body)["Invoices"][0]]
    assert header == [*XLSX_BASE, "Notes", "Balance due"]
