"""Billing › Overview through HTTP: figures, their links, the API and the exports.

The day is frozen at TODAY (2025-07-15). The world: USD invoices in every
aging bucket, EUR ones in two, and invoices that must never count (a draft, a
paid one, an imported cancel, one issued tomorrow).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from invoice_app.extensions import db
from invoice_app.models import Payment
from tests.conftest import TODAY

D = TODAY.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def late(days: int) -> dict:
    return {"issue_date": D - timedelta(days=200), "due_date": D - timedelta(days=days)}


@pytest.fixture
def world(make_invoice):
    """{bucket: {currency: set of numbers}} of what each figure must list."""
    expected: dict[str, dict[str, set[str]]] = {}

    def owed(bucket, currency="USD", days=0, payable="100.00", **values):
        invoice = make_invoice(
            currency=currency,
            payable=Decimal(payable),
            usage_cost=Decimal(payable),
            **late(days),
            **values,
        )
        for key in (bucket, "outstanding", *(["overdue"] if days > 0 else [])):
            expected.setdefault(key, {}).setdefault(currency, set()).add(invoice.number)
        return invoice

    owed("not_due", days=-10, client_name="Early Bird")
    owed("not_due", days=0, client_name="Early Bird")  # due today: not late
    owed("1_30", days=1, client_name="Slow Co", payable="250.00")
    partly = owed("1_30", days=30, client_name="Slow Co", payable="80.00")
    partly.payments.append(Payment(amount=Decimal("30.00"), received_on=D))
    partly.amount_paid = Decimal("30.00")
    owed("31_60", days=31, client_name="Later Ltd", payable="40.00")
    owed("61_90", days=90, client_name="Later Ltd", payable="60.00")
    owed("over_90", days=91, client_name="Ancient Inc", payable="500.00")
    owed("1_30", currency="EUR", days=5, client_name="Euro GmbH", payable="70.00")
    owed("over_90", currency="EUR", days=120, client_name="Euro GmbH")
    # Never owed today:
    make_invoice(status="DRAFT", issue_date=None, client_name="Slow Co")
    make_invoice(
        status="PAID",
        paid_date=D - timedelta(days=1),
        amount_paid=Decimal("15.00"),
        client_name="Slow Co",
        **late(40),
    )
    make_invoice(status="CANCEL", client_name="Slow Co", **late(50))
    make_invoice(
        issue_date=D + timedelta(days=1),
        due_date=D + timedelta(days=30),
        client_name="Slow Co",
    )
    db.session.commit()
    return expected


def listed_numbers(client, url: str) -> list[str]:
    """Every invoice number the invoice list at url shows (all pages of 200)."""
    numbers = []
    query = parse_qs(urlsplit(url).query)
    query["per_page"] = ["200"]
    response = client.get(urlsplit(url).path, query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    numbers = re.findall(r'name="numbers" value="([^"]+)"', html)
    assert len(numbers) < 200
    return numbers


def figure_links(html: str) -> list[tuple[str, str, str]]:
    """(currency, row, href) of each figure in the aging tables."""
    found = []
    for currency, table in re.findall(
        r'<table class="aging" data-currency="([A-Z]{3})">(.*?)</table>', html, re.S
    ):
        for row, cell in re.findall(
            r'<tr[^>]*data-row="(\w+)">(.*?)</tr>', table, re.S
        ):
            link = re.search(r'href="([^"]+)"', cell)
            found.append((currency, row, unescape(link.group(1)) if link else ""))
    return found


def test_overview_and_api_need_a_sign_in(client):
    for url in (
        "/billing/overview",
        "/api/receivables",
        "/billing/overview/export.xlsx",
    ):
        response = client.get(url)
        assert response.status_code in (302, 401), url


def test_each_figure_links_to_exactly_its_invoices(admin, world):
    page = admin.get("/billing/overview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    links = figure_links(html)
    assert {(c, r) for c, r, _ in links} == {
        (c, r)
        for c in ("USD", "EUR")
        for r in (
            "outstanding",
            "overdue",
            "not_due",
            "1_30",
            "31_60",
            "61_90",
            "over_90",
        )
    }
    for currency, row, href in links:
        assert href, (currency, row)
        shown = listed_numbers(admin, href)
        assert sorted(shown) == sorted(world.get(row, {}).get(currency, set())), (
            currency,
            row,
        )
    # The page's own counts are those of the lists.
    usd = re.search(r'data-currency="USD">(.*?)</table>', html, re.S).group(1)
    count = re.search(r'data-row="1_30">.*?data-count>(\d+)<', usd, re.S).group(1)
    assert int(count) == len(world["1_30"]["USD"])


def test_figures_add_up_and_are_per_currency(admin, world):
    body = admin.get("/api/receivables").get_json()
    assert body["as_of"] == D.isoformat()
    usd = next(c for c in body["currencies"] if c["currency"] == "USD")
    assert usd["buckets"]["1_30"] == {"amount": "300.00", "count": 2}  # 250 + 80-30
    assert usd["buckets"]["not_due"] == {"amount": "200.00", "count": 2}
    assert usd["outstanding"] == "1100.00"
    assert usd["overdue"] == "900.00"
    total = sum(Decimal(b["amount"]) for b in usd["buckets"].values())
    assert total == Decimal(usd["outstanding"])
    eur = next(c for c in body["currencies"] if c["currency"] == "EUR")
    assert eur["outstanding"] == "170.00"
    assert [c["currency"] for c in body["currencies"]] == ["EUR", "USD"]


def test_the_api_answers_for_a_past_day(admin, world):
    # 60 days ago the over_90 USD invoice was 31 days late, due-today ones not due.
    body = admin.get(
        "/api/receivables", query_string={"as_of": (D - timedelta(days=60)).isoformat()}
    ).get_json()
    usd = next(c for c in body["currencies"] if c["currency"] == "USD")
    assert usd["buckets"]["31_60"] == {"amount": "500.00", "count": 1}
    # Not yet due then: 100 + 100 + 250 + 40, the partly paid one whole (its
    # payment came today, 80.00), and the one paid yesterday (15.00).
    assert usd["buckets"]["not_due"] == {"amount": "585.00", "count": 6}


@pytest.mark.parametrize(
    "value", ["2025-13-01", "yesterday", "2025-02-30", "0000-01-01", "x" * 500, "<b>"]
)
def test_a_bad_as_of_is_a_clear_400(admin, value):
    page = admin.get("/billing/overview", query_string={"as_of": value})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "is not a valid date" in html and "<b>" not in html
    api = admin.get("/api/receivables", query_string={"as_of": value})
    assert api.status_code == 400
    assert "as_of" in api.get_json()["errors"]
    export = admin.get("/billing/overview/export.xlsx", query_string={"as_of": value})
    assert export.status_code == 400


@pytest.mark.parametrize(
    "args",
    [{"aging": "2_3"}, {"currency": "dollars"}, {"client": "x" * 300}],
)
def test_bad_new_list_filters_are_a_400(admin, args):
    assert admin.get("/billing/invoices", query_string=args).status_code == 400
    assert admin.get("/api/invoices", query_string=args).status_code == 400


def test_a_past_day_shows_figures_without_links(admin, world):
    html = admin.get(
        "/billing/overview", query_string={"as_of": "2025-06-01"}
    ).get_data(as_text=True)
    assert (
        "only today&#39;s figures link" in html or "only today's figures link" in html
    )
    assert all(href == "" for _, _, href in figure_links(html))


def test_top_clients_link_to_their_invoices(admin, world):
    html = admin.get("/billing/overview").get_data(as_text=True)
    usd = html.split('data-currency="USD"', 1)[1]
    clients = re.findall(r'<tr data-client="([^"]+)">', usd.split("</table>", 2)[1])
    # Overdue USD: Ancient 500, Slow 300, Later 100; Early Bird owes nothing late.
    assert clients == [
        "ancientinc@example.test",
        "slowco@example.test",
        "laterltd@example.test",
    ]
    row = re.search(
        r'<tr data-client="slowco@example.test">(.*?)</tr>', usd, re.S
    ).group(1)
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]+)"', row)]
    assert len(listed_numbers(admin, hrefs[0])) == 2  # the client: all it owes
    assert sorted(listed_numbers(admin, hrefs[2])) == sorted(world["1_30"]["USD"])


def test_the_chart_is_server_side_accessible_svg(admin, world):
    page = admin.get("/billing/overview").get_data(as_text=True)
    # The page asks for its chart once shown (htmx), or links to it.
    assert 'hx-get="/billing/overview/chart?as_of=2025-07-15"' in page
    assert 'href="/billing/overview/chart?as_of=2025-07-15"' in page
    response = admin.get(
        "/billing/overview/chart",
        query_string={"as_of": "2025-07-15"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="overview-charts">')
    svg = re.search(r'<svg class="bar-chart".*?</svg>', html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "style=" not in html and "<script" not in html
    assert len(re.findall(r"<rect ", svg)) == 36  # 12 months, three bars
    # The data table for screen readers: July's invoiced is nothing (issued
    # 200 days ago), its overdue is today's overdue.
    table = re.search(r"<caption>USD by month</caption>(.*?)</table>", html, re.S)
    assert "July 2025" in table.group(1) and "$900.00" in table.group(1)
    # Without htmx, the same chart is a page of its own, under the CSP.
    plain = admin.get("/billing/overview/chart")
    assert "<h1>Receivables: the last 12 months" in plain.get_data(as_text=True)
    assert "script-src 'self'" in plain.headers["Content-Security-Policy"]


def test_overview_is_in_the_navigation(admin):
    html = admin.get("/billing/invoices").get_data(as_text=True)
    assert 'href="/billing/overview"' in html


def test_the_list_keeps_the_overview_filters_in_its_form(admin, world):
    html = admin.get(
        "/billing/invoices",
        query_string={
            "aging": "1_30",
            "currency": "usd",
            "client": "SlowCo@example.test",
        },
    ).get_data(as_text=True)
    assert '<input type="hidden" name="aging" value="1_30">' in html
    assert '<input type="hidden" name="currency" value="USD">' in html
    numbers = re.findall(r'name="numbers" value="([^"]+)"', html)
    assert sorted(numbers) == sorted(world["1_30"]["USD"])


def test_exports_of_the_list_follow_the_new_filters(admin, world):
    response = admin.get(
        "/billing/invoices/export.xlsx", query_string={"aging": "over_90"}
    )
    sheet = load_workbook(io.BytesIO(response.data))["Invoices"]
    numbers = {
        row[0]
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if str(row[0]).startswith("INV-")
    }
    assert numbers == world["over_90"]["USD"] | world["over_90"]["EUR"]
    info = " ".join(
        str(v)
        for row in load_workbook(io.BytesIO(response.data))["Export info"].iter_rows(
            values_only=True
        )
        for v in row
        if v
    )
    assert "Over 90 days" in info


def test_overview_xlsx_has_typed_cells_and_inert_text(admin, make_invoice, world):
    make_invoice(
        client_name='=HYPERLINK("http://x")',
        client_email="evil@example.test",
        **late(10),
    )
    response = admin.get("/billing/overview/export.xlsx")
    assert response.status_code == 200
    assert "receivables-2025-07-15.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    aging_sheet = book["Aging"]
    assert aging_sheet["B1"].value.date() == D
    rows = {r[0].value: r for r in aging_sheet.iter_rows(min_row=4)}
    assert rows["USD"][1].value == 1115
    assert rows["USD"][1].number_format.endswith('"USD"')
    clients = book["Top clients"]
    evil = next(
        r for r in clients.iter_rows(min_row=2) if r[2].value == "evil@example.test"
    )
    assert evil[1].value == '=HYPERLINK("http://x")'
    assert evil[1].data_type == "s" and evil[1].quotePrefix
    months = book["Months"]
    assert months.max_row == 1 + 12 * 2


def test_overview_pdf_shows_the_figures(admin, world):
    response = admin.get(
        "/billing/overview/export.pdf", query_string={"as_of": D.isoformat()}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages
    )
    assert "Receivables as of 2025-07-15" in text
    assert "$1,100.00" in text and "€170.00" in text
    assert "Ancient Inc" in text


@pytest.mark.parametrize(
    "name", ["Zoë Çelik Ñandú", "Пётр Ильич", "山田太郎株式会社", "Αλέξανδρος"]
)
def test_overview_pdf_client_names_in_any_script_come_out_as_text(
    admin, make_invoice, name
):
    make_invoice(client_name=name, client_email="script@example.test", **late(10))
    response = admin.get("/billing/overview/export.pdf")
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert name in " ".join(p.extract_text() for p in pages)


def test_a_currency_whose_invoices_were_all_cancelled_has_no_chart(
    admin, make_invoice, world
):
    # Its tally group stays behind at zero invoices once the invoice moves on.
    gone = make_invoice(currency="JPY", payable="5000.00", usage_cost="5000.00")
    gone.status = "CANCEL"
    gone.cancel_reason = "Billed twice"
    db.session.commit()
    html = admin.get(
        "/billing/overview/chart", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "USD by month" in html and "JPY" not in html
    book = load_workbook(io.BytesIO(admin.get("/billing/overview/export.xlsx").data))
    assert book["Months"].max_row == 1 + 12 * 2
