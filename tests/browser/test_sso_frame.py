"""Single sign-on inside a cross-site portal frame, in Chromium.

The portal (http://localhost:<port>) posts a fresh token into its frame, which
shows the app (http://127.0.0.1:<port>, another site). When the SSO session has
been idle too long, the frame shows no login form and tells the portal where
the user was, so the portal can sign the user in again there.
"""

from __future__ import annotations

import html
import re
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import jwt
import pytest
import time_machine
from playwright.sync_api import Page, expect

from .conftest import portal_server, serving

pytestmark = pytest.mark.browser

SECRET = "portal-shared-secret-of-forty-bytes-xxxx"
ISSUER = "https://portal.example.test"
FRAME_NAME = "invoice-manager"
PORTAL_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Portal</title>
<script>
  window.messages = [];
  window.addEventListener("message", function (event) {{
    var data = event.data || {{}};
    if (data.type === "invoice-manager:session-ended") {{
      window.messages.push({{origin: event.origin, path: data.path}});
    }}
  }});
</script>
</head>
<body>
  <form id="sign-in" method="post" action="{app}/sso" target="{name}">
    <input type="hidden" name="token" value="{token}">
    <input type="hidden" name="next" value="{next}">
  </form>
  <iframe name="{name}" title="Invoice Manager"
          style="width: 1100px; height: 700px; border: 0"></iframe>
  <script>document.getElementById("sign-in").submit();</script>
</body>
</html>
"""


def portal_token() -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "invoice-manager",
        "sub": "portal-user-7",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        "email": "ada@portal.example",
        "name": "Ada",
        "tenant": "default",
        "role": "staff",
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.fixture
def portal():
    """serve(app_url): the portal's origin; GET /?next=… signs in to app_url."""
    state = {}

    def page(query: dict) -> str:
        return PORTAL_PAGE.format(
            app=state["app"],
            name=FRAME_NAME,
            token=portal_token(),
            next=html.escape(query.get("next", ["/billing/invoices?embed=1"])[0]),
        )

    with portal_server(page) as origin:
        state["origin"] = origin
        yield state


@pytest.fixture
def sso_app(app_factory, monkeypatch, portal):
    """The app, framed by the portal, with single sign-on by SSO_SECRET; its URL."""
    monkeypatch.setenv("FRAME_ANCESTORS", portal["origin"])
    monkeypatch.setenv("SSO_SECRET", SECRET)
    monkeypatch.setenv("SSO_ISSUER", ISSUER)
    monkeypatch.setenv("SSO_SESSION_MINUTES", "5")
    with ExitStack() as stack:
        portal["app"] = stack.enter_context(serving(app_factory()))
        yield portal["app"]


@pytest.fixture
def portal_page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def test_portal_signs_in_inside_its_frame_and_hears_when_the_session_ends(
    portal_page, portal, sso_app, invoices
):
    page = portal_page
    with time_machine.travel(datetime.now(UTC)) as clock:
        page.goto(portal["origin"] + "/")
        frame = page.frame(name=FRAME_NAME)
        frame.wait_for_url(re.compile(re.escape(f"{sso_app}/billing/invoices?embed=1")))
        rows = frame.locator("#invoice-results tbody tr[id^=invoice-]")
        expect(rows).to_have_count(7)
        expect(frame.locator("body")).to_have_class(re.compile(r"\bembedded\b"))
        frame.wait_for_load_state("load")

        clock.shift(timedelta(minutes=6))
        # An htmx filter change after the idle time: the frame goes to the
        # "session ended" page, with no login form, and tells the portal.
        frame.get_by_label("Status", exact=True).select_option("PAID")
        expect(
            frame.get_by_role("heading", name="Your session has ended")
        ).to_be_visible()
        expect(frame.locator("input[type=password]")).to_have_count(0)
        page.wait_for_function("() => window.messages.length > 0")
        messages = page.evaluate("() => window.messages")
    (message,) = messages
    assert message["origin"] == sso_app
    path = message["path"]
    assert path.startswith("/billing/invoices?") and "status=PAID" in path, path
    assert "embed=1" in path

    # The portal signs the user in again at that address, with a new token.
    page.goto(portal["origin"] + "/?" + urlencode({"next": path}))
    frame = page.frame(name=FRAME_NAME)
    frame.wait_for_url(re.compile(re.escape(sso_app + path) + "$"))
    expect(frame.locator("#invoice-results tbody tr[id^=invoice-]")).to_have_count(3)
