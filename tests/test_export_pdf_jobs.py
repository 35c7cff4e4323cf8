"""The list PDF in the background (issue 13): made in parts of PDF_PART_PAGES
pages, with the layout, page numbers and totals of the synchronous PDF; queued by
the PDF button past PDF_MAX_ROWS and by the API; cancelled mid-way; through a
real worker process queued -> running -> done."""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader

from invoice_app.demo.load import seed_demo
from invoice_app.export_jobs import running, writers
from invoice_app.extensions import db
from invoice_app.models import ExportJob, Invoice
from tests.conftest import csrf_token
from tests.export_job_helpers import download, job, make_user, sign_in
from tests.jobs_worker import WorkerProcess, queue_settings

ROWS = 300
# Two pages a part: 300 rows make a first part of 56 rows and four more.
PART_PAGES = 2
NOW = "2025-07-15 09:30:00+00:00"


def page_texts(body: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(body), strict=True)
    return [page.extract_text() for page in reader.pages]


@pytest.fixture
def app(app_factory, tmp_path):
    app = app_factory(
        JOBS_IMMEDIATE=True,
        PDF_PART_PAGES=PART_PAGES,
        PDF_MAX_ROWS=1000,
        **queue_settings(tmp_path),
    )
    with app.app_context():
        yield app


@pytest.fixture
def staff(app):
    return make_user("staff@example.test", "staff")


@pytest.fixture
def many(app):
    seed_demo(ROWS, date(2025, 7, 15))
    return sorted(db.session.scalars(db.select(Invoice.number)))


def press(client, path: str, form: dict) -> str:
    """POST form with the list page's CSRF token; the queued export's id."""
    page = client.get("/billing/invoices").get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_token(page), **form})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("#export-", 1)[1]


def test_a_background_pdf_in_parts_reads_as_the_synchronous_one(
    app, client, staff, many
):
    filters = {"sort": "number"}
    # Both files in one minute: the footer says when a file was generated.
    with time_machine.travel(NOW):
        sign_in(client, staff)
        # At once: one document, as xhtml2pdf lays it out whole.
        synchronous = client.get("/billing/invoices/export.pdf", query_string=filters)
        assert synchronous.status_code == 200
        job_id = press(client, "/billing/exports", {**filters, "format": "pdf"})
        fetched = download(client, job_id)
        page = client.get("/billing/exports").get_data(as_text=True)
    done = job(job_id)
    assert (done.status, done.rows_done, done.rows_total) == ("done", ROWS, ROWS)
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"].endswith("invoices-2025-07-15.pdf")
    texts = page_texts(fetched.data)

    # Page for page the same text: heading, rows, totals, "Page X of Y".
    assert texts == page_texts(synchronous.data)
    # 56 rows in the first part (2 pages), 64 in each of the others.
    assert len(texts) == 2 + 8
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {len(texts)}" in text
    whole = "\n".join(texts)
    assert all(number in whole for number in many)
    assert f"Invoices\n{ROWS}" in texts[0] and "Totals per currency" in texts[-1]
    assert "Totals per currency" not in "".join(texts[:-1])
    assert texts[0].count("Invoice No") == 1 and "Invoice No" in texts[-1]
    # Nothing but the file is left in the export folder (no parts).
    assert [p.name for p in Path(app.config["EXPORT_DIR"]).iterdir()] == [
        done.file_path
    ]
    assert f"Done, {ROWS} rows" in page and "<td>PDF</td>" in page


def test_a_list_past_the_pdf_limit_queues_from_the_pdf_button(
    app_factory, tmp_path, staff, many
):
    app = app_factory(
        JOBS_IMMEDIATE=True,
        PDF_PART_PAGES=PART_PAGES,
        PDF_MAX_ROWS=50,
        **queue_settings(tmp_path),
    )
    client = app.test_client()
    sign_in(client, staff)
    page = client.get("/billing/invoices?status=PAID&per_page=10").get_data(
        as_text=True
    )
    head = page.split('id="export-links"')[1].split("</div>")[0]
    assert "export.pdf" not in head
    (form,) = [f for f in head.split("<form")[1:] if ">PDF</button>" in f]
    assert "239 invoices: the PDF is made in the background" in form
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert (fields["format"], fields["status"]) == ("pdf", "PAID")
    assert "per_page" not in fields or fields["per_page"] != "10"

    paid = db.session.scalars(
        db.select(Invoice.number).where(Invoice.status == "PAID")
    ).all()
    assert len(paid) > 50
    response = client.post("/billing/exports", data=fields)
    assert response.status_code == 303
    assert "/billing/exports#export-" in response.headers["Location"]
    job_id = response.headers["Location"].rsplit("#export-", 1)[1]
    # The Downloads page shows it; its row polls while it is unfinished.
    downloads = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'id="export-{job_id}"' in downloads
    done = job(job_id)
    assert (done.format, done.status, done.rows_done) == ("pdf", "done", len(paid))
    whole = "\n".join(page_texts(download(client, job_id).data))
    assert all(number in whole for number in paid)
    assert "Status\nPAID" in whole
    # Downloading at once still stops at the limit, and says where to go.
    refused = client.get("/billing/invoices/export.pdf?status=PAID")
    assert refused.status_code == 422
    assert "in the background" in refused.get_data(as_text=True)


def test_the_api_queues_a_pdf(app, client, staff, many):
    from invoice_app.models import User

    token = "t-" + "p" * 40
    staff.api_token_hash = User.hash_token(token)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/api/exports", json={"format": "pdf", "status": "DRAFT"}, headers=bearer
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    body = client.get(response.headers["Location"], headers=bearer).json
    drafts = db.session.scalar(
        db.select(db.func.count()).where(Invoice.status == "DRAFT")
    )
    assert (body["status"], body["rows_done"], body["rows_total"]) == (
        "done",
        drafts,
        drafts,
    )
    sign_in(client, staff)  # the file is fetched by the owner, signed in
    fetched = download(client, body["id"])
    assert body["download_url"] == f"/billing/exports/{body['id']}/file"
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert page_texts(fetched.data)[0].startswith("Invoices")


def test_cancel_mid_pdf_stops_it_and_removes_its_parts(
    app, client, staff, many, monkeypatch
):
    pdf = writers.WRITERS["pdf"]
    monkeypatch.setitem(writers.WRITERS, "pdf", replace(pdf, progress_every=10))
    monkeypatch.setattr(running, "PROGRESS_SECONDS", 0)
    real_progress = running._progress
    seen = []

    def cancel_at_200(job_id, **values):
        folder = Path(app.config["EXPORT_DIR"])
        seen.append(sorted(p.name for p in folder.glob(".*.parts/*")))
        if values.get("rows_done") == 200:
            # The user presses Cancel while the worker is on row 200, when
            # parts have been written.
            db.session.execute(
                db.update(ExportJob)
                .where(ExportJob.id == job_id)
                .values(status="cancelled")
            )
            db.session.commit()
        real_progress(job_id, **values)

    monkeypatch.setattr(running, "_progress", cancel_at_200)
    sign_in(client, staff)
    job_id = press(client, "/billing/exports", {"format": "pdf"})
    stopped = job(job_id)
    assert (stopped.status, stopped.file_path) == ("cancelled", None)
    assert seen[-1], "no part was written before the cancel"
    assert list(Path(app.config["EXPORT_DIR"]).iterdir()) == []
    assert download(client, job_id).status_code == 404


def test_a_background_pdf_goes_queued_running_done_in_a_worker(
    app_factory, database_url, tmp_path
):
    settings = queue_settings(tmp_path)
    app = app_factory(PDF_PART_PAGES=PART_PAGES, **settings)
    client = app.test_client()
    with app.app_context():
        seed_demo(ROWS, date(2025, 7, 15))
        sign_in(client, make_user("staff@example.test", "staff"))
        job_id = press(client, "/billing/exports", {"format": "pdf"})
        assert client.get(f"/api/exports/{job_id}").json["status"] == "queued"
        seen = []
        with WorkerProcess(database_url, settings) as worker:
            for _ in range(3000):
                body = client.get(f"/api/exports/{job_id}").json
                seen.append(body)
                if body["status"] in ("done", "failed"):
                    break
                time.sleep(0.02)
        assert seen[-1]["status"] == "done", worker.output()[-3000:]
        statuses = [s["status"] for s in seen]
        assert "running" in statuses, statuses
        running_rows = [s["rows_done"] for s in seen if s["status"] == "running"]
        assert running_rows == sorted(running_rows)
        # Counted once it runs (None until then), never changed afterwards.
        totals = {s["rows_total"] for s in seen if s["status"] == "running"}
        assert ROWS in totals and totals <= {None, ROWS}, totals
        texts = page_texts(download(client, job_id).data)
        assert all(f"Page {n} of {len(texts)}" in t for n, t in enumerate(texts, 1))
        assert "Totals per currency" in texts[-1]


def test_a_background_pdf_has_the_columns_chosen_when_it_was_queued(
    app, client, staff, many
):
    filters = {"sort": "number"}
    with time_machine.travel(NOW):
        sign_in(client, staff)
        page = client.get("/billing/invoices").get_data(as_text=True)
        chosen = client.post(
            "/billing/columns",
            data={"csrf_token": csrf_token(page), "show": ["currency", "issue_date"]},
        )
        assert chosen.status_code == 303
        synchronous = client.get("/billing/invoices/export.pdf", query_string=filters)
        job_id = press(client, "/billing/exports", {**filters, "format": "pdf"})
        fetched = download(client, job_id)
    texts = page_texts(fetched.data)
    assert texts == page_texts(synchronous.data)
    assert "Currency" in texts[0] and "Issue date" in texts[0]
    assert "Currency" in texts[-1]  # every part's pages carry the header
