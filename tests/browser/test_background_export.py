"""A large export in a real browser: the XLSX button queues it, the Downloads
page shows its progress as a real worker process writes it, and its Download
link appears without a reload. The same for the PDF button past PDF_MAX_ROWS.

EXPORT_SYNC_MAX_ROWS is lowered to 1,000, so 60,000 demo invoices make a list
that goes to the background (about two seconds of writing: several polls).
"""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from playwright.sync_api import expect

from invoice_app.demo.load import seed_demo
from tests.jobs_worker import WorkerProcess, queue_settings

from .conftest import sign_in
from .test_lifecycle_flow import in_place

pytestmark = pytest.mark.browser

ROWS = 60_000

# Records each state the export's row is shown in, as htmx swaps it.
RECORD_STATES = """() => {
  window.__states = [];
  const note = () => {
    const row = document.querySelector("tr.export-job");
    const bar = row && row.querySelector("progress");
    const badge = document.querySelector("#downloads-link .badge");
    window.__states.push({
      status: row && row.dataset.status,
      value: bar ? Number(bar.value) : null,
      max: bar ? Number(bar.max) : null,
      badge: badge ? badge.textContent.trim() : null,
    });
  };
  note();
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}"""


@pytest.fixture
def settings(tmp_path):
    return queue_settings(tmp_path)


@pytest.fixture
def app(app_factory, settings):
    # Past 100 rows the PDF button queues too; its parts are 2 pages each.
    app = app_factory(
        EXPORT_SYNC_MAX_ROWS=1000, PDF_MAX_ROWS=100, PDF_PART_PAGES=2, **settings
    )
    with app.app_context():
        yield app


def test_a_large_export_shows_progress_and_lands_on_downloads(
    page, app, admin, database_url, settings
):
    seed_demo(ROWS, date(2025, 7, 15))
    sign_in(page)
    export_button = page.locator("#export-links").get_by_role("button", name="XLSX")
    expect(export_button).to_have_attribute("title", re.compile("60,000 invoices"))
    export_button.click()

    expect(page).to_have_url(re.compile(r"/billing/exports#export-[\w-]+$"))
    row = page.locator("tr.export-job")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Queued")
    expect(page.locator("#downloads-link .badge")).to_have_text("1")
    page.wait_for_load_state("load")

    with in_place(page), WorkerProcess(database_url, settings) as worker:
        page.evaluate(RECORD_STATES)
        expect(row.get_by_role("link", name="Download")).to_be_visible(timeout=90_000)
        states = page.evaluate("() => window.__states")
        assert "Done, 60,000 rows" in row.inner_text(), worker.output()[-2000:]
    running = [s for s in states if s["status"] == "running"]
    assert any(0 < s["value"] < s["max"] == ROWS for s in running), states
    assert {s["badge"] for s in running} == {"1"}
    # Done: the badge is gone and the row has stopped polling.
    expect(page.locator("#downloads-link .badge")).to_have_count(0)
    assert row.get_attribute("hx-trigger") is None

    with page.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    download = info.value
    assert re.fullmatch(
        r"invoices-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename
    )
    with open(download.path(), "rb") as file:
        book = openpyxl.load_workbook(io.BytesIO(file.read()), read_only=True)
    sheet = book["Invoices"]
    assert sum(1 for _ in sheet.iter_rows(max_col=1, values_only=True)) == ROWS + 1
    book.close()


# Enough rows for the worker to run a few seconds (several progress polls) now
# that a part of 2 pages takes a few hundredths of a second.
PDF_ROWS = 6_000


def test_a_long_pdf_shows_progress_and_lands_on_downloads(
    page, app, admin, database_url, settings
):
    from pypdf import PdfReader

    seed_demo(PDF_ROWS, date(2025, 7, 15))
    sign_in(page)
    pdf_button = page.locator("#export-links").get_by_role(
        "button", name="PDF", exact=True
    )
    expect(pdf_button).to_have_attribute("title", re.compile(f"{PDF_ROWS:,} invoices"))
    pdf_button.click()

    expect(page).to_have_url(re.compile(r"/billing/exports#export-[\w-]+$"))
    row = page.locator("tr.export-job")
    expect(row).to_contain_text("Queued")
    expect(row).to_contain_text("PDF")
    page.wait_for_load_state("load")
    with in_place(page), WorkerProcess(database_url, settings) as worker:
        page.evaluate(RECORD_STATES)
        expect(row.get_by_role("link", name="Download")).to_be_visible(timeout=90_000)
        states = page.evaluate("() => window.__states")
        assert f"Done, {PDF_ROWS:,} rows" in row.inner_text(), worker.output()[-2000:]
    assert any(s["status"] == "running" for s in states), states

    with page.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    download = info.value
    assert re.fullmatch(r"invoices-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    pages = PdfReader(download.path()).pages
    texts = [p.extract_text() for p in pages]
    assert all(f"Page {n} of {len(texts)}" in t for n, t in enumerate(texts, 1))
    assert f"Invoices\n{PDF_ROWS:,}" in texts[0] and "Totals per currency" in texts[-1]
