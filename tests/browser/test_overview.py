"""Billing › Overview in Chromium: figures, the chart, a bucket's list, axe-core.

The browser conftest's invoices owe, today: INV-1001 (USD 100.00, due in
2099: not yet due) and INV-1003 (USD 75.50, due 2024-04-15: over 90 days).
The others are paid, a draft or cancelled.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import sign_in
from .test_accessibility import serious_violations
from .test_invoice_page import expect_path, expect_rows

pytestmark = pytest.mark.browser
OVERVIEW = "/billing/overview"


def usd_row(page, row: str):
    return page.locator(f'table.aging[data-currency="USD"] tr[data-row="{row}"]')


def test_overview_renders_figures_and_chart_without_serious_violations(
    page, admin, invoices
):
    sign_in(page, OVERVIEW)
    expect(page.get_by_role("heading", name="Receivables overview")).to_be_visible()
    expect(page.get_by_role("link", name="Overview")).to_have_attribute(
        "aria-current", "page"
    )
    expect(usd_row(page, "outstanding").locator("td").first).to_have_text("$175.50")
    expect(usd_row(page, "not_due").locator("td").first).to_have_text("$100.00")
    expect(usd_row(page, "over_90").locator("td").first).to_have_text("$75.50")
    expect(usd_row(page, "1_30").locator("[data-count]")).to_have_text("0")
    # No EUR is owed (its invoices are paid or cancelled).
    expect(page.locator('table.aging[data-currency="EUR"]')).to_have_count(0)
    # The chart arrives after the figures, drawn by the server.
    chart = page.get_by_role("img", name="USD: invoiced, collected and overdue")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(36)
    expect(page.get_by_role("table", name="USD by month")).to_be_attached()
    assert serious_violations(page) == []


def test_a_bucket_click_opens_exactly_its_invoices(page, admin, invoices):
    sign_in(page, OVERVIEW)
    usd_row(page, "over_90").get_by_role("link").click()
    expect_path(page, "/billing/invoices?aging=over_90&currency=USD")
    expect_rows(page, ["INV-1003"])
    expect(page.get_by_text("Owed today: Over 90 days")).to_be_visible()
    # Back on the overview, the outstanding total lists both invoices owed.
    page.go_back()
    usd_row(page, "outstanding").get_by_role("link").click()
    expect_rows(page, ["INV-1003", "INV-1001"])


def test_a_past_day_and_a_bad_day(page, admin, invoices):
    sign_in(page, OVERVIEW)
    page.get_by_label("As of", exact=True).fill("2024-04-20")
    page.get_by_role("button", name="Show").click()
    expect_path(page, "/billing/overview?as_of=2024-04-20")
    # Then INV-1003 was 5 days late, INV-1005 and INV-1007 not issued yet.
    expect(usd_row(page, "1_30").locator("td").first).to_have_text("$75.50")
    expect(usd_row(page, "1_30").get_by_role("link")).to_have_count(0)
    page.goto(OVERVIEW + "?as_of=2024-02-31")
    field = page.get_by_label("As of", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        "'2024-02-31' is not a valid date (YYYY-MM-DD, years 1 to 9999)."
    )
    assert serious_violations(page) == []
