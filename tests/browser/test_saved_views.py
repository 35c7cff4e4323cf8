"""Saved views in Chromium: save a filtered list, its tab and count, switching tabs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import ALL_NUMBERS, sign_in
from .test_accessibility import serious_violations
from .test_invoice_page import LIST, expect_path, expect_rows, swap

pytestmark = pytest.mark.browser

PAID = ["INV-1007", "INV-1005", "INV-1002"]


def tabs(page: Page):
    return page.get_by_role("navigation", name="Saved views")


def save_view(page: Page, name: str) -> None:
    """Open "Save view", name the list and save it: the table comes back in it."""
    tabs(page).get_by_text("Save view", exact=True).click()
    tabs(page).get_by_label("Name", exact=True).fill(name)
    with swap(page):
        tabs(page).get_by_role("button", name="Save", exact=True).click()


def test_a_saved_view_is_a_tab_with_its_count(page: Page, admin, invoices):
    sign_in(page)
    with swap(page):
        page.get_by_label("Status", exact=True).select_option("PAID")
    expect_rows(page, PAID)
    save_view(page, "Paid ones")

    tab = tabs(page).get_by_role("link", name=re.compile(r"^Paid ones"))
    expect(tab).to_have_attribute("aria-current", "page")
    # Its live count arrives after the page, with the other tabs'.
    expect(tab.locator(".tab-count")).to_have_text("3 invoices")
    all_tab = tabs(page).get_by_role("link", name=re.compile(r"^All invoices"))
    expect(all_tab.locator(".tab-count")).to_have_text(f"{len(ALL_NUMBERS)} invoices")
    expect(page).to_have_url(re.compile(r"\?view=\d+$"))
    view_url = page.url
    expect(page.get_by_role("status").filter(has_text="Saved the view")).to_have_text(
        "Saved the view “Paid ones”."
    )

    # No reload from here on: a mark set on the window stays.
    page.evaluate("() => { window.__sameDocument = true; }")
    with swap(page):
        all_tab.click()
    expect_rows(page, ALL_NUMBERS)
    # No default view: the whole list is the bare address.
    expect_path(page, LIST)
    expect(all_tab).to_have_attribute("aria-current", "page")
    # The filter controls follow the view (sent out of band with the table).
    expect(page.locator("#status")).to_have_value("ALL")

    with swap(page):
        tabs(page).get_by_role("link", name=re.compile(r"^Paid ones")).click()
    expect_rows(page, PAID)
    expect(page).to_have_url(view_url)
    expect(page.locator("#status")).to_have_value("PAID")
    expect(
        tabs(page).get_by_role("link", name=re.compile(r"^Paid ones"))
    ).to_have_attribute("aria-current", "page")
    assert page.evaluate("() => window.__sameDocument") is True

    # A change inside the view keeps it: the address says view= and the change.
    with swap(page):
        page.get_by_label("Search", exact=True).fill("delta")
    expect_rows(page, ["INV-1005"])
    expect(page).to_have_url(re.compile(r"\?view=\d+&q=delta$"))


def test_the_list_with_tabs_has_no_serious_violations(page: Page, admin, invoices):
    sign_in(page)
    with swap(page):
        page.get_by_label("Status", exact=True).select_option("DUE")
    save_view(page, "Due")
    expect(tabs(page).locator(".tab-count").first).not_to_be_empty()
    assert serious_violations(page) == []
    tabs(page).get_by_text("Save view", exact=True).click()
    assert serious_violations(page) == []
    page.goto("/billing/views")
    assert serious_violations(page) == []
