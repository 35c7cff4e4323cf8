"""Accessibility in a real browser: axe-core, labels, the live region, the keyboard.

axe-core (npm, vendored at tests/vendor/axe-core) is injected into each page and
must report no violation of impact "critical" or "serious".
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import ADMIN_EMAIL, ALL_NUMBERS, AXE_JS, sign_in
from .test_invoice_page import LIST, expect_path, expect_rows, swap

pytestmark = pytest.mark.browser

BLOCKING = ("critical", "serious")


def inject_axe(page: Page) -> None:
    """Load axe-core into the page, under the app's own Content-Security-Policy.

    add_script_tag(path=...) would add an inline script, which the CSP forbids
    (script-src 'self'); so the file is served from a same-origin URL that only
    this browser context knows (a Playwright route), and loaded from there.
    """
    origin = re.match(r"^https?://[^/]+", page.url).group(0)
    url = f"{origin}/__browser-tests__/axe.min.js"
    page.route(
        url,
        lambda route: route.fulfill(path=AXE_JS, content_type="text/javascript"),
    )
    page.add_script_tag(url=url)


def serious_violations(page: Page) -> list[str]:
    """Run axe-core on the page as it is now; describe each blocking violation."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        inject_axe(page)
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def test_login_page(page, admin):
    page.goto("/login")
    for label in ("E-mail", "Password", "Keep me signed in"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_label("E-mail", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("E-mail or password is not right.")
    assert serious_violations(page) == []


def test_invoice_list_after_swaps_and_with_errors(page, admin, invoices):
    sign_in(page)
    assert serious_violations(page) == []

    with swap(page):
        page.get_by_label("Status", exact=True).select_option("PAID")
    with swap(page):
        page.get_by_label("Search", exact=True).fill("cedar")
    expect_rows(page, ["INV-1007"])
    assert serious_violations(page) == []

    with swap(page):
        page.get_by_label("From", exact=True).fill("2024-06-30")
    with swap(page, status=400):
        page.get_by_label("To", exact=True).fill("2024-03-01")
    expect(page.locator("#date_to-error")).to_be_visible()
    assert serious_violations(page) == []

    # The same mistake as a full page (a shared link, or no JavaScript).
    page.goto(f"{LIST}?date_from=2024-06-30&date_to=2024-03-01")
    date_to = page.get_by_label("To", exact=True)
    expect(date_to).to_have_accessible_description("'To' must not be before 'From'.")
    expect(date_to).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []


def test_invoice_detail_page(page, admin, invoices):
    sign_in(page, f"{LIST}/INV-1007")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Invoice INV-1007\b")
    )
    expect(page.get_by_role("cell", name="Compute hours")).to_be_visible()
    assert serious_violations(page) == []


def test_controls_are_labelled_and_the_count_is_announced(page, admin, invoices):
    sign_in(page)
    expect(page.get_by_role("search", name="Filter invoices")).to_be_visible()
    controls = {
        "Status": "status",
        "Date to filter on": "date_field",
        "From": "date_from",
        "To": "date_to",
        "Search": "q",
        "Rows per page": "per_page",
    }
    for label, control_id in controls.items():
        expect(page.get_by_label(label, exact=True)).to_have_id(control_id)
    expect(page.get_by_role("table", name="Invoices")).to_be_visible()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")

    count = page.locator("#result-count")
    expect(count).to_have_role("status")
    expect(count).to_have_attribute("aria-live", "polite")
    expect(count).to_have_text("7 invoices")
    # A live region is announced when its text changes, not when it is replaced:
    # the same element must carry the new count.
    count.evaluate("element => { element.__original = true; }")
    with swap(page):
        page.get_by_label("Status", exact=True).select_option("PAID")
    expect(count).to_have_text("3 invoices match the filters")
    assert count.evaluate("element => element.__original === true")


def test_keyboard_reaches_every_control_in_order(page, admin, invoices):
    sign_in(page)
    focused: list[str] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        name = page.evaluate(
            """() => {
                const el = document.activeElement;
                const box = el.getBoundingClientRect();
                const visible = box.width > 0 && box.height > 0;
                const text = el.id || el.getAttribute("aria-label")
                    || el.textContent.trim().replace(/\\s+/g, " ");
                return (visible ? "" : "HIDDEN ") + el.tagName.toLowerCase()
                    + " " + text;
            }"""
        )
        if not focused or focused[-1] != name:  # a date input has three stops
            focused.append(name)
        if name == "select per_page":
            break
    assert not [name for name in focused if name.startswith("HIDDEN")], focused
    assert focused[0] == "a Skip to content"
    filters = [
        "select status",
        "select date_field",
        "input date_from",
        "input date_to",
        "a This month",
        "a Last month",
        "a Last 30 days",
        "a This quarter",
        "a This year",
        "input q",
        "button Apply",
        "a Clear filters",
    ]
    sort_headers = [
        "a sort-number",
        "a sort-client",
        "a sort-usage_cost",
        "a sort-period",
        "a sort-payable",
        "a sort-due_date",
        "a sort-status",
    ]
    start = focused.index("select status")
    assert focused[start : start + len(filters)] == filters, focused
    start = focused.index("a sort-number")
    assert focused[start : start + len(sort_headers)] == sort_headers, focused
    rows = [name for name in focused if re.fullmatch(r"a INV-\d+", name)]
    assert rows == [f"a {number}" for number in ALL_NUMBERS], focused
    assert focused.index("a INV-1007") > focused.index("a sort-status")
    assert focused[-1] == "select per_page", focused

    # The skip link, visible when focused, jumps past the portal's navigation.
    page.reload()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null")

    # A preset chosen with the keyboard filters the table like a click.
    page.get_by_role("link", name="This year").focus()
    with swap(page):
        page.keyboard.press("Enter")
    expect_path(page, LIST + _this_year_query(page))
    expect_rows(page, [])


def _this_year_query(page: Page) -> str:
    start = page.get_by_label("From", exact=True).input_value()
    end = page.get_by_label("To", exact=True).input_value()
    assert start.endswith("-01-01") and end.endswith("-12-31")
    return f"?date_from={start}&date_to={end}"
