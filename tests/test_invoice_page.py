"""The Invoice Manager page and its htmx fragment, as the browser receives them."""

import html as html_text
import json
import re
from datetime import date
from decimal import Decimal

import pytest

from invoice_app.extensions import db
from invoice_app.models import Invoice


@pytest.fixture
def signed_in(client, auth):
    auth.login("staff")
    return client


def test_page_sits_in_the_portal_shell(signed_in, make_invoice):
    html = signed_in.get("/billing/invoices").get_data(as_text=True)
    assert 'class="topbar"' in html
    assert re.search(r'class="active" aria-current="page">Invoices</a>', html)
    assert "Billing › Invoices" in html
    assert 'src="/static/vendor/htmx/htmx.min.js"' in html


def test_rows_show_the_guides_five_columns(signed_in, make_invoice):
    make_invoice(
        number="INV-2025-0001",
        client_name="Müller GmbH",
        billing_period=date(2025, 5, 1),
        currency="EUR",
        usage_cost=Decimal("1234.5"),
        payable=Decimal("1200"),
        due_date=date(2025, 6, 30),
        status="PAID",
        paid_date=date(2025, 6, 2),
    )
    html = signed_in.get("/billing/invoices").get_data(as_text=True)
    headers = re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", html, re.S)
    labels = [re.sub(r"<[^>]+>|[▲▼]", " ", h).split() for h in headers]
    assert [" ".join(x) for x in labels] == [
        "Invoice No Client Name",
        "Usage Cost Billing Period",
        "Payable Due Date",
        "Status",
        "Actions",
    ]
    row = re.search(r'<tr id="invoice-\d+">(.*?)</tr>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", row)
    for expected in [
        "INV-2025-0001",
        "Müller GmbH",
        "€1,234.50",
        "May 2025",
        "€1,200.00",
        "Jun 30, 2025",
        "PAID",
    ]:
        assert expected in text
    assert 'href="/billing/invoices/INV-2025-0001"' in row


def test_totals_are_per_currency_never_mixed(signed_in, make_invoice):
    make_invoice(currency="USD", payable=Decimal("10.10"))
    make_invoice(currency="USD", payable=Decimal("0.20"))
    make_invoice(currency="JPY", payable=Decimal("1500"), usage_cost=Decimal("1500"))
    html = signed_in.get("/billing/invoices").get_data(as_text=True)
    totals = re.search(r'<div class="totals".*?</div>', html, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", totals).split())
    assert text == "JPY ¥1,500 (1) USD $10.30 (2)"
    assert "3 invoices" in html


def test_user_data_is_escaped(signed_in, make_invoice):
    make_invoice(client_name="<script>alert(1)</script>", notes="<b>x</b>")
    html = signed_in.get("/billing/invoices").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_htmx_request_gets_the_fragment_with_out_of_band_updates(
    signed_in, make_invoice
):
    make_invoice(client_name="Acme", status="DRAFT", issue_date=None)
    make_invoice(client_name="Zeta", status="PAID", paid_date=date(2025, 7, 1))
    response = signed_in.get(
        "/billing/invoices?status=PAID&q=&date_from=", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith("{#") or 'id="invoice-results"' in html
    assert response.headers["HX-Push-Url"] == "/billing/invoices?status=PAID"
    assert "HX-Request" in response.headers["Vary"]
    # The whole status select, out of band: its counts follow the other filters.
    assert re.search(r'<select id="status" name="status"\s+hx-swap-oob="true">', html)
    assert re.search(r'<option value="PAID" selected>PAID \(1\)', html)
    assert re.search(r'<option value="DRAFT"\s*>DRAFT \(1\)', html)
    assert "Zeta" in html and "Acme" not in html


LIST = "/billing/invoices"


def _history(client, url: str, current: str | None) -> tuple[str, str]:
    headers = {"HX-Request": "true"}
    if current is not None:
        headers["HX-Current-URL"] = (
            current if "://" in current else f"http://localhost{current}"
        )
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    (kind,) = [h for h in ("HX-Push-Url", "HX-Replace-Url") if h in response.headers]
    return kind, response.headers[kind]


@pytest.mark.parametrize(
    ("current", "url", "expected"),
    [
        # A new view: its own history entry.
        (LIST, f"{LIST}?status=PAID", ("HX-Push-Url", f"{LIST}?status=PAID")),
        (
            f"{LIST}?status=PAID",
            f"{LIST}?status=DUE",
            ("HX-Push-Url", f"{LIST}?status=DUE"),
        ),
        (f"{LIST}?q=ab", f"{LIST}?q=cd", ("HX-Push-Url", f"{LIST}?q=cd")),
        (
            f"{LIST}?q=ab",
            f"{LIST}?q=abc&status=DUE",
            ("HX-Push-Url", f"{LIST}?status=DUE&q=abc"),
        ),
        # The first search is a new view; typing on within it is not.
        (LIST, f"{LIST}?q=ce", ("HX-Push-Url", f"{LIST}?q=ce")),
        (f"{LIST}?q=ce", f"{LIST}?q=Cedar", ("HX-Replace-Url", f"{LIST}?q=Cedar")),
        (f"{LIST}?q=cedar", f"{LIST}?q=ced", ("HX-Replace-Url", f"{LIST}?q=ced")),
        (
            f"{LIST}?q=ce&page=2",
            f"{LIST}?q=ced",
            ("HX-Replace-Url", f"{LIST}?q=ced"),
        ),
        (f"{LIST}?q=ce", f"{LIST}?q=", ("HX-Push-Url", LIST)),
        # The same view again (raw form query, or a date field without dates):
        # the entry is replaced, with the canonical URL.
        (
            f"{LIST}?status=PAID&date_field=period&date_from=&q=&sort=-period",
            f"{LIST}?status=PAID&date_from=&q=&sort=-period&per_page=25",
            ("HX-Replace-Url", f"{LIST}?status=PAID"),
        ),
        (
            f"{LIST}?status=PAID",
            f"{LIST}?status=PAID&date_field=due",
            ("HX-Replace-Url", f"{LIST}?status=PAID"),
        ),
        # Not on a valid list (another page, bad filters, no header): push.
        (f"{LIST}/INV-1", LIST, ("HX-Push-Url", LIST)),
        (f"{LIST}?date_from=2024-13-01", LIST, ("HX-Push-Url", LIST)),
        (None, LIST, ("HX-Push-Url", LIST)),
        ("http://[bad", LIST, ("HX-Push-Url", LIST)),
    ],
)
def test_the_server_decides_push_or_replace(signed_in, current, url, expected):
    assert _history(signed_in, url, current) == expected


def test_push_or_replace_in_embed_mode(signed_in):
    view = f"{LIST}?status=DUE&embed=1"
    assert _history(signed_in, view, f"{LIST}?embed=1") == ("HX-Push-Url", view)
    assert _history(signed_in, view, view) == ("HX-Replace-Url", view)


def test_htmx_requests_carry_the_pages_csrf_token(client, auth, make_invoice):
    invoice = make_invoice(status="DUE")
    auth.login("admin")
    # Embed mode: no sign-out form, so the body's hx-headers is the one token.
    page = client.get("/billing/invoices?embed=1").get_data(as_text=True)
    found = re.search(r"<body hx-headers='([^']+)'", page)
    headers = json.loads(html_text.unescape(found.group(1)))
    assert list(headers) == ["X-CSRFToken"]
    response = client.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={"version": invoice.version, "reason": "Sent twice", "answer": "row"},
        headers={**headers, "HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    # The row, and the counts out of band from the same partial as the table's.
    assert re.search(r'<select id="status" name="status"\s+hx-swap-oob="true">', body)
    assert re.search(r'<option value="CANCEL"\s*>CANCEL \(1\)', body)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "CANCEL"
    forged = client.post(
        f"/billing/invoices/{invoice.number}/issue",
        data={"version": invoice.version},
        headers={"X-CSRFToken": "forged", "HX-Request": "true"},
    )
    assert forged.status_code == 400


def test_history_restore_gets_the_full_page(signed_in):
    response = signed_in.get(
        "/billing/invoices?status=PAID",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_page_links_keep_the_filters(signed_in, make_invoice):
    for _ in range(3):
        make_invoice(client_name="Acme")
    html = signed_in.get("/billing/invoices?q=acme&per_page=1&sort=number").get_data(
        as_text=True
    )
    assert (
        'href="/billing/invoices?q=acme&amp;sort=number&amp;page=2&amp;per_page=1"'
        in (html)
    )
    assert "Page 1 of 3" in html


def test_controls_show_the_current_filters(signed_in):
    html = signed_in.get(
        "/billing/invoices?status=DUE&date_field=due&date_from=2025-01-01"
        "&date_to=2025-01-31&q=acme"
    ).get_data(as_text=True)
    assert re.search(r'<option value="DUE" selected>', html)
    assert re.search(r'<option value="due" selected>', html)
    assert 'name="date_from" value="2025-01-01"' in html
    assert 'name="date_to" value="2025-01-31"' in html
    assert 'name="q" value="acme"' in html


def test_detail_page_shows_every_field_and_line(signed_in, make_invoice):
    make_invoice(
        number="INV-9",
        client_name="Zeta",
        notes="PO 77",
        lines=[
            ("Compute", "10", "1.5", "15.00"),
            ("Egress", "100", "0.000012", "0.00"),
        ],
    )
    html = signed_in.get("/billing/invoices/INV-9").get_data(as_text=True)
    for expected in ["Invoice INV-9", "Zeta", "zeta@example.test", "PO 77", "May 2025"]:
        assert expected in html
    assert "Compute" in html and "Egress" in html and "0.000012 USD" in html


def test_unknown_invoice_is_404_in_the_shell(signed_in):
    response = signed_in.get("/billing/invoices/NOPE")
    assert response.status_code == 404
    assert "There is no invoice NOPE." in response.get_data(as_text=True)
    assert 'class="topbar"' in response.get_data(as_text=True)
