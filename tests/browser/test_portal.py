"""The example portal (examples/portal) embedding the Invoice Manager, in Chromium.

Two real servers on two sites: the portal on http://localhost:<port>, the app on
http://127.0.0.1:<port>. A person signs in to the portal; the portal's page
mounts the app with static/embed/host.js, which signs them in through /sso with
a token from the portal's /token. Nobody ever sees the app's login form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from playwright.sync_api import Frame, Page, expect

from examples.portal.app import create_portal
from examples.portal.users import DEMO_PASSWORDS
from invoice_app.extensions import db
from invoice_app.models import Tenant
from tests.test_tenant_scoping import build

from .conftest import AXE_JS, VIEWPORT, portal_server, serving

pytestmark = pytest.mark.browser

SECRET = "portal-and-app-shared-secret-forty-bytes"
LIST = "/billing/invoices"
ROWS = "#invoice-results tbody tr[id^=invoice-]"
ADA, GRACE, LINUS = "ada@acme.example", "grace@globex.example", "linus@acme.example"


@dataclass
class Sites:
    portal: str
    app: str
    portal_app: object


@pytest.fixture
def sites(app_factory, monkeypatch) -> Sites:
    """The example portal and the app, each on its own server and site."""
    portal_app = create_portal(
        {
            "PORTAL_SECRET_KEY": "portal-test-secret-key",
            "SSO_SECRET": SECRET,
            "SSO_ISSUER": "http://portal.test",
        }
    )
    with serving(portal_app, host="localhost") as portal:
        # The app's settings, as `make portal` sets them.
        monkeypatch.setenv("FRAME_ANCESTORS", portal)
        monkeypatch.setenv("SSO_SECRET", SECRET)
        monkeypatch.setenv("SSO_ISSUER", "http://portal.test")
        monkeypatch.setenv("SSO_SESSION_MINUTES", "5")
        with serving(app_factory()) as app_url:
            portal_app.config["INVOICE_MANAGER_URL"] = app_url
            yield Sites(portal=portal, app=app_url, portal_app=portal_app)


@pytest.fixture
def portal_page(browser, sites) -> Page:
    """A fresh browser (own cookies) that records every page the frame shows."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(5_000)
    page = context.new_page()
    page.frame_documents = []
    page.on(
        "framenavigated",
        lambda frame: (
            frame != page.main_frame and page.frame_documents.append(frame.url)
        ),
    )
    yield page
    context.close()


def sign_in_to_portal(page: Page, sites: Sites, email: str, query: str = "") -> None:
    """The portal's own sign-in form; lands on its billing page."""
    page.goto(f"{sites.portal}/billing{query}")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[email])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(f"{sites.portal}/billing")))


def app_frame(page: Page, sites: Sites) -> Frame:
    """The Invoice Manager's frame, once it shows a page of the app."""
    handle = page.locator("#invoice-manager iframe").element_handle()
    frame = handle.content_frame()
    frame.wait_for_url(re.compile(re.escape(sites.app) + "/"))
    frame.wait_for_load_state("load")
    return frame


def shown_numbers(frame: Frame) -> list[str]:
    expect(frame.locator(ROWS).first).to_be_visible()
    return frame.locator(f"{ROWS} td:first-child a").all_inner_texts()


def assert_no_login_form(page: Page, frame: Frame) -> None:
    """No page the frame showed was the app's login form, nor is it now."""
    assert not [u for u in page.frame_documents if "/login" in u], page.frame_documents
    expect(frame.locator("input[type=password]")).to_have_count(0)


def billing_query(page: Page) -> dict:
    return parse_qs(urlsplit(page.url).query)


def frame_height(page: Page) -> int:
    return page.locator("#invoice-manager iframe").evaluate(
        "f => Math.round(f.getBoundingClientRect().height)"
    )


def wait_until_sized(page: Page, frame: Frame) -> int:
    """Wait until the frame is exactly as tall as its content; that height."""
    for _ in range(100):
        content = frame.evaluate("() => Math.ceil(document.body.scrollHeight)")
        if frame_height(page) == content:
            break
        page.wait_for_timeout(50)
    assert frame_height(page) == content
    assert not frame.evaluate(
        "() => document.documentElement.scrollHeight > innerHeight"
    ), "the frame scrolls"
    return content


# Invoices of two tenants: number, status (as stored), client, client e-mail,
# due date. Linus (acme) may see only Acme Analytics and Blue Harbor Logistics
# (his `clients` claim, examples/portal/users.py); both tenants have an INV-1.
ACME_ANALYTICS = ("Acme Analytics", "billing+acmeanalytics0@acme.example.com")
BLUE_HARBOR = ("Blue Harbor Logistics", "billing+blueharborlogistics1@acme.example.com")
CEDAR = ("Cedar Health", "billing+cedarhealth2@acme.example.com")
TENANT_INVOICES = {
    "acme": [
        ("INV-1", "DUE", *ACME_ANALYTICS, "2099-01-31"),
        ("INV-2", "PAID", *ACME_ANALYTICS, "2024-03-15"),
        ("INV-3", "DRAFT", *BLUE_HARBOR, "2099-05-15"),
        ("INV-4", "DUE", *CEDAR, "2099-06-15"),
    ],
    "globex": [
        ("INV-1", "DUE", "Globex Supplies", "ap@globex-supplies.example", "2099-01-31"),
        (
            "INV-7",
            "PAID",
            "Globex Supplies",
            "ap@globex-supplies.example",
            "2024-06-15",
        ),
        ("INV-8", "CANCEL", "Hooli Cloud", "billing@hooli.example", "2024-07-15"),
    ],
}


@pytest.fixture
def tenant_invoices(app) -> dict:
    """TENANT_INVOICES saved; their numbers by tenant, and acme's PAID one."""
    for slug, invoices in TENANT_INVOICES.items():
        tenant = Tenant(slug=slug, name=slug.title())
        db.session.add(tenant)
        db.session.commit()
        for number, status, client, email, due in invoices:
            build(
                tenant,
                client,
                email,
                number=number,
                status=status,
                due_date=date.fromisoformat(due),
                paid_date=date.fromisoformat(due) if status == "PAID" else None,
                issue_date=None if status == "DRAFT" else date(2024, 2, 1),
            )
    return {
        slug: [number for number, *_ in invoices]
        for slug, invoices in TENANT_INVOICES.items()
    } | {"acme_paid": "INV-2"}


# --- tests ----------------------------------------------------------------------


def test_tenant_users_see_their_own_invoices_without_a_login_form(
    portal_page, sites, tenant_invoices
):
    page = portal_page
    sign_in_to_portal(page, sites, ADA)
    frame = app_frame(page, sites)
    assert sorted(shown_numbers(frame)) == sorted(tenant_invoices["acme"])
    assert_no_login_form(page, frame)
    # The token never travelled in a URL.
    assert not [u for u in page.frame_documents if "token=" in u]

    # Another portal user, another tenant: the frame follows the portal's user.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    sign_in_to_portal(page, sites, GRACE)
    frame = app_frame(page, sites)
    assert sorted(shown_numbers(frame)) == sorted(tenant_invoices["globex"])
    assert_no_login_form(page, frame)
    # Grace's token asks for the dark theme and German formatting.
    assert frame.locator("html").get_attribute("data-theme") == "dark"
    payable = frame.locator(f"{ROWS} td:nth-child(3)").first
    expect(payable).to_have_text(re.compile(r"^15,00\s\$\s*\d\d\.\d\d\.\d{4}$"))

    # A user the portal limits to two of acme's clients sees only theirs.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    sign_in_to_portal(page, sites, LINUS)
    frame = app_frame(page, sites)
    assert sorted(shown_numbers(frame)) == ["INV-1", "INV-2", "INV-3"]
    assert_no_login_form(page, frame)


def test_signing_out_of_the_portal_signs_the_frame_out(
    portal_page, sites, tenant_invoices
):
    page = portal_page

    def probe_shows() -> str:
        """What the app shows in a frame of the portal's site that does not
        sign in (the portal's sign-in page, with a frame added): what the
        frame's cookie still opens."""
        page.goto(f"{sites.portal}/sign-in")
        page.evaluate(
            """(src) => {
              const probe = document.createElement("iframe");
              probe.title = "probe";
              probe.src = src;
              document.body.append(probe);
            }""",
            f"{sites.app}{LIST}?embed=1",
        )
        frame = page.locator("iframe").element_handle().content_frame()
        frame.wait_for_url(re.compile(re.escape(sites.app) + "/"))
        frame.wait_for_load_state("load")
        return urlsplit(frame.url).path

    sign_in_to_portal(page, sites, ADA)
    shown_numbers(app_frame(page, sites))
    assert probe_shows() == LIST  # signed in inside the portal's frames
    page.goto(f"{sites.portal}/billing")
    shown_numbers(app_frame(page, sites))
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    assert probe_shows() == "/login"  # the frame's session went with the portal's


def test_the_frame_height_follows_its_content_both_ways(
    portal_page, sites, tenant_invoices
):
    page = portal_page
    sign_in_to_portal(page, sites, ADA)
    frame = app_frame(page, sites)
    all_rows = wait_until_sized(page, frame)
    assert all_rows > 400

    frame.get_by_label("Status", exact=True).select_option("PAID")
    expect(frame.locator(ROWS)).to_have_count(1)
    fewer = wait_until_sized(page, frame)
    assert fewer < all_rows

    frame.get_by_label("Status", exact=True).select_option("ALL")
    expect(frame.locator(ROWS)).to_have_count(len(tenant_invoices["acme"]))
    assert wait_until_sized(page, frame) == all_rows
    # Stable: no growth loop between the frame's height and its content.
    page.wait_for_timeout(1_000)
    assert frame_height(page) == all_rows


def test_a_deep_link_from_the_portal_reopens_the_same_filtered_view(
    portal_page, sites, tenant_invoices
):
    page = portal_page
    sign_in_to_portal(page, sites, ADA)
    frame = app_frame(page, sites)
    frame.get_by_label("Status", exact=True).select_option("PAID")
    expect(frame.locator(ROWS)).to_have_count(1)
    # The portal keeps the frame's address in its own, without embed=1.
    expect(page).to_have_url(re.compile(r"billing=%2Fbilling%2Finvoices%3F"))
    (path,) = billing_query(page)["billing"]
    assert urlsplit(path).path == LIST
    assert parse_qs(urlsplit(path).query)["status"] == ["PAID"]
    assert "embed" not in parse_qs(urlsplit(path).query)
    deep_link = page.url

    # The portal can move the frame itself (the handle's navigate()).
    page.evaluate("() => window.invoiceManager.navigate('/billing/invoices?q=INV-3')")
    expect(frame.locator(ROWS)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"billing=%2Fbilling%2Finvoices%3Fq%3DINV-3"))
    assert shown_numbers(frame) == ["INV-3"]

    # The link opened in another browser: the portal's sign-in first, then the
    # frame opens at the same filtered view.
    other = page.context.browser.new_context(viewport=VIEWPORT)
    try:
        other_page = other.new_page()
        other_page.set_default_timeout(5_000)
        other_page.goto(deep_link)
        other_page.get_by_label("E-mail").fill(ADA)
        other_page.get_by_label("Password").fill(DEMO_PASSWORDS[ADA])
        other_page.get_by_role("button", name="Sign in").click()
        expect(other_page).to_have_url(deep_link)
        frame = app_frame(other_page, sites)
        query = parse_qs(urlsplit(frame.url).query)
        assert (query["status"], query["embed"]) == (["PAID"], ["1"])
        expect(frame.get_by_label("Status", exact=True)).to_have_value("PAID")
        assert shown_numbers(frame) == [tenant_invoices["acme_paid"]]
    finally:
        other.close()


def test_an_ended_session_is_renewed_through_the_portal(
    portal_page, sites, tenant_invoices
):
    page = portal_page
    tokens = []
    page.on(
        "request",
        lambda r: r.url == f"{sites.portal}/token" and tokens.append(r.method),
    )
    with time_machine.travel(datetime.now(UTC)) as clock:
        sign_in_to_portal(page, sites, ADA)
        frame = app_frame(page, sites)
        expect(frame.locator(ROWS)).to_have_count(len(tenant_invoices["acme"]))
        assert tokens == ["POST"]

        clock.shift(timedelta(minutes=6))  # past SSO_SESSION_MINUTES
        frame.get_by_label("Status", exact=True).select_option("PAID")
        # The app says the session ended; the portal fetches a new token and
        # signs the user in again at the same address: the filtered list.
        frame.wait_for_url(re.compile(re.escape(sites.app) + r"/billing/invoices\?"))
        expect(frame.locator(ROWS)).to_have_count(1)
        assert tokens == ["POST", "POST"]
        query = parse_qs(urlsplit(frame.url).query)
        assert query["status"] == ["PAID"]
    assert_no_login_form(page, frame)
    assert any("/sso/ended" in u for u in page.frame_documents), page.frame_documents
    expect(page.locator("#billing-error")).to_be_hidden()


def test_a_refused_token_is_reported_to_the_portal(portal_page, sites):
    # The portal signs with another secret than the app's.
    sites.portal_app.config["SSO_SECRET"] = "not-the-secret-the-app-knows-" + "x" * 20
    page = portal_page
    sign_in_to_portal(page, sites, ADA)
    frame = app_frame(page, sites)
    expect(frame.locator("h1")).to_have_text("You are not signed in")
    expect(page.locator("#billing-error")).to_have_text(
        re.compile(r"Billing could not be opened: .*signature is not right")
    )
    # The portal shows its message instead of the frame's dead end.
    expect(page.locator("#invoice-manager iframe")).to_be_hidden()
    assert_no_login_form(page, frame)


def test_a_frame_whose_cookie_is_dropped_does_not_loop(
    portal_page, sites, tenant_invoices
):
    """A browser that drops the frame's cookie: one try, then the portal says so."""
    page = portal_page
    tokens = []
    page.on("request", lambda r: r.url == f"{sites.portal}/token" and tokens.append(1))

    def without_cookie(route):
        response = route.fetch(max_redirects=0)
        headers = {
            k: v for k, v in response.headers.items() if k.lower() != "set-cookie"
        }
        route.fulfill(response=response, headers=headers)

    page.route(f"{sites.app}/sso?embed=1", without_cookie)
    sign_in_to_portal(page, sites, ADA)
    expect(page.locator("#billing-error")).to_have_text(
        re.compile(r"did not keep the sign-in: the browser may block its cookie")
    )
    expect(page.locator("#invoice-manager iframe")).to_be_hidden()
    page.wait_for_timeout(1_000)
    assert len(tokens) == 1
    # The app had sent the frame to its sign-in form, which the user never saw.
    assert [u for u in page.frame_documents if "/login" in u]


def test_a_session_that_ends_again_at_once_is_not_renewed_again(
    portal_page, sites, tenant_invoices
):
    page = portal_page
    with time_machine.travel(datetime.now(UTC)) as clock:
        sign_in_to_portal(page, sites, ADA)
        frame = app_frame(page, sites)
        expect(frame.locator(ROWS)).to_have_count(len(tenant_invoices["acme"]))
        clock.shift(timedelta(minutes=6))
        frame.get_by_label("Status", exact=True).select_option("PAID")
        expect(frame.locator(ROWS)).to_have_count(1)  # renewed once
        frame.wait_for_load_state("load")
        clock.shift(timedelta(minutes=6))
        frame.get_by_label("Status", exact=True).select_option("DUE")
        expect(page.locator("#billing-error")).to_have_text(
            re.compile(r"session ended again right after it was renewed")
        )


def contrast_failures(frame: Frame) -> list[str]:
    """The elements axe finds with too little colour contrast (WCAG AA)."""
    frame.evaluate(AXE_JS.read_text())
    return frame.evaluate(
        """async () => (await axe.run(document, {runOnly: ["color-contrast"]}))
            .violations.flatMap(v => v.nodes.map(n => n.target.join(" ")))"""
    )


def test_dark_theme_keeps_enough_contrast(portal_page, sites, tenant_invoices):
    page = portal_page
    sign_in_to_portal(page, sites, GRACE)
    frame = app_frame(page, sites)
    expect(frame.locator(ROWS).first).to_be_visible()
    assert frame.locator("html").get_attribute("data-theme") == "dark"
    assert frame.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(18, 24, 31)"
    )
    assert contrast_failures(frame) == []
    # An invoice's page (details, status, history) too.
    number = shown_numbers(frame)[0]
    frame.get_by_role("link", name=number, exact=True).click()
    expect(frame.get_by_role("heading", level=1)).to_contain_text(number)
    frame.wait_for_load_state("load")
    assert frame.locator("html").get_attribute("data-theme") == "dark"
    assert contrast_failures(frame) == []


# --- messages from anyone else ---------------------------------------------------

HOST_JS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host</title>
<script src="{app}/static/embed/host.js"></script></head>
<body><div id="box"></div><iframe id="stranger" title="stranger" src="{stranger}">
</iframe></body></html>
"""


def test_host_js_ignores_messages_from_other_origins_and_windows(
    browser, app_factory, monkeypatch
):
    """Messages that do not come from the mounted frame change nothing."""
    state = {}
    with portal_server(lambda q: HOST_JS_PAGE.format(**state)) as host:
        monkeypatch.setenv("FRAME_ANCESTORS", host)
        monkeypatch.setenv("SSO_SECRET", SECRET)
        monkeypatch.setenv("SSO_ISSUER", "http://portal.test")
        with serving(app_factory()) as app_url:
            state["app"] = app_url
            # A second page of the app's origin in another frame of the host
            # page: the right origin, the wrong window. (Its login page says
            # "signed-out" on its own, which host.js must not act on either.)
            state["stranger"] = f"{app_url}/login?embed=1"
            context = browser.new_context(viewport=VIEWPORT)
            try:
                _check_host_js_ignores_strangers(context.new_page(), host, state)
            finally:
                context.close()


def _check_host_js_ignores_strangers(page: Page, host: str, state: dict) -> None:
    page.set_default_timeout(5_000)
    page.goto(host + "/")
    page.evaluate(
        """(app) => {
          window.seen = {navigate: [], errors: [], tokens: 0};
          window.handle = InvoiceManager.mount(document.getElementById("box"), {
            url: app,
            getToken: () => { window.seen.tokens += 1; return "not-a-token"; },
            onNavigate: (p) => window.seen.navigate.push(p),
            onError: (e) => window.seen.errors.push(e.code),
          });
        }""",
        state["app"],
    )
    # The app refuses the token and says so; its page's height arrives with it.
    page.wait_for_function(
        """() => window.seen.errors.length === 1
            && window.handle.frame.style.height !== "600px" """
    )
    height = page.evaluate("() => window.handle.frame.style.height")
    hostile = [
        {"type": "invoice-manager:height", "height": 5},
        {"type": "invoice-manager:navigate", "path": "/billing/invoices?x=1"},
        {"type": "invoice-manager:session-ended", "path": LIST},
        {"type": "invoice-manager:sign-in-refused", "reason": "fake"},
    ]
    # From the host page's own origin...
    page.evaluate("(ms) => ms.forEach(m => window.postMessage(m, '*'))", hostile)
    # ...and from the app's origin, but another window than the mounted frame.
    stranger = page.frame(url=re.compile(re.escape(state["stranger"])))
    stranger.wait_for_load_state("load")
    stranger.evaluate("(ms) => ms.forEach(m => parent.postMessage(m, '*'))", hostile)
    page.wait_for_timeout(500)
    seen = page.evaluate("() => window.seen")
    assert seen == {"navigate": [], "errors": ["refused"], "tokens": 1}
    assert page.evaluate("() => window.handle.frame.style.height") == height

    # A path that is not the app's own opens the app's list instead (signed
    # out here, so the app's answer is its sign-in page with that `next`).
    mounted = page.frame(name=page.evaluate("() => window.handle.frame.name"))

    def opens_at(path: str, next_path: str) -> None:
        """navigate(path) lands on the sign-in page with next=next_path."""
        page.evaluate("(p) => window.handle.navigate(p)", path)
        mounted.wait_for_url(
            lambda url: (
                url.startswith(state["app"] + "/login?")
                and parse_qs(urlsplit(url).query).get("next") == [next_path]
            )
        )

    for path in ("//evil.example/x", "/\t/evil.example/x", "https://evil.example/"):
        opens_at(
            "/billing/invoices?status=PAID", "/billing/invoices?status=PAID&embed=1"
        )
        opens_at(path, "/billing/invoices?embed=1")


FRAME_ONLY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host</title>
<script>
  window.heard = [];
  window.addEventListener("message", function (event) {{
    window.heard.push({{origin: event.origin, type: (event.data || {{}}).type}});
  }});
</script></head>
<body><iframe id="app" title="app" src="{src}"></iframe></body></html>
"""


def test_the_frame_talks_only_to_a_parent_of_an_allowed_origin(
    browser, app_factory, monkeypatch
):
    """With several allowed origins, the frame waits for its parent's hello."""
    state = {}
    with portal_server(lambda q: FRAME_ONLY_PAGE.format(src=state["src"])) as host:
        monkeypatch.setenv("FRAME_ANCESTORS", f"{host} https://other.example")
        with serving(app_factory()) as app_url:
            state["src"] = f"{app_url}/login?embed=1"
            context = browser.new_context(viewport=VIEWPORT)
            try:
                page = context.new_page()
                page.set_default_timeout(5_000)
                page.goto(host + "/")
                frame = page.frame(url=re.compile(re.escape(app_url)))
                frame.wait_for_load_state("load")
                # A hello from the frame's own window (not its parent, and an
                # origin that may not frame it) is ignored.
                frame.evaluate(
                    "() => window.postMessage({type: 'invoice-manager:hello'}, '*')"
                )
                page.wait_for_timeout(500)
                assert page.evaluate("() => window.heard") == []
                # The parent's hello, from an allowed origin: now the frame talks.
                page.evaluate(
                    """(app) => document.getElementById("app").contentWindow
                        .postMessage({type: "invoice-manager:hello"}, app)""",
                    app_url,
                )
                page.wait_for_function("() => window.heard.length >= 2")
                heard = page.evaluate("() => window.heard")
                assert {h["origin"] for h in heard} == {app_url}
                assert {h["type"] for h in heard} == {
                    "invoice-manager:signed-out",
                    "invoice-manager:height",
                }
                # Another stray hello does not take the frame's messages away
                # from its parent: a taller page is still reported there.
                frame.evaluate(
                    "() => window.postMessage({type: 'invoice-manager:hello'}, '*')"
                )
                page.wait_for_timeout(200)
                frame.evaluate(
                    """() => {
                      // (The app's CSP refuses inline style attributes.)
                      const tall = document.createElement("div");
                      tall.style.height = "900px";
                      document.querySelector("main").append(tall);
                    }"""
                )
                page.wait_for_function("(n) => window.heard.length > n", arg=len(heard))
                assert page.evaluate("() => window.heard.at(-1).type") == (
                    "invoice-manager:height"
                )
            finally:
                context.close()
