"""The Invoice Manager in a portal's iframe, served from another site.

Issue 5: a parent page from a different origin frames the app. With the origin
allowed (FRAME_ANCESTORS) the table renders and filters and downloads work inside
the frame, in embed mode (no portal shell), and the page tells its parent its
height; with
the origin not allowed the browser refuses to frame the app.

The app runs on http://127.0.0.1:<port> and the portal on http://localhost:<port>:
two different sites, so the session cookie has to be SameSite=None; Secure;
Partitioned. Chromium counts both loopback hosts as secure contexts, so a Secure
cookie works over plain http here.
"""

from __future__ import annotations

import html
import re
from contextlib import ExitStack
from urllib.parse import parse_qs, urlencode, urlsplit

import openpyxl
import pytest
from playwright.sync_api import Frame, Page, expect

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, portal_server, serving

pytestmark = pytest.mark.browser

LIST = "/billing/invoices"
FRAME_NAME = "invoice-manager"
# The portal listens for height messages before the frame starts loading.
PORTAL_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cloud Management Portal</title>
  <script>
    window.heights = [];
    window.addEventListener("message", function (event) {{
      var data = event.data || {{}};
      if (data.type !== "invoice-manager:height") return;
      window.heights.push({{origin: event.origin, height: data.height}});
      document.getElementById("{name}").style.height = data.height + "px";
    }});
  </script>
</head>
<body>
  <h1>Cloud Management Portal</h1>
  <iframe id="{name}" name="{name}" title="Invoice Manager" src="{src}"
          style="display: block; width: 1100px; height: 700px; border: 0"></iframe>
</body>
</html>
"""


@pytest.fixture
def portal() -> str:
    """The portal's origin; GET /?src=<url> is a portal page that frames src."""

    def page(query: dict) -> str:
        src = query.get("src", [""])[0]
        return PORTAL_PAGE.format(name=FRAME_NAME, src=html.escape(src))

    with portal_server(page) as origin:
        yield origin


@pytest.fixture
def framed_app(app_factory, monkeypatch):
    """serve(frame_ancestors): an app built with that setting, live; its base URL."""
    with ExitStack() as stack:

        def serve(frame_ancestors: str) -> str:
            # Read by create_app(): the CSP and the session cookie follow it.
            monkeypatch.setenv("FRAME_ANCESTORS", frame_ancestors)
            return stack.enter_context(serving(app_factory()))

        yield serve


@pytest.fixture
def portal_page(browser) -> Page:
    """A fresh browser context, no base URL: it visits the portal and the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def open_portal(page: Page, portal: str, app_url: str) -> None:
    """Open the portal page, which frames app_url, and wait for both to load."""
    page.goto(f"{portal}/?{urlencode({'src': app_url})}")
    page.wait_for_load_state("load")


def app_frame(page: Page) -> Frame:
    """The portal's one frame (by name; a blocked frame's error page may not
    report the name at once, so any child frame of the portal counts)."""
    for _ in range(100):
        frame = page.frame(name=FRAME_NAME) or next(
            iter(page.main_frame.child_frames), None
        )
        if frame is not None:
            return frame
        page.wait_for_timeout(50)
    raise AssertionError("the portal has no Invoice Manager frame")


def wait_until_sized(page: Page, frame: Frame) -> int:
    """Wait until the portal heard the app's height and sized the frame to it.

    The height is the app's content, measured here: a frame left taller than its
    content (or shorter, with a scrollbar) never matches. Returns the height.
    """
    height = frame.evaluate(
        "() => Math.ceil(document.body.getBoundingClientRect().height)"
    )
    page.wait_for_function(
        """([name, height]) => window.heights.length > 0
            && window.heights.at(-1).height === height
            && document.getElementById(name).getBoundingClientRect().height === height
        """,
        arg=[FRAME_NAME, height],
    )
    scrolls = "() => document.documentElement.scrollHeight > innerHeight"
    assert not frame.evaluate(scrolls), "the frame still scrolls"
    return height


def test_an_allowed_portal_frames_the_app_in_embed_mode(
    portal_page, portal, framed_app, admin, invoices
):
    app_url = framed_app(portal)
    page = portal_page
    documents = []
    page.on(
        "response",
        lambda r: r.request.resource_type == "document" and documents.append(r),
    )
    open_portal(page, portal, f"{app_url}{LIST}?embed=1")
    frame = app_frame(page)
    # Signing in happens inside the frame (its cookie belongs to this portal).
    expect(frame.get_by_role("heading", name="Sign in")).to_be_visible()
    assert re.search(r"/login\?.*embed=1", frame.url), frame.url
    frame.get_by_label("E-mail").fill(ADMIN_EMAIL)
    frame.get_by_label("Password").fill(ADMIN_PASSWORD)
    frame.get_by_role("button", name="Sign in").click()
    frame.wait_for_url(re.compile(re.escape(f"{app_url}{LIST}?embed=1") + "$"))
    frame.wait_for_load_state("load")

    # Just the Invoice Manager: no portal top bar or side navigation.
    rows = frame.locator("#invoice-results tbody tr[id^=invoice-]")
    expect(rows).to_have_count(7)
    expect(frame.locator("body")).to_have_class(re.compile(r"\bembedded\b"))
    expect(frame.locator(".topbar, .sidenav")).to_have_count(0)
    expect(frame.get_by_role("heading", name="Invoice Manager")).to_be_visible()

    # The headers that let this portal, and only it, frame the app.
    page_response = next(r for r in documents if r.url == frame.url)
    csp = page_response.headers["content-security-policy"]
    assert f"frame-ancestors {portal}" in csp, csp
    (session,) = [c for c in page.context.cookies(app_url) if c["name"] == "session"]
    assert (session["sameSite"], session["secure"], session["httpOnly"]) == (
        "None",
        True,
        True,
    )
    assert session.get("partitionKey", "").startswith("http://localhost"), session

    # The parent was told the height, by the app's origin, so it can size the frame.
    list_height = wait_until_sized(page, frame)
    assert list_height > 400
    assert {h["origin"] for h in page.evaluate("() => window.heights")} == {app_url}

    # Filters work inside the frame: an htmx swap, embed mode kept in the URL.
    frame.evaluate("() => { window.__sameDocument = true; }")
    with page.expect_response(
        lambda r: "status=PAID" in r.url and r.request.headers.get("hx-request")
    ) as info:
        frame.get_by_label("Status", exact=True).select_option("PAID")
    assert info.value.status == 200
    assert parse_qs(urlsplit(info.value.url).query)["embed"] == ["1"]  # once
    assert "embed=1" in info.value.headers["hx-push-url"]
    expect(rows).to_have_count(3)
    expect(frame.locator("#result-count")).to_have_text("3 invoices match the filters")
    expect(frame.locator(".topbar, .sidenav")).to_have_count(0)
    assert frame.evaluate("() => window.__sameDocument === true"), "frame reloaded"
    query = parse_qs(urlsplit(frame.url).query)
    assert (query.get("status"), query.get("embed")) == (["PAID"], ["1"]), frame.url
    # Three rows take less room than seven: the portal hears the new height, and
    # the frame shrinks as well as grows.
    assert wait_until_sized(page, frame) < list_height

    # Downloads start inside the frame too: the partitioned session cookie goes
    # with them, and the files hold what the frame shows.
    with page.expect_download() as info:
        frame.get_by_role("link", name="XLSX", exact=True).click()
    xlsx = info.value
    assert xlsx.failure() is None, xlsx.failure()
    assert xlsx.suggested_filename.endswith("-paid.xlsx"), xlsx.suggested_filename
    with open(xlsx.path(), "rb") as file:  # saved without a file extension
        sheet = openpyxl.load_workbook(file)["Invoices"]
    exported = [r[0] for r in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]
    shown = rows.locator("td:first-child a")
    assert exported == shown.all_inner_texts()
    with page.expect_download() as info:
        frame.get_by_role("link", name="Download invoice INV-1005 as PDF").click()
    pdf = info.value
    assert pdf.failure() is None, pdf.failure()
    assert pdf.suggested_filename == "invoice-INV-1005.pdf"
    with open(pdf.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"
    assert page.url.startswith(portal) and "embed=1" in frame.url

    # Links keep embed mode too: an invoice's page opens in the frame, shell-less.
    frame.get_by_role("link", name="INV-1005", exact=True).click()
    frame.wait_for_url(re.compile(re.escape(f"{LIST}/INV-1005?embed=1") + "$"))
    expect(frame.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Invoice INV-1005\b")
    )
    expect(frame.locator(".topbar, .sidenav")).to_have_count(0)
    assert page.url.startswith(portal), "the portal page itself navigated away"


def test_a_portal_not_allowed_cannot_frame_the_app(
    portal_page, portal, framed_app, admin, invoices
):
    # Allowed: some other portal, never this one.
    app_url = framed_app("https://portal.example.com")
    page = portal_page
    blocked = []
    page.on(
        "requestfailed",
        lambda r: r.url.startswith(app_url) and blocked.append((r.url, r.failure)),
    )
    served = []
    page.on(
        "response",
        lambda r: r.url.startswith(app_url) and served.append((r.status, r.headers)),
    )
    with page.expect_console_message(
        lambda m: "frame-ancestors https://portal.example.com" in m.text
    ) as info:
        open_portal(page, portal, f"{app_url}{LIST}?embed=1")
    # "Framing '…' violates … frame-ancestors …" (older Chromium: "Refused to frame")
    assert info.value.type == "error"
    assert app_url in info.value.text
    assert re.search(r"violates|Refused to frame", info.value.text), info.value.text

    # The app answered (sent to sign in) and said who may frame it...
    assert [status for status, _ in served] == [302, 200], served
    csp = served[1][1]["content-security-policy"]
    assert "frame-ancestors https://portal.example.com" in csp, csp
    # ...and the browser refused the answer: an error page, not the app.
    assert [(urlsplit(url).path, why) for url, why in blocked] == [
        ("/login", "net::ERR_BLOCKED_BY_RESPONSE")
    ]
    frame = app_frame(page)
    # The error page commits a moment after the refusal: until then the frame
    # reports an empty URL.
    for _ in range(100):
        if frame.url.startswith("chrome-error://"):
            break
        page.wait_for_timeout(50)
    assert frame.url.startswith("chrome-error://"), frame.url
    assert frame.locator("form, input, #invoice-filters").count() == 0
    assert page.evaluate("() => window.heights") == []
