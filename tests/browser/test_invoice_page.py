"""The Invoice Manager in a real browser: htmx swaps, pushed URLs, Back, no-JS form.

Data (tests/browser/conftest.py INVOICES), newest billing period first:

    INV-1007  Cedar Health           2024-06  PAID      due 2024-07-20  $120.00
    INV-1006  Blue Harbor Logistics  2024-06  CANCEL    due 2024-07-15  €90.00
    INV-1005  Delta Robotics         2024-05  PAID      due 2024-06-15  $310.00
    INV-1004  Acme Analytics         2024-04  DRAFT     due 2099-05-15  $40.00
    INV-1003  Cedar Health           2024-03  OVER_DUE  due 2024-04-15  $75.50
    INV-1002  Blue Harbor Logistics  2024-02  PAID      due 2024-03-15  €250.00
    INV-1001  Acme Analytics         2024-01  DUE       due 2099-01-31  $100.00
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from invoice_app.billing import rendering

from .conftest import ALL_NUMBERS, sign_in

pytestmark = pytest.mark.browser

LIST = "/billing/invoices"
CONTROLS = ("status", "date_field", "date_from", "date_to", "q", "per_page")
DEFAULT_CONTROLS = {
    "status": "ALL",
    "date_field": "period",
    "date_from": "",
    "date_to": "",
    "q": "",
    "per_page": "25",
}


def expect_rows(page: Page, numbers: list[str]) -> None:
    """The table shows exactly these invoices, in this order."""
    links = page.locator("#invoice-results tbody tr[id^=invoice-] td:first-child a")
    if numbers:
        expect(links).to_have_text(numbers)
    else:
        expect(links).to_have_count(0)


def expect_path(page: Page, path: str) -> None:
    """The address bar shows path (with its query) on the live server."""
    expect(page).to_have_url(
        re.compile(r"^http://127\.0\.0\.1:\d+" + re.escape(path) + "$")
    )


def expect_controls(page: Page, **values: str) -> None:
    """Every filter control shows these values (defaults for the others)."""
    wanted = {**DEFAULT_CONTROLS, **values}
    for name in CONTROLS:
        expect(page.locator(f"#{name}"), f"control {name}").to_have_value(wanted[name])


def is_fragment_request(response: Response) -> bool:
    request = response.request
    return (
        urlsplit(response.url).path == LIST
        and request.headers.get("hx-request") == "true"
        and "hx-history-restore-request" not in request.headers
    )


def is_history_restore(response: Response) -> bool:
    return response.request.headers.get("hx-history-restore-request") == "true"


def _listen_once(page: Page, event: str) -> None:
    page.evaluate(
        """(event) => {
            window.__htmxDone = new Promise((resolve) =>
                document.addEventListener(event, () => resolve(true), {once: true})
            );
        }""",
        event,
    )


@contextmanager
def swap(page: Page, status: int = 200):
    """Wait for the htmx request the block triggers and its swap; check the answer.

    Waiting for htmx:afterSettle matters: htmx wires up the new fragment's links
    when it settles, so a key pressed before then would follow a plain link.
    """
    _listen_once(page, "htmx:afterSettle")
    with page.expect_response(is_fragment_request) as info:
        yield info
    page.evaluate("() => window.__htmxDone")
    response = info.value
    assert response.status == status, response.text()[:500]
    vary = [name.strip().lower() for name in response.headers["vary"].split(",")]
    assert "hx-request" in vary, vary
    assert "<html" not in response.text(), "htmx got a full page, not the fragment"


@contextmanager
def history_restore(page: Page):
    """Wait for htmx to fetch the view Back/Forward returns to (a full page)."""
    _listen_once(page, "htmx:historyRestore")
    with page.expect_response(is_history_restore) as info:
        yield info
    page.evaluate("() => window.__htmxDone")
    assert info.value.status == 200
    assert "<html" in info.value.text()


class NoReload:
    """Proves that what happened was an in-page swap, not a page load.

    A flag on window and on the form survives only if the document is the same;
    no request of type "document" may be sent; and #invoice-results must be a new
    element (it was swapped) while the form and the live region are the same ones.
    """

    def __init__(self, page: Page):
        self.page = page
        self.documents: list[str] = []
        page.on("request", self._on_request)
        self.mark()

    def _on_request(self, request) -> None:
        if request.resource_type == "document":
            self.documents.append(request.url)

    def mark(self) -> None:
        self.page.evaluate(
            """() => {
                window.__sameDocument = true;
                document.getElementById("invoice-filters").__sameForm = true;
                document.getElementById("result-count").__sameRegion = true;
                document.getElementById("invoice-results").__oldResults = true;
            }"""
        )

    def check(self, *, results_swapped: bool = True, restored: bool = False) -> None:
        """No reload since the last check; restored: Back/Forward swapped the body."""
        state = self.page.evaluate(
            """() => ({
                document: window.__sameDocument === true,
                form: document.getElementById("invoice-filters").__sameForm === true,
                region: document.getElementById("result-count").__sameRegion === true,
                oldResults:
                    document.getElementById("invoice-results").__oldResults === true,
            })"""
        )
        assert self.documents == [], f"the page was reloaded: {self.documents}"
        if restored:
            assert state["document"], "Back/Forward reloaded the page"
        else:
            assert state == {
                "document": True,
                "form": True,
                "region": True,
                "oldResults": not results_swapped,
            }
        self.mark()


def _summary_request(url: str) -> bool:
    # A searched table asks for its counts in a second request (its own tests:
    # test_search_summary.py); these tests count the requests of the list.
    return urlsplit(url).path == "/billing/invoice-summary"


def test_status_dates_and_search_swap_only_the_fragment(page, admin, invoices):
    sign_in(page)
    expect_rows(page, ALL_NUMBERS)
    expect(page.locator("#result-count")).to_have_text("7 invoices")
    expect(page.locator("#status option")).to_have_text(
        [
            "All Status (7)",
            "DRAFT (1)",
            "DUE (1)",
            "OVER_DUE (1)",
            "PAID (3)",
            "CANCEL (1)",
        ]
    )
    no_reload = NoReload(page)

    with swap(page) as info:
        page.get_by_label("Status", exact=True).select_option("PAID")
    assert info.value.headers["hx-push-url"] == f"{LIST}?status=PAID"
    expect_rows(page, ["INV-1007", "INV-1005", "INV-1002"])
    expect_path(page, f"{LIST}?status=PAID")
    expect(page.locator("#result-count")).to_have_text("3 invoices match the filters")
    expect_controls(page, status="PAID")
    no_reload.check()

    # Which date to filter on changes nothing until there is a date.
    with swap(page):
        page.get_by_label("Date to filter on").select_option("due")
    expect_path(page, f"{LIST}?status=PAID")
    with swap(page):
        page.get_by_label("From", exact=True).fill("2024-03-01")
    expect_path(page, f"{LIST}?status=PAID&date_field=due&date_from=2024-03-01")
    expect_rows(page, ["INV-1007", "INV-1005", "INV-1002"])
    with swap(page):
        page.get_by_label("To", exact=True).fill("2024-06-30")
    due_march_to_june = f"{LIST}?status=PAID&date_field=due&date_from=2024-03-01"
    due_march_to_june += "&date_to=2024-06-30"
    expect_path(page, due_march_to_june)
    expect_rows(page, ["INV-1005", "INV-1002"])
    expect(page.locator("#result-count")).to_have_text("2 invoices match the filters")
    # The status counts follow the other filters (out-of-band swap), and the
    # status the user picked stays picked.
    expect(page.locator("#status option")).to_have_text(
        [
            "All Status (3)",
            "DRAFT (0)",
            "DUE (0)",
            "OVER_DUE (1)",
            "PAID (2)",
            "CANCEL (0)",
        ]
    )
    expect_controls(
        page,
        status="PAID",
        date_field="due",
        date_from="2024-03-01",
        date_to="2024-06-30",
    )
    no_reload.check()

    # Typing is debounced: one request, 300 ms after the last key.
    searches: list[str] = []
    page.on(
        "request",
        lambda r: (
            "q=" in r.url
            and r.headers.get("hx-request")
            and not _summary_request(r.url)
            and searches.append(r.url)
        ),
    )
    with swap(page) as info:
        page.get_by_label("Search", exact=True).press_sequentially("harbor", delay=40)
        assert searches == [], "a request was sent before typing paused"
    assert info.value.headers["hx-push-url"] == f"{due_march_to_june}&q=harbor"
    expect_rows(page, ["INV-1002"])
    expect_path(page, f"{due_march_to_june}&q=harbor")
    expect(page.locator("#result-count")).to_have_text("1 invoice matches the filters")
    page.wait_for_timeout(400)  # long enough for a second, undebounced request
    assert len(searches) == 1, searches
    expect_controls(
        page,
        status="PAID",
        date_field="due",
        date_from="2024-03-01",
        date_to="2024-06-30",
        q="harbor",
    )
    no_reload.check()


def test_back_and_forward_restore_every_control(page, admin, invoices):
    view_a = (
        f"{LIST}?status=PAID&date_field=due&date_from=2024-03-01"
        "&date_to=2024-07-31&per_page=10"
    )
    a_controls = {
        "status": "PAID",
        "date_field": "due",
        "date_from": "2024-03-01",
        "date_to": "2024-07-31",
        "per_page": "10",
    }
    sign_in(page, view_a)
    expect_rows(page, ["INV-1007", "INV-1005", "INV-1002"])
    expect_controls(page, **a_controls)
    no_reload = NoReload(page)

    # Change 1: search. Leaving the box asks for nothing more, and "Apply" with
    # nothing changed must not add a history entry that Back would stop at.
    requests: list[str] = []
    page.on(
        "request",
        lambda r: (
            r.headers.get("hx-request")
            and not _summary_request(r.url)
            and requests.append(r.url)
        ),
    )
    search = page.get_by_label("Search", exact=True)
    with swap(page):
        search.press_sequentially("cedar")
    view_b = view_a.replace("&per_page=10", "&q=cedar&per_page=10")
    expect_path(page, view_b)
    expect_rows(page, ["INV-1007"])
    search.press("Tab")
    with swap(page):
        page.get_by_role("button", name="Apply").click()
    expect_path(page, view_b)
    assert len(requests) == 2, requests

    # Change 2: status back to all, and rows per page from the table's footer.
    with swap(page):
        page.get_by_label("Status", exact=True).select_option("ALL")
    view_c = view_b.replace("status=PAID&", "")
    expect_path(page, view_c)
    expect_rows(page, ["INV-1007", "INV-1003"])
    with swap(page):
        page.get_by_label("Rows per page").select_option("50")
    view_d = view_c.replace("per_page=10", "per_page=50")
    expect_path(page, view_d)
    expect_controls(
        page, **{**a_controls, "status": "ALL", "q": "cedar", "per_page": "50"}
    )
    no_reload.check()

    with history_restore(page):
        page.go_back()
    expect_path(page, view_c)
    expect_rows(page, ["INV-1007", "INV-1003"])
    expect_controls(page, **{**a_controls, "status": "ALL", "q": "cedar"})

    with history_restore(page):
        page.go_back()
    expect_path(page, view_b)
    expect_rows(page, ["INV-1007"])
    expect_controls(page, **a_controls, q="cedar")
    expect(page.locator("#result-count")).to_have_text("1 invoice matches the filters")

    with history_restore(page):
        page.go_back()
    expect_path(page, view_a)
    expect_rows(page, ["INV-1007", "INV-1005", "INV-1002"])
    expect_controls(page, **a_controls)

    with history_restore(page):
        page.go_forward()
    expect_path(page, view_b)
    expect_rows(page, ["INV-1007"])
    expect_controls(page, **a_controls, q="cedar")
    # Back and Forward swapped the page body from the server, never reloaded it.
    no_reload.check(restored=True)

    # The restored page is live: a change after Back swaps and pushes again.
    with swap(page):
        page.get_by_label("Status", exact=True).select_option("OVER_DUE")
    expect_rows(page, ["INV-1003"])
    expect_path(page, view_b.replace("status=PAID", "status=OVER_DUE"))
    no_reload.check()


def test_typing_a_search_leaves_one_history_entry(page, admin, invoices):
    sign_in(page, f"{LIST}?status=PAID")
    no_reload = NoReload(page)
    search = page.get_by_label("Search", exact=True)
    # A pause in typing shows the rows; the first one starts a new entry...
    with swap(page) as info:
        search.press_sequentially("ce")
    assert info.value.headers["hx-push-url"] == f"{LIST}?status=PAID&q=ce"
    expect_rows(page, ["INV-1007"])
    # ...and typing on (or correcting) only updates it, so Back is not a walk
    # through every prefix of the search.
    with swap(page) as info:
        search.press_sequentially("dar")
    assert "hx-push-url" not in info.value.headers
    assert info.value.headers["hx-replace-url"] == f"{LIST}?status=PAID&q=cedar"
    expect_path(page, f"{LIST}?status=PAID&q=cedar")
    with swap(page):
        search.press("Backspace")
    expect_path(page, f"{LIST}?status=PAID&q=ceda")
    no_reload.check()

    with history_restore(page):
        page.go_back()
    expect_path(page, f"{LIST}?status=PAID")
    expect_controls(page, status="PAID")
    expect_rows(page, ["INV-1007", "INV-1005", "INV-1002"])
    with history_restore(page):
        page.go_forward()
    expect_path(page, f"{LIST}?status=PAID&q=ceda")
    expect_controls(page, status="PAID", q="ceda")


def test_a_slow_answer_never_undoes_a_newer_choice(page, admin, invoices, monkeypatch):
    counted = rendering.summary

    def slow_for_paid(filters, day):
        if filters.status == "PAID":
            time.sleep(1)
        return counted(filters, day)

    # The live server runs in this process: its answer for PAID takes a second.
    monkeypatch.setattr(rendering, "summary", slow_for_paid)
    sign_in(page)
    no_reload = NoReload(page)
    status = page.get_by_label("Status", exact=True)
    status.select_option("PAID")
    # Picked before PAID's answer came: the request for PAID is given up.
    with swap(page) as info:
        status.select_option("OVER_DUE")
    assert "status=OVER_DUE" in info.value.url
    page.wait_for_timeout(1_500)  # PAID's answer, had it been awaited, is in
    expect_controls(page, status="OVER_DUE")
    expect_rows(page, ["INV-1003"])
    expect(page.locator("#result-count")).to_have_text("1 invoice matches the filters")
    expect_path(page, f"{LIST}?status=OVER_DUE")
    no_reload.check()


def test_the_form_without_javascript_gives_the_same_rows(
    page, nojs_page, admin, invoices
):
    def fill(p: Page) -> None:
        p.get_by_label("Status", exact=True).select_option("PAID")
        p.get_by_label("Date to filter on").select_option("due")
        p.get_by_label("From", exact=True).fill("2024-03-01")
        p.get_by_label("To", exact=True).fill("2024-07-31")
        p.get_by_label("Search", exact=True).fill("o")

    expected = ["INV-1007", "INV-1005", "INV-1002"]
    sign_in(page)
    no_reload = NoReload(page)
    fill(page)
    expect_rows(page, expected)
    expect_path(
        page,
        f"{LIST}?status=PAID&date_field=due&date_from=2024-03-01&date_to=2024-07-31&q=o",
    )
    with swap(page):
        page.get_by_role("button", name="Apply").click()
    no_reload.check()
    # A search's counts and totals come in a second request, after the rows.
    expect(page.locator("#invoice-totals")).not_to_have_attribute("aria-busy", "true")
    with_js = {
        "count": page.locator("#result-count").inner_text(),
        "rows": page.locator("#invoice-results tbody").inner_text(),
        "totals": page.locator(".totals").inner_text(),
    }

    sign_in(nojs_page)
    expect_rows(nojs_page, ALL_NUMBERS)
    fill(nojs_page)
    with nojs_page.expect_navigation():
        nojs_page.get_by_role("button", name="Apply").click()
    # A plain GET of the form: every field, empty or not, in the query string.
    expect_path(
        nojs_page,
        f"{LIST}?status=PAID&date_field=due&date_from=2024-03-01&date_to=2024-07-31"
        "&q=o&sort=-period&per_page=25",
    )
    expect_rows(nojs_page, expected)
    expect_controls(
        nojs_page,
        status="PAID",
        date_field="due",
        date_from="2024-03-01",
        date_to="2024-07-31",
        q="o",
    )
    assert {
        "count": nojs_page.locator("#result-count").inner_text(),
        "rows": nojs_page.locator("#invoice-results tbody").inner_text(),
        "totals": nojs_page.locator(".totals").inner_text(),
    } == with_js
    assert with_js["count"] == "3 invoices match the filters"
    assert with_js["totals"].split() == [
        "EUR",
        "€250.00",
        "(1)",
        "USD",
        "$430.00",
        "(2)",
    ]

    # Sort headers and Clear filters are plain links without JavaScript.
    with nojs_page.expect_navigation():
        nojs_page.get_by_role("link", name="Invoice No", exact=True).click()
    expect_rows(nojs_page, ["INV-1002", "INV-1005", "INV-1007"])
    with nojs_page.expect_navigation():
        nojs_page.get_by_role("link", name="Clear filters").first.click()
    expect_path(nojs_page, LIST)
    expect_rows(nojs_page, ALL_NUMBERS)
    expect_controls(nojs_page)


def test_date_presets_and_clear_filters(page, admin, invoices, make_invoice):
    this_month = date.today().replace(day=1)
    make_invoice(
        number="INV-2001",
        client_name="Echo Media",
        billing_period=this_month,
        status="PAID",
        due_date=date(2099, 12, 31),
        payable=Decimal("10.00"),
    )
    sign_in(page)
    expect_rows(page, ["INV-2001", *ALL_NUMBERS])
    no_reload = NoReload(page)
    with swap(page):
        page.get_by_label("Status", exact=True).select_option("PAID")
    expect_rows(page, ["INV-2001", "INV-1007", "INV-1005", "INV-1002"])

    preset = page.get_by_role("link", name="This month")
    start, end = (
        preset.get_attribute("data-preset-from"),
        preset.get_attribute("data-preset-to"),
    )
    assert start == this_month.isoformat()
    with swap(page):
        preset.click()
    # The preset fills the form's own inputs, so the controls show the filter.
    expect_controls(page, status="PAID", date_from=start, date_to=end)
    expect_path(page, f"{LIST}?status=PAID&date_from={start}&date_to={end}")
    expect_rows(page, ["INV-2001"])
    no_reload.check()

    with swap(page):
        page.get_by_label("Search", exact=True).fill("nothing like this")
    expect_rows(page, [])
    expect(page.locator("#result-count")).to_have_text("0 invoices match the filters")
    expect(page.locator("#invoice-results tbody")).to_have_text(
        "No invoices match these filters. Clear filters"
    )
    # The empty table offers its own "Clear filters"; it resets every control.
    with swap(page):
        page.locator("#invoice-results").get_by_role(
            "link", name="Clear filters"
        ).click()
    expect_path(page, LIST)
    expect_controls(page)
    expect_rows(page, ["INV-2001", *ALL_NUMBERS])
    expect(page.locator("#result-count")).to_have_text("8 invoices")
    no_reload.check()


def test_sorting_and_paging_by_keyboard(page, admin, invoices):
    sign_in(page, f"{LIST}?per_page=3")
    expect_rows(page, ["INV-1007", "INV-1006", "INV-1005"])
    no_reload = NoReload(page)

    page.get_by_role("link", name="Invoice No", exact=True).focus()
    with swap(page):
        page.keyboard.press("Enter")
    expect_path(page, f"{LIST}?sort=number&per_page=3")
    expect_rows(page, ["INV-1001", "INV-1002", "INV-1003"])
    # The header that was used keeps the focus after the table is replaced.
    sorted_up = page.get_by_role("link", name="Invoice No, sorted ascending")
    expect(sorted_up).to_be_focused()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    with swap(page):
        page.keyboard.press("Enter")
    expect_path(page, f"{LIST}?sort=-number&per_page=3")
    expect_rows(page, ["INV-1007", "INV-1006", "INV-1005"])
    expect(
        page.get_by_role("link", name="Invoice No, sorted descending")
    ).to_be_focused()
    no_reload.check()

    next_page = page.get_by_role("link", name="Next")
    next_page.focus()
    with swap(page):
        page.keyboard.press("Enter")
    expect_path(page, f"{LIST}?sort=-number&page=2&per_page=3")
    expect_rows(page, ["INV-1004", "INV-1003", "INV-1002"])
    expect(page.locator(".pager")).to_contain_text("Page 2 of 3")
    expect(next_page).to_be_focused()
    with swap(page):
        page.keyboard.press("Enter")
    expect_path(page, f"{LIST}?sort=-number&page=3&per_page=3")
    expect_rows(page, ["INV-1001"])
    # Next is gone on the last page; focus moves to Previous, not to the top.
    expect(page.get_by_role("link", name="Previous")).to_be_focused()

    # Rows per page is in the table but submits with the filter form.
    page.get_by_label("Rows per page").focus()
    with swap(page):
        page.get_by_label("Rows per page").select_option("10")
    expect_path(page, f"{LIST}?sort=-number&per_page=10")
    expect_rows(page, ALL_NUMBERS)
    expect(page.get_by_label("Rows per page")).to_be_focused()

    # A status picked with the keyboard, a search submitted with Enter.
    page.get_by_label("Status", exact=True).focus()
    with swap(page):
        page.keyboard.type("P")
    expect_controls(page, status="PAID", per_page="10")
    expect_rows(page, ["INV-1007", "INV-1005", "INV-1002"])
    # The select came back with new counts; the keyboard is still on it.
    expect(page.get_by_label("Status", exact=True)).to_be_focused()
    with swap(page):
        page.keyboard.press("ArrowUp")
    expect_controls(page, status="OVER_DUE", per_page="10")
    expect(page.get_by_label("Status", exact=True)).to_be_focused()
    with swap(page):
        page.keyboard.press("ArrowDown")
    expect_controls(page, status="PAID", per_page="10")
    search = page.get_by_label("Search", exact=True)
    search.focus()
    search.fill("delta")
    with swap(page):
        page.keyboard.press("Enter")
    expect_rows(page, ["INV-1005"])
    expect_path(page, f"{LIST}?status=PAID&q=delta&sort=-number&per_page=10")
    no_reload.check()

    # The invoice itself is an ordinary link to its own page.
    page.get_by_role("link", name="INV-1005", exact=True).focus()
    page.keyboard.press("Enter")
    expect_path(page, f"{LIST}/INV-1005")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Invoice INV-1005\b")
    )


def test_bad_dates_show_a_message_and_keep_the_table(page, admin, invoices):
    sign_in(page)
    no_reload = NoReload(page)
    date_to = page.get_by_label("To", exact=True)
    with swap(page):
        page.get_by_label("From", exact=True).fill("2024-06-30")
    expect_path(page, f"{LIST}?date_from=2024-06-30")
    expect_rows(page, ["INV-1007", "INV-1006"])
    no_reload.check()

    with swap(page, status=400) as info:
        date_to.fill("2024-03-01")
    assert info.value.headers["hx-reswap"] == "none"
    assert "hx-push-url" not in info.value.headers
    message = "'To' must not be before 'From'."
    expect(page.locator("#date-error-slot")).to_have_text(message)
    expect(date_to).to_have_attribute("aria-invalid", "true")
    expect(date_to).to_have_accessible_description(message)
    # The last good table stays with its count and status counts; the URL
    # stays on the last good view.
    expect(page.locator("#result-count")).to_have_text("2 invoices match the filters")
    expect(page.locator("#status option[value=ALL]")).to_have_text(
        re.compile(r"^All Status \(\d+\)$")
    )
    expect_rows(page, ["INV-1007", "INV-1006"])
    expect_path(page, f"{LIST}?date_from=2024-06-30")
    expect_controls(page, date_from="2024-06-30", date_to="2024-03-01")
    no_reload.check(results_swapped=False)

    with swap(page):
        date_to.fill("2024-12-31")
    expect(page.locator("#date-error-slot")).to_have_text("")
    expect(date_to).not_to_have_attribute("aria-invalid", "true")
    expect(date_to).to_have_accessible_description("")
    expect_path(page, f"{LIST}?date_from=2024-06-30&date_to=2024-12-31")
    expect_rows(page, ["INV-1007", "INV-1006"])
    expect(page.locator("#result-count")).to_have_text("2 invoices match the filters")
    no_reload.check()
