"""The invoice list from the keyboard, in Chromium: search, rows, open, tick, help."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import sign_in
from .test_accessibility import serious_violations

pytestmark = pytest.mark.browser


def focused_number(page: Page) -> str:
    return page.evaluate(
        "() => document.activeElement.matches('#invoice-results tbody tr')"
        " ? document.activeElement.querySelector('a.strong').textContent.trim() : ''"
    )


def test_slash_j_k_x_enter_and_help(page: Page, admin, invoices):
    sign_in(page)
    rows = page.locator("#invoice-results tbody tr a.strong")
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()

    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    # Typing in the search box types, it does not move the row focus.
    page.keyboard.type("jk")
    expect(page.locator("#q")).to_have_value("jk")
    assert focused_number(page) == ""
    page.locator("#q").fill("")
    page.locator("h1").click()  # out of the field

    page.keyboard.press("j")
    assert focused_number(page) == first
    page.keyboard.press("j")
    assert focused_number(page) == second
    expect(page.locator("#keyboard-status")).to_have_text(
        re.compile(rf"Invoice {re.escape(second)}, row 2 of \d+\.")
    )
    page.keyboard.press("k")
    assert focused_number(page) == first

    page.keyboard.press("x")
    box = page.locator("#invoice-results tbody tr").nth(0).locator("input.select-row")
    expect(box).to_be_checked()
    expect(page.locator("#keyboard-status")).to_have_text(f"Invoice {first} ticked.")
    page.keyboard.press("x")
    expect(box).not_to_be_checked()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # From a known place: whether closing the dialog gives the focus back to the
    # row it had was seen to differ between runs under load.
    page.locator("h1").click()
    page.keyboard.press("j")
    assert focused_number(page) == first
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/billing/invoices/{re.escape(first)}$"))


def test_shortcuts_do_not_fire_with_a_modifier(page: Page, admin, invoices):
    sign_in(page)
    page.locator("h1").click()
    page.keyboard.press("Control+j")
    assert focused_number(page) == ""
