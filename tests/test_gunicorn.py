"""The app under gunicorn, mounted under a URL prefix, driven over real HTTP."""

import re
import urllib.parse

import pytest

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
