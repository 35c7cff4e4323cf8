"""The invoice lifecycle in a real browser: a draft made, issued and paid in place.

Issue 4: a billing admin creates a draft with two lines, issues it, records its
payment and sees the row, the counts and the timeline update without a page
reload. Also: an action refused by the server shows its reason above the table and
leaves the row alone, and a bulk issue reports what it changed.

Data: tests/browser/conftest.py INVOICES (seven invoices, one of them a draft).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from playwright.sync_api import Locator, Page, Response, expect

from .conftest import ADMIN_EMAIL, OTHER_ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.browser

LIST = "/billing/invoices"
STATUSES = ("All Status", "DRAFT", "DUE", "OVER_DUE", "PAID", "CANCEL")


def status_options(*counts: int) -> list[str]:
    """The status select's options, with these counts in STATUSES order."""
    return [f"{name} ({n})" for name, n in zip(STATUSES, counts, strict=True)]


@contextmanager
def in_place(page: Page):
    """The block's changes happen in the page: no document is loaded meanwhile.

    A flag on window survives only if the document stays the same, and no request
    for a document (navigation, reload, form post) may be sent.
    """
    documents: list[str] = []

    def on_request(request) -> None:
        if request.resource_type == "document":
            documents.append(request.url)

    page.on("request", on_request)
    page.evaluate("() => { window.__inPlace = true; }")
    try:
        yield
    finally:
        page.remove_listener("request", on_request)
    assert documents == [], f"the page loaded a document: {documents}"
    assert page.evaluate("() => window.__inPlace === true"), "the page was reloaded"


@contextmanager
def confirming(page: Page, question: str):
    """Accept the one confirm() dialog the block opens; it must ask `question`."""
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    page.once("dialog", accept)
    yield
    assert asked == [f"confirm: {question}"]


@contextmanager
def htmx_post(page: Page, path: str, status: int = 200):
    """Wait for the htmx POST to path the block sends; check its status."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith(path)
    ) as info:
        yield info
    response: Response = info.value
    assert response.request.headers.get("hx-request") == "true"
    assert response.status == status, response.text()[:500]


def row_of(page: Page, number: str) -> Locator:
    """The table row of invoice `number`."""
    link = page.get_by_role("link", name=number, exact=True)
    return page.locator("#invoice-results tbody tr", has=link)


def shown(page: Page, number: str) -> list[str]:
    """What the row of `number` says, actions left out."""
    return row_of(page, number).locator("td:not(.row-actions)").all_inner_texts()


def screenshot(page: Page, name: str) -> None:
    """Save a screenshot when BROWSER_SCREENSHOTS names a folder (for reviews)."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def medium_date(day: date) -> str:
    """A date as the app shows it (en_US, medium): 'Dec 25, 2026'."""
    return format_date(day, "medium", locale="en_US")


def test_admin_creates_issues_and_pays_a_draft_in_place(page, admin, invoices):
    sign_in(page)
    expect(page.locator("#status option")).to_have_text(
        status_options(7, 1, 1, 1, 3, 1)
    )
    page.get_by_role("link", name="New draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New draft invoice")
    page.wait_for_load_state("load")

    # A new client, a month, a currency and payment terms instead of a due date.
    page.get_by_label("Client e-mail").fill("billing@northwind.example")
    page.get_by_label("Client name").fill("Northwind Traders")
    period = page.get_by_label("Billing period")
    expect(period).to_have_attribute("type", "month")
    period.fill("2025-05")
    page.get_by_label("Currency").fill("USD")
    page.get_by_label("Payment terms (days)").fill("30")
    page.get_by_label("Description 1", exact=True).fill("Compute hours")
    page.get_by_label("Quantity 1", exact=True).fill("120")
    page.get_by_label("Unit price 1", exact=True).fill("0.25")
    payable = page.locator("#draft-payable")
    expect(payable).to_have_text("$30.00")

    # "Add line" re-renders the lines on the server, in place; what was typed stays.
    with in_place(page):
        page.evaluate("() => { document.getElementById('draft-lines').__old = true; }")
        with htmx_post(page, "/invoices/draft/lines"):
            page.get_by_role("button", name="Add line").click()
        expect(page.get_by_label("Description 2", exact=True)).to_have_value("")
        assert page.evaluate(
            "() => document.getElementById('draft-lines').__old === undefined"
        ), "#draft-lines was not replaced"
        expect(page.get_by_label("Description 1", exact=True)).to_have_value(
            "Compute hours"
        )
        expect(page.get_by_label("Client name")).to_have_value("Northwind Traders")
        page.get_by_label("Description 2", exact=True).fill("Object storage")
        page.get_by_label("Quantity 2", exact=True).fill("3")
        # 3 × 1.333 = 3.999, rounded half-up on the server to 4.00.
        page.get_by_label("Unit price 2", exact=True).fill("1.333")
        expect(payable).to_have_text("$34.00")
        expect(page.locator("#draft-totals")).to_contain_text("Usage cost$34.00")
    screenshot(page, "draft")

    # Saving is an ordinary form post: the new draft's own page.
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/billing/invoices/INV-202505-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator("main .flash")).to_have_text(f"Draft {number} created.")
    expect(page.locator("#invoice-panel .badge")).to_have_text("DRAFT")
    lines = page.locator("table.lines tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).locator("td")).to_have_text(
        ["Compute hours", "120", "0.25 USD", "$30.00"]
    )
    expect(lines.nth(1).locator("td")).to_have_text(
        ["Object storage", "3", "1.333 USD", "$4.00"]
    )

    # Back to the list, narrowed to drafts; issue the new one from its row.
    page.get_by_role("link", name="Billing › Invoices").click()
    expect(page).to_have_url(re.compile(re.escape(LIST) + "$"))
    page.wait_for_load_state("load")
    expect(page.locator("#status option")).to_have_text(
        status_options(8, 2, 1, 1, 3, 1)
    )
    with in_place(page):
        page.get_by_label("Status", exact=True).select_option("DRAFT")
        expect(page.locator("#result-count")).to_have_text(
            "2 invoices match the filters"
        )
        row = row_of(page, number)
        expect(row.locator(".badge")).to_have_text("DRAFT")
        expect(row).to_contain_text("On issue + 30 days")
        page.evaluate(
            "(n) => { window.__oldRow = document.querySelector("
            "`#invoice-results tr:has(a[href$='/${n}'])`); }",
            number,
        )
        question = f"Issue invoice {number}? It can no longer be edited."
        with confirming(page, question), htmx_post(page, f"/{number}/issue"):
            row.get_by_role("button", name="Issue", exact=True).click()
        expect(row.locator(".badge")).to_have_text("DUE")
        # Issued today, due after the 30 days of terms (the app's day is UTC's).
        due = datetime.now(UTC).date() + timedelta(days=30)
        expect(row).to_contain_text(medium_date(due))
        expect(row.get_by_role("button", name="Issue", exact=True)).to_have_count(0)
        expect(row.locator("summary")).to_have_text(["Record payment", "Cancel"])
        expect(page.locator("#action-message")).to_have_text(
            f"Invoice {number} issued; due {due.isoformat()}."
        )
        # The counts follow (out of band), for the filters on screen.
        expect(page.locator("#status option")).to_have_text(
            status_options(8, 1, 2, 1, 3, 1)
        )
        expect(page.get_by_label("Status", exact=True)).to_have_value("DRAFT")
        expect(page.locator("#result-count")).to_have_text(
            "1 invoice matches the filters"
        )
        assert page.evaluate("() => !window.__oldRow.isConnected"), "row not swapped"
        expect(page.locator("#htmx-alert")).to_be_hidden()

    # On the invoice's page: record the payment; the panel and history follow.
    row.get_by_role("link", name=number, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(f"{LIST}/{number}") + "$"))
    page.wait_for_load_state("load")
    panel = page.locator("#invoice-panel")
    expect(panel.locator(".badge")).to_have_text("DUE")
    with in_place(page):
        panel.get_by_text("Record payment", exact=True).click()
        amount = panel.get_by_label("Amount (USD)")
        expect(amount).to_have_value("34.00")  # the balance due
        screenshot(page, "due")
        received_on = panel.get_by_label("Received on")
        expect(received_on).to_have_value(datetime.now(UTC).date().isoformat())
        panel.get_by_label("Reference").fill("WIRE-7781")
        question = f"Record this payment on {number}?"
        with confirming(page, question), htmx_post(page, f"/{number}/pay"):
            panel.get_by_role("button", name="Record", exact=True).click()
        expect(panel.locator(".badge")).to_have_text("PAID")
        fields = panel.locator("dl.fields")
        expect(fields).to_contain_text("Paid so far$34.00")
        expect(fields).to_contain_text("Balance due$0.00")
        expect(page.locator("#action-message")).to_have_text(
            f"Payment recorded; invoice {number} is PAID."
        )
        # PAID is final: no action is offered any more.
        expect(panel.locator(".lifecycle-actions button, summary")).to_have_count(0)
        entries = panel.locator("ol.timeline > li")
        expect(entries).to_have_count(3)
        expect(entries.nth(0)).to_contain_text(f"Payment by {ADMIN_EMAIL}")
        expect(entries.nth(0)).to_contain_text("34.00 USD received")
        expect(entries.nth(0)).to_contain_text("ref. WIRE-7781")
        expect(entries.nth(0)).to_contain_text("status: DUE → PAID")
        expect(entries.nth(1)).to_contain_text(f"Issue by {ADMIN_EMAIL}")
        expect(entries.nth(1)).to_contain_text("status: DRAFT → DUE")
        expect(entries.nth(2)).to_contain_text(f"Create by {ADMIN_EMAIL}")
    screenshot(page, "paid")


def test_a_refused_action_shows_the_reason_and_keeps_the_row(
    page, other_page, admin, other_admin, invoices
):
    sign_in(page)
    before = {n: shown(page, n) for n in ("INV-1001", "INV-1003")}

    # Meanwhile a second admin takes $40.00 on INV-1001 (it stays DUE).
    sign_in(other_page, f"{LIST}/INV-1001", email=OTHER_ADMIN_EMAIL)
    other_panel = other_page.locator("#invoice-panel")
    other_panel.get_by_text("Record payment", exact=True).click()
    other_panel.get_by_label("Amount (USD)").fill("40.00")
    with (
        confirming(other_page, "Record this payment on INV-1001?"),
        htmx_post(other_page, "/INV-1001/pay"),
    ):
        other_panel.get_by_role("button", name="Record", exact=True).click()
    expect(other_panel.locator("dl.fields")).to_contain_text("Balance due$60.00")

    # The first admin's row is stale: cancelling it is refused (409), with why.
    alert = page.locator("#htmx-alert")
    with in_place(page):
        row = row_of(page, "INV-1001")
        row.evaluate("(tr) => { tr.__stale = true; }")
        row.get_by_text("Cancel", exact=True).click()
        row.get_by_label("Reason").fill("Sent twice")
        with (
            confirming(page, "Cancel invoice INV-1001? This cannot be undone."),
            htmx_post(page, "/INV-1001/cancel", status=409) as info,
        ):
            row.get_by_role("button", name="Cancel invoice").click()
        reason = (
            "Invoice INV-1001 was changed by someone else since you opened it. "
            "Reload to see the change, then try again."
        )
        assert info.value.text() == reason
        expect(alert).to_be_visible()
        expect(alert).to_have_text(reason)
        # Above the table, where it is seen; the row is the same, untouched.
        alert_box = alert.bounding_box()
        assert alert_box["y"] < page.locator("table.invoices").bounding_box()["y"]
        assert row.evaluate("(tr) => tr.__stale === true"), "the row was replaced"
        expect(row.locator(".badge")).to_have_text("DUE")
        expect(row.get_by_label("Reason")).to_have_value("Sent twice")
        expect(page.locator("#action-message")).to_have_text("")

    # A status that forbids the action: INV-1003 was paid in full meanwhile.
    other_page.goto(f"{LIST}/INV-1003")
    other_page.wait_for_load_state("load")
    other_panel.get_by_text("Record payment", exact=True).click()
    expect(other_panel.get_by_label("Amount (USD)")).to_have_value("75.50")
    with (
        confirming(other_page, "Record this payment on INV-1003?"),
        htmx_post(other_page, "/INV-1003/pay"),
    ):
        other_panel.get_by_role("button", name="Record", exact=True).click()
    expect(other_panel.locator(".badge")).to_have_text("PAID")

    with in_place(page):
        row = row_of(page, "INV-1003")
        row.get_by_text("Cancel", exact=True).click()
        row.get_by_label("Reason").fill("Client disputes it")
        with (
            confirming(page, "Cancel invoice INV-1003? This cannot be undone."),
            htmx_post(page, "/INV-1003/cancel", status=409),
        ):
            row.get_by_role("button", name="Cancel invoice").click()
        expect(alert).to_have_text(
            "Invoice INV-1003 is PAID: it cannot be cancelled (PAID is final)."
        )
        expect(row.locator(".badge")).to_have_text("OVER_DUE")
        assert {n: shown(page, n) for n in before} == before

        # The next good answer clears the message; the table tells the truth now.
        page.get_by_label("Status", exact=True).select_option("PAID")
        expect(alert).to_be_hidden()
        expect(row_of(page, "INV-1003").locator(".badge")).to_have_text("PAID")


def test_bulk_issue_of_two_ticked_drafts(page, admin, invoices, make_invoice):
    make_invoice(
        number="INV-1008",
        client_name="Echo Media",
        billing_period=date(2024, 7, 1),
        status="DRAFT",
        issue_date=None,
        due_date=date(2099, 8, 15),
        payable=Decimal("55.00"),
    )
    sign_in(page)
    expect(page.locator("#status option")).to_have_text(
        status_options(8, 2, 1, 1, 3, 1)
    )
    with in_place(page):
        page.evaluate("() => { document.getElementById('invoice-results').__old = 1; }")
        for number in ("INV-1008", "INV-1004"):
            page.get_by_role("checkbox", name=f"Select invoice {number}").check()
        page.get_by_label("Selected:").select_option(label="Issue drafts")
        with (
            confirming(page, "Apply this to the selected invoices?"),
            htmx_post(page, "/invoices/bulk"),
        ):
            page.get_by_role("button", name="Go", exact=True).click()
        expect(page.locator("#bulk-report")).to_have_text(
            "Issue: 2 of 2 invoices changed."
        )
        for number in ("INV-1008", "INV-1004"):
            expect(row_of(page, number).locator(".badge")).to_have_text("DUE")
        expect(page.locator("#status option")).to_have_text(
            status_options(8, 0, 3, 1, 3, 1)
        )
        # A fresh table: nothing is ticked any more.
        assert page.evaluate(
            "() => document.getElementById('invoice-results').__old === undefined"
        ), "the table was not replaced"
        expect(page.locator("#invoice-results input.select-row:checked")).to_have_count(
            0
        )
        expect(page.locator("#htmx-alert")).to_be_hidden()
    expect(page).to_have_url(re.compile(re.escape(LIST) + "$"))
