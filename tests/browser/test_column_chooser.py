"""The column chooser in Chromium: tick, move by keyboard, no reload, kept.

Also axe-core on the list with the chooser open, and the chooser without
JavaScript (a form post and a redirect back).
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from .conftest import sign_in
from .test_accessibility import serious_violations
from .test_invoice_page import LIST, expect_path

pytestmark = pytest.mark.browser

FIVE = ["Invoice No", "Usage Cost", "Payable", "Status"]


def headers(page: Page):
    return page.locator("#invoice-results table.invoices thead th")


def expect_optional_headers(page: Page, labels: list[str]) -> None:
    """The table shows the guide's columns, then labels, then Actions."""
    expect(headers(page)).to_have_count(len(FIVE) + len(labels) + 1)
    texts = [" ".join(t.split()) for t in headers(page).all_inner_texts()]
    starts = [t.startswith(start) for t, start in zip(texts, FIVE, strict=False)]
    assert starts == [True] * len(FIVE)
    assert texts[4:-1] == labels
    assert texts[-1] == "Actions"


@contextmanager
def saved(page: Page):
    """Wait for the chooser's htmx post and the swap of the table it answers."""
    page.evaluate(
        """() => { window.__settled = new Promise((resolve) =>
            document.addEventListener("htmx:afterSettle", () => resolve(true),
                                      {once: true})); }"""
    )
    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path == "/billing/columns"
            and r.request.method == "POST"
            and r.request.headers.get("hx-request") == "true"
        )
    ) as info:
        yield info
    page.evaluate("() => window.__settled")
    assert info.value.status == 200


def test_tick_move_and_reload_keep_the_columns(page, admin, invoices):
    sign_in(page)
    expect_optional_headers(page, [])
    # A full page load would drop this mark: the table must update in place.
    page.evaluate("() => { window.__sameDocument = true; }")
    page.get_by_text("Columns", exact=True).click()
    chooser = page.locator("#column-chooser")
    expect(chooser.get_by_label("Notes", exact=True)).to_be_visible()

    with saved(page):
        chooser.get_by_label("Notes", exact=True).check()
    expect_optional_headers(page, ["Notes"])
    expect(page.locator("#invoice-results tr", has_text="INV-1007")).to_contain_text(
        "GPU reservation"
    )
    with saved(page):
        page.locator("#column-chooser").get_by_label("Currency", exact=True).check()
    expect_optional_headers(page, ["Notes", "Currency"])

    # Up by keyboard: focus the button, press Enter; focus stays on it.
    up = page.get_by_role("button", name="Move Currency up")
    up.focus()
    with saved(page):
        page.keyboard.press("Enter")
    expect_optional_headers(page, ["Currency", "Notes"])
    expect(page.get_by_role("button", name="Move Currency up")).to_be_focused()
    expect(page.locator("#column-chooser")).to_have_attribute("open", "")
    assert page.evaluate("() => window.__sameDocument") is True
    expect_path(page, LIST)

    page.reload()
    expect_optional_headers(page, ["Currency", "Notes"])
    expect(page.locator("#invoice-results tr", has_text="INV-1002")).to_contain_text(
        "EUR"
    )


def test_the_list_with_the_chooser_open_has_no_serious_violations(
    page, admin, invoices
):
    sign_in(page)
    page.get_by_text("Columns", exact=True).click()
    with saved(page):
        page.locator("#column-chooser").get_by_label("Days overdue").check()
    with saved(page):
        page.locator("#column-chooser").get_by_label("Balance due").check()
    expect_optional_headers(page, ["Days overdue", "Balance due"])
    expect(page.locator("#column-chooser")).to_have_attribute("open", "")
    assert serious_violations(page) == []


def test_the_chooser_works_without_javascript(nojs_page, admin, invoices):
    page = nojs_page
    sign_in(page, f"{LIST}?status=PAID")
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("Issue date", exact=True).check()
    page.get_by_role("button", name="Save columns").click()
    expect_path(page, f"{LIST}?status=PAID")
    expect_optional_headers(page, ["Issue date"])
