"""The app under gunicorn, mounted under a URL prefix, driven over real HTTP."""

import io
import re
import urllib.parse
from datetime import date

import openpyxl
import pytest

from invoice_app.billing.exports import XLSX_BATCH
from invoice_app.demo.load import seed_demo
from invoice_app.extensions import db
from invoice_app.models import Invoice
from tests.conftest import PASSWORDS, csrf_token
from tests.gunicorn_server import Browserless, GunicornServer

PREFIX = "/portal/billing"


@pytest.fixture
def prefixed_server(database_url, auth, make_invoice):
    auth.user("staff")
    make_invoice(number="INV-P1", client_name="Prefix Co")
    with GunicornServer(database_url, SCRIPT_NAME=PREFIX) as server:
        yield server


def test_everything_carries_the_url_prefix_under_gunicorn(prefixed_server):
    http = Browserless(prefixed_server.base)
    status, headers, _ = http.request(f"{PREFIX}/billing/invoices?status=DUE")
    assert status == 302
    assert headers["Location"] == (
        f"{PREFIX}/login?next={PREFIX}/billing/invoices?status%3DDUE"
    )

    status, _, body = http.request(headers["Location"])
    login_page = body.decode()
    assert f'src="{PREFIX}/static/vendor/htmx/htmx.min.js"' in login_page
    form = urllib.parse.urlencode(
        {
            "email": "staff@example.test",
            "password": PASSWORDS["staff"],
            "csrf_token": csrf_token(login_page),
        }
    ).encode()
    status, headers, _ = http.request(headers["Location"], data=form)
    assert status == 302
    assert headers["Location"] == f"{PREFIX}/billing/invoices?status=DUE"

    status, _, body = http.request(f"{PREFIX}/billing/invoices")
    page = body.decode()
    assert status == 200 and "INV-P1" in page
    urls = re.findall(r'(?:href|src|action|hx-get|hx-post)="(/[^"]*)"', page)
    assert len(urls) > 10
    assert [u for u in urls if not u.startswith(PREFIX + "/")] == []

    for url in {u for u in urls if "/static/" in u}:
        assert http.request(url)[0] == 200, url

    status, headers, body = http.request(
        f"{PREFIX}/billing/invoices?status=DUE", headers={"HX-Request": "true"}
    )
    assert status == 200
    assert headers["HX-Push-Url"] == f"{PREFIX}/billing/invoices?status=DUE"
    assert "<html" not in body.decode()

    status, _, body = http.request(f"{PREFIX}/billing/invoices/INV-P1")
    assert status == 200 and "Prefix Co" in body.decode()


def signed_in(server: GunicornServer) -> Browserless:
    """A staff member's cookie session on the server."""
    http = Browserless(server.base)
    _, _, body = http.request("/login")
    form = urllib.parse.urlencode(
        {
            "email": "staff@example.test",
            "password": PASSWORDS["staff"],
            "csrf_token": csrf_token(body.decode()),
        }
    ).encode()
    assert http.request("/login", data=form)[0] == 302
    return http


def test_xlsx_export_streams_every_row_under_gunicorn(database_url, auth):
    """The download is sent after the view returns: its rows must still come.

    A streamed body outlives the request's database session; on PostgreSQL the
    export read its rows through a server-side cursor that died with that
    session (the first batch failed), which the test client cannot show.
    """
    auth.user("staff")
    count = XLSX_BATCH * 2 + 17  # several batches from the cursor
    seed_demo(count, date(2025, 7, 15))
    numbers = db.session.scalars(
        db.select(Invoice.number).order_by(Invoice.number)
    ).all()
    with GunicornServer(database_url) as server:
        http = signed_in(server)
        status, headers, body = http.request(
            "/billing/invoices/export.xlsx?sort=number"
        )
        assert status == 200, body[:500]
        assert "attachment" in headers["Content-Disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(body))["Invoices"]
        got = [r[0] for r in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]
        assert got == numbers and len(got) == count

        # The selection export streams the same way.
        page = http.request("/billing/invoices")[2].decode()
        form = urllib.parse.urlencode(
            {
                "csrf_token": csrf_token(page),
                "all_matching": "1",
                "q": numbers[0],
            }
        ).encode()
        status, _, body = http.request("/billing/invoices/bulk/export.xlsx", data=form)
        assert status == 200, body[:500]
        sheet = openpyxl.load_workbook(io.BytesIO(body))["Invoices"]
        assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
            numbers[0]
        ]
