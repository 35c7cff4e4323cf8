"""Browser fixtures: Chromium through Playwright, the app on a live server.

The app runs from the `app` fixture (so on SQLite or on DATABASE_URL) in a
background thread; every test gets a fresh browser context and signs in through
the real login form (CSRF on). Data is a hand-picked set of invoices whose
effective statuses do not depend on today's date (due dates are far in the past
or in 2099).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from invoice_app.extensions import db
from invoice_app.models import Role, User
from scripts.chromium import find_chromium, instruction

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}
AXE_JS = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "admin-password-1"
OTHER_ADMIN_EMAIL = "second.admin@example.test"

# number, client, billing period, stored status, issued, due, currency, payable,
# notes. Shown status: INV-1003 is DUE with a past due date, so OVER_DUE.
INVOICES = [
    ("INV-1001", "Acme Analytics", "2024-01", "DUE", "2024-02-01", "2099-01-31",
     "USD", "100.00", ""),
    ("INV-1002", "Blue Harbor Logistics", "2024-02", "PAID", "2024-03-01",
     "2024-03-15", "EUR", "250.00", ""),
    ("INV-1003", "Cedar Health", "2024-03", "DUE", "2024-04-01", "2024-04-15",
     "USD", "75.50", ""),
    ("INV-1004", "Acme Analytics", "2024-04", "DRAFT", None, "2099-05-15",
     "USD", "40.00", ""),
    ("INV-1005", "Delta Robotics", "2024-05", "PAID", "2024-06-01", "2024-06-15",
     "USD", "310.00", ""),
    ("INV-1006", "Blue Harbor Logistics", "2024-06", "CANCEL", "2024-07-01",
     "2024-07-15", "EUR", "90.00", ""),
    ("INV-1007", "Cedar Health", "2024-06", "PAID", "2024-07-01", "2024-07-20",
     "USD", "120.00", "GPU reservation"),
]  # fmt: skip
# The default order is newest billing period first (ties: newest invoice first).
ALL_NUMBERS = [
    "INV-1007",
    "INV-1006",
    "INV-1005",
    "INV-1004",
    "INV-1003",
    "INV-1002",
    "INV-1001",
]


@pytest.fixture(scope="session")
def browser() -> Browser:
    """Chromium (scripts/chromium.py finds it), headless; missing, it fails: no skip."""
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(instruction(), pytrace=False)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
    except Exception as exc:
        playwright.stop()
        pytest.fail(f"Chromium at {chromium} did not start ({exc}).", pytrace=False)
    yield browser
    browser.close()
    playwright.stop()


@contextmanager
def serving(app, host: str = "127.0.0.1"):
    """Serve app on a free port of host from a background thread; its base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextmanager
def portal_server(page_for: Callable[[dict[str, list[str]]], str]):
    """A portal on another site than the app's (localhost, not 127.0.0.1).

    Each GET answers the HTML page_for(query) gives for its parsed query string.
    Yields the portal's origin.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = page_for(parse_qs(urlsplit(self.path).query)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(app) -> str:
    """The app served on a free local port while the test runs; its base URL."""
    with serving(app) as url:
        yield url


def _saved_admin(email: str) -> User:
    user = User(email=email, role=Role.ADMIN.value)
    user.set_password(ADMIN_PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def admin(app) -> User:
    """An admin who signs in with ADMIN_EMAIL / ADMIN_PASSWORD."""
    return _saved_admin(ADMIN_EMAIL)


@pytest.fixture
def other_admin(app) -> User:
    """A second admin (OTHER_ADMIN_EMAIL, same password), for concurrent changes."""
    return _saved_admin(OTHER_ADMIN_EMAIL)


@pytest.fixture
def invoices(make_invoice) -> list:
    """The seven invoices of INVOICES."""

    def month(text: str) -> date:
        return date.fromisoformat(f"{text}-01")

    made = []
    for number, name, period, status, issued, due, cur, payable, notes in INVOICES:
        made.append(
            make_invoice(
                number=number,
                client_name=name,
                billing_period=month(period),
                status=status,
                issue_date=date.fromisoformat(issued) if issued else None,
                due_date=date.fromisoformat(due),
                paid_date=date.fromisoformat(due) if status == "PAID" else None,
                currency=cur,
                usage_cost=Decimal(payable),
                payable=Decimal(payable),
                notes=notes,
                lines=[("Compute hours", "10", payable[:-1], payable)],
            )
        )
    return made


def _new_page(browser: Browser, base_url: str, **options) -> Page:
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, **options)
    context.set_default_timeout(5_000)
    return context.new_page()


@pytest.fixture
def page(browser, live_server) -> Page:
    """A fresh browser tab (own cookies) pointed at the live server."""
    page = _new_page(browser, live_server)
    yield page
    page.context.close()


@pytest.fixture
def other_page(browser, live_server) -> Page:
    """A second browser (own context, own cookies) on the same live server."""
    page = _new_page(browser, live_server)
    yield page
    page.context.close()


@pytest.fixture
def nojs_page(browser, live_server) -> Page:
    """A tab with JavaScript disabled: forms and links only."""
    page = _new_page(browser, live_server, java_script_enabled=False)
    yield page
    page.context.close()


def sign_in(
    page: Page, path: str = "/billing/invoices", email: str = ADMIN_EMAIL
) -> None:
    """Go to path, get sent to the login form, fill it in and land back on path."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    # htmx wires the page up on load; acting earlier would follow plain links.
    page.wait_for_load_state("load")
