"""A searched list in two fragments: the rows at once, the counts and totals after.

The htmx fragment of a search carries no counts, only a loader that asks
/billing/invoice-summary; that second fragment must show what the one-piece
page shows for the same filters (which is how the page without JavaScript
still gets them).
"""

import re
from datetime import date
from decimal import Decimal
from functools import partial
from html import unescape

import pytest

HX = {"HX-Request": "true"}


@pytest.fixture
def searched(client, auth, make_invoice):
    """Five invoices of which three mention "orbit", in two currencies."""
    make_invoice = partial(make_invoice, due_date=date(2099, 6, 30))
    make_invoice(number="INV-O-1", notes="orbit one", payable=Decimal("10.10"))
    make_invoice(number="INV-O-2", notes="Orbit two", status="PAID")
    make_invoice(
        number="INV-O-3",
        client_name="Orbital Works",
        currency="JPY",
        usage_cost=Decimal("1500"),
        payable=Decimal("1500"),
    )
    make_invoice(number="INV-O-4", notes="elsewhere")
    make_invoice(number="INV-O-5", notes="elsewhere", currency="JPY")
    auth.login("staff")
    return client


def _totals(html: str) -> str:
    block = re.search(r'<div class="totals".*?</div>', html, re.S).group(0)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", block)).split())


def _status_options(html: str) -> list[str]:
    select = re.search(r'<select id="status".*?</select>', html, re.S).group(0)
    return [" ".join(o.split()) for o in re.findall(r">([^<>]+)</option>", select)]


def _result_count(html: str) -> str:
    found = re.search(r'id="result-count"[^>]*>(.*?)</(?:span|p)>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_search_fragment_has_rows_and_a_loader_but_no_counts(searched):
    response = searched.get("/billing/invoices?q=orbit", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert set(re.findall(r"INV-O-\d", html)) == {"INV-O-1", "INV-O-2", "INV-O-3"}
    loader = re.search(r'<div class="totals" id="invoice-totals"[^>]*>', html).group(0)
    assert 'hx-get="/billing/invoice-summary?q=orbit"' in loader
    assert 'hx-trigger="load"' in loader
    assert 'aria-busy="true"' in loader
    assert "Counting…" in html
    assert "Counting invoices…" in _result_count(html)
    # The status options come without their counts; no total, no page count.
    assert _status_options(html)[:3] == ["All Status", "DRAFT", "DUE"]
    assert "USD" not in _totals(html)
    assert "Page 1</span>" in html


def test_summary_fragment_shows_what_the_whole_page_shows(searched):
    page = searched.get("/billing/invoices?q=orbit").get_data(as_text=True)
    response = searched.get("/billing/invoice-summary?q=orbit", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    summary = response.get_data(as_text=True)
    assert _totals(summary) == _totals(page) == "JPY ¥1,500 (1) USD $25.10 (2)"
    assert (
        _status_options(summary)
        == _status_options(page)
        == [
            "All Status (3)",
            "DRAFT (0)",
            "DUE (2)",
            "OVER_DUE (0)",
            "PAID (1)",
            "CANCEL (0)",
        ]
    )
    count = "3 invoices match the filters"
    assert _result_count(summary) == _result_count(page) == count
    assert 'id="status" name="status" hx-swap-oob="true"' in summary
    assert 'id="page-status" hx-swap-oob="true">Page 1 of 1<' in summary
    assert 'id="export-links"' in summary
    # The whole page, without JavaScript, has its counts inline and no loader
    # (the saved-view tabs' counts have a loader of their own).
    assert 'hx-get="/billing/invoice-summary' not in page


def test_summary_follows_every_filter(searched):
    html = searched.get(
        "/billing/invoice-summary?q=orbit&status=DUE&per_page=10", headers=HX
    ).get_data(as_text=True)
    assert _totals(html) == "JPY ¥1,500 (1) USD $10.10 (1)"
    assert _result_count(html) == "2 invoices match the filters"
    assert "selected>DUE (2)" in " ".join(html.split())


def test_next_page_before_and_after_the_count(searched, make_invoice):
    for i in range(7):
        make_invoice(number=f"INV-P-{i}", notes="orbit more")
    # 10 matches, 10 a page: the fragment offers "next" (the page is full) …
    first = searched.get("/billing/invoices?q=orbit&per_page=10", headers=HX)
    assert 'id="page-next"' in first.get_data(as_text=True)
    # … the count says there is one page, and its pager replaces that one.
    summary = searched.get("/billing/invoice-summary?q=orbit&per_page=10", headers=HX)
    html = summary.get_data(as_text=True)
    # Only the count's part of the pager, not the rows-per-page select: a
    # choice made there while the count is on its way must not be undone.
    assert '<span id="page-status" hx-swap-oob="true">' in html
    assert '<span id="page-next-slot" hx-swap-oob="true">' in html
    assert 'id="per_page"' not in html and 'id="pager"' not in html
    assert "Page 1 of 1" in html and 'id="page-next"' not in html
    summary = searched.get("/billing/invoice-summary?q=orbit&per_page=25", headers=HX)
    assert "Page 1 of 1" in summary.get_data(as_text=True)


def test_bulk_bar_gets_the_count_from_the_summary(searched):
    html = searched.get("/billing/invoices?q=orbit", headers=HX).get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert "All that match the filters" in text
    summary = searched.get("/billing/invoice-summary?q=orbit", headers=HX)
    assert '<span id="matching-count" hx-swap-oob="innerHTML">3 </span>' in (
        summary.get_data(as_text=True)
    )


def test_without_a_search_the_fragment_keeps_its_counts(searched):
    html = searched.get("/billing/invoices?status=DUE", headers=HX).get_data(
        as_text=True
    )
    assert "invoice-summary" not in html
    assert _result_count(html) == "4 invoices match the filters"
    assert _status_options(html)[0] == "All Status (5)"


def test_bad_filters_in_a_search_keep_the_last_table(searched):
    response = searched.get("/billing/invoices?q=orbit&page=0", headers=HX)
    assert response.status_code == 400
    assert response.headers["HX-Reswap"] == "none"
    assert "invoice-summary" not in response.get_data(as_text=True)


def test_summary_refuses_bad_filters(searched):
    response = searched.get("/billing/invoice-summary?status=NOPE", headers=HX)
    assert response.status_code == 400
    assert response.headers["HX-Reswap"] == "none"


def test_summary_needs_sign_in(client, make_invoice):
    make_invoice(number="INV-HIDDEN", notes="orbit", payable=Decimal("77.70"))
    response = client.get("/billing/invoice-summary?q=orbit")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert "77.70" not in response.get_data(as_text=True)
