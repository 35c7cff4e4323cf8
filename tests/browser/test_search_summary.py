"""A search in the browser: its rows at once, its counts and totals a moment later.

Data: tests/browser/conftest.py INVOICES; "Cedar" names INV-1007 ($120.00,
PAID) and INV-1003 ($75.50, OVER_DUE).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from .conftest import sign_in

pytestmark = pytest.mark.browser

CEDAR_COUNTS = [
    "All Status (2)",
    "DRAFT (0)",
    "DUE (0)",
    "OVER_DUE (1)",
    "PAID (1)",
    "CANCEL (0)",
]


def _row_payables(page: Page) -> Decimal:
    cells = page.locator("#invoice-results tbody tr td:nth-child(3)").all_inner_texts()
    amounts = [re.search(r"\$([\d,]+\.\d\d)", cell).group(1) for cell in cells]
    return sum((Decimal(a.replace(",", "")) for a in amounts), Decimal(0))


def test_typed_search_shows_rows_then_counts_and_totals(page, admin, invoices):
    sign_in(page)
    held = []
    # Hold the second request, to see the state between the two answers.
    page.route("**/billing/invoice-summary?*", lambda route: held.append(route))
    page.get_by_label("Search").fill("Cedar")

    rows = page.locator("#invoice-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("INV-1007")
    expect(rows.nth(1)).to_contain_text("INV-1003")
    totals = page.locator("#invoice-totals")
    expect(totals).to_have_attribute("aria-busy", "true")
    expect(totals).to_have_text("Counting…")
    expect(page.locator("#result-count")).to_have_text("Counting invoices…")
    expect(page.locator("#status option").first).to_have_text("All Status")
    expect(page.locator("#pager")).to_contain_text("Page 1")
    page.wait_for_function("() => true")  # let the route handler see the request
    assert len(held) == 1
    assert "q=Cedar" in held[0].request.url

    held[0].continue_()
    expect(page.locator("#result-count")).to_have_text("2 invoices match the filters")
    expect(totals).not_to_have_attribute("aria-busy", "true")
    expect(totals).to_have_text(re.compile(r"USD\s+\$195\.50\s+\(2\)"))
    assert _row_payables(page) == Decimal("195.50")
    expect(page.locator("#status option")).to_have_text(CEDAR_COUNTS)
    expect(page.locator("#pager")).to_contain_text("Page 1 of 1")
    expect(page.locator("#matching-count")).to_have_text("2 ")


def test_clearing_the_search_brings_the_counts_back_at_once(page, admin, invoices):
    sign_in(page)
    page.get_by_label("Search").fill("Cedar")
    expect(page.locator("#result-count")).to_have_text("2 invoices match the filters")
    page.get_by_label("Search").fill("")
    expect(page.locator("#result-count")).to_have_text("7 invoices")
    expect(page.locator("#invoice-totals")).to_contain_text("EUR")
    expect(page.locator("#invoice-results tbody tr")).to_have_count(7)


def test_without_javascript_a_search_page_has_its_counts(nojs_page, admin, invoices):
    sign_in(nojs_page, "/billing/invoices?q=Cedar")
    expect(nojs_page.locator("#result-count")).to_have_text(
        "2 invoices match the filters"
    )
    expect(nojs_page.locator("#invoice-totals")).to_have_text(
        re.compile(r"USD\s+\$195\.50\s+\(2\)")
    )
    expect(nojs_page.locator("#status option")).to_have_text(CEDAR_COUNTS)
