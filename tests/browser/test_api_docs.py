"""/api/docs in Chromium: the vendored viewer shows every operation, under the CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_viewer_shows_every_operation_without_breaking_the_csp(
    page: Page, live_server
):
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text or "Refused" in message.text
            else None
        ),
    )
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(live_server)
            and not request.url.startswith("data:")
            else None
        ),
    )
    response = page.goto(f"{live_server}/api/docs")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Invoice Manager API")).to_be_visible()
    for path in (
        "/api/invoices",
        "/api/invoices/{number}",
        "/api/invoices/{number}/payments",
    ):
        expect(page.locator(f'[data-path="{path}"]').first).to_be_visible()
    page.get_by_text("Create an invoice (DRAFT, or DUE").click()
    expect(page.get_by_text("Idempotency-Key").first).to_be_visible()
    assert refused == []
    assert outside == []
