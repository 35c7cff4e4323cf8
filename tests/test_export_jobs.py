"""Background exports over HTTP, with the queue in immediate mode (the task runs
inside the request that queues it): content, permissions, cancel, failures,
expiry, the API and the XLSX button. tests/test_export_worker.py runs the same
life cycle through a real worker process."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from invoice_app import tenancy
from invoice_app.export_jobs import running, writers
from invoice_app.export_jobs.queueing import MAX_UNFINISHED
from invoice_app.export_jobs.sweeping import WORKER_DIED, sweep_exports
from invoice_app.extensions import db
from invoice_app.models import ExportJob, Tenant
from tests.conftest import csrf_token
from tests.export_job_helpers import cells, download, job, make_user, queue, sign_in
from tests.jobs_worker import queue_settings


@pytest.fixture
def app(app_factory, tmp_path):
    app = app_factory(JOBS_IMMEDIATE=True, **queue_settings(tmp_path))
    with app.app_context():
        yield app


@pytest.fixture
def staff(app):
    return make_user("staff@example.test", "staff")


@pytest.fixture
def invoices(make_invoice):
    for i in range(12):
        make_invoice(
            number=f"INV-B{i:02d}",
            client_name="=HYPERLINK(1)" if i == 3 else f"Client {i % 3}",
            status=("DUE", "PAID", "DRAFT")[i % 3],
            issue_date=None if i % 3 == 2 else date(2025, 6, 1),
            paid_date=date(2025, 6, 20) if i % 3 == 1 else None,
            payable=Decimal(f"{i}.{i:02d}"),
            due_date=date(2030, 1, 1),  # DUE stays DUE whatever today is
        )


def test_a_background_export_has_the_cells_of_the_streamed_one(client, staff, invoices):
    sign_in(client, staff)
    filters = {"status": "DUE", "sort": "number", "q": "INV-B"}
    streamed = client.get("/billing/invoices/export.xlsx", query_string=filters)
    assert streamed.status_code == 200
    streamed_body = streamed.data

    job_id = queue(client, **filters)
    page = client.get("/billing/exports").get_data(as_text=True)
    assert f'id="export-{job_id}"' in page
    assert "Done, 4 rows" in page
    assert "Status: DUE · Search: INV-B · Sorted by: Invoice number, ascending" in page
    # Done: nothing polls any more.
    assert "every 1s" not in page

    fetched = download(client, job_id)
    assert fetched.status_code == 200
    assert fetched.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in fetched.headers["Content-Disposition"]
    assert cells(fetched.data) == cells(streamed_body)
    assert len(cells(fetched.data)["Invoices"]) == 1 + 4
    done = job(job_id)
    assert (done.status, done.rows_done, done.rows_total) == ("done", 4, 4)
    assert done.size_bytes == len(fetched.data)
    # The columns are resolved when queued (none chosen: none), for the worker.
    assert done.filters == {
        "status": "DUE",
        "q": "INV-B",
        "sort": "number",
        "columns": "none",
    }


def test_the_queued_filters_go_through_the_one_parser(client, staff):
    sign_in(client, staff)
    page = client.get("/billing/invoices").get_data(as_text=True)
    response = client.post(
        "/billing/exports",
        data={"csrf_token": csrf_token(page), "date_from": "2025-13"},
    )
    assert response.status_code == 400
    assert "not a valid date" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ExportJob.id))) == 0
    response = client.post("/billing/exports", data={"status": "DUE"})
    assert response.status_code == 400  # no CSRF token
    assert db.session.scalar(db.select(db.func.count(ExportJob.id))) == 0


def test_the_worker_never_widens_the_scope_it_was_given(client, make_invoice):
    make_invoice(number="INV-MINE", client_name="Mine", client_email="me@a.example")
    make_invoice(number="INV-NOT", client_name="Other", client_email="no@a.example")
    other = Tenant(slug="other", name="Other")
    db.session.add(other)
    db.session.commit()
    limited = make_user("limited@example.test", "staff")
    limited.allowed_clients = ["me@a.example"]
    db.session.commit()
    sign_in(client, limited)
    job_id = queue(client)
    body = download(client, job_id).data
    assert [row[0][0] for row in cells(body)["Invoices"][1:]] == ["INV-MINE"]
    stored = job(job_id)
    assert stored.client_ids is not None and len(stored.client_ids) == 1


def test_another_users_or_tenants_export_is_not_there(app, client, staff, invoices):
    sign_in(client, staff)
    job_id = queue(client)
    urls = [
        f"/billing/exports/{job_id}/file",
        f"/api/exports/{job_id}",
    ]
    colleague = make_user("colleague@example.test", "staff")
    stranger_tenant = Tenant(slug="stranger", name="Stranger")
    db.session.add(stranger_tenant)
    db.session.commit()
    stranger = make_user("admin@stranger.example", "admin", tenant=stranger_tenant)
    for user in (colleague, stranger):
        other = app.test_client()
        sign_in(other, user)
        for url in urls:
            response = other.get(url)
            response.close()
            assert response.status_code == 404, (user.email, url)
        fragment = other.get(f"/billing/exports/{job_id}", headers={"HX-Request": "1"})
        assert fragment.status_code == 404
        page = other.get("/billing/exports").get_data(as_text=True)
        assert job_id not in page
        token = csrf_token(page)
        cancel = other.post(
            f"/billing/exports/{job_id}/cancel", data={"csrf_token": token}
        )
        assert cancel.status_code == 404
    # The tenant's billing admin sees the team's exports, and may download.
    admin = app.test_client()
    sign_in(admin, make_user("admin@example.test", "admin"))
    page = admin.get("/billing/exports").get_data(as_text=True)
    assert job_id in page and "staff@example.test" in page
    assert download(admin, job_id).status_code == 200
    assert job(job_id).status == "done"


def test_cancel_stops_a_queued_export_for_good(app_factory, tmp_path, staff, invoices):
    # No worker here: the export stays queued until it is cancelled.
    app = app_factory(**queue_settings(tmp_path))
    client = app.test_client()
    with app.app_context():
        sign_in(client, staff)
        job_id = queue(client)
        row = client.get(f"/billing/exports/{job_id}", headers={"HX-Request": "1"})
        html = row.get_data(as_text=True)
        assert "Queued" in html and 'hx-trigger="every 1s"' in html
        assert 'id="downloads-link"' in html and 'aria-label="1 running"' in html

        page = client.get("/billing/exports").get_data(as_text=True)
        cancelled = client.post(
            f"/billing/exports/{job_id}/cancel",
            data={"csrf_token": csrf_token(page)},
            headers={"HX-Request": "1"},
        )
        html = cancelled.get_data(as_text=True)
        assert cancelled.status_code == 200 and "Cancelled" in html
        assert "every 1s" not in html and "running" not in html.lower()
        # The task, when a worker gets to it, finds nothing to do.
        running.run_export(job_id)
        assert job(job_id).status == "cancelled"
        assert download(client, job_id).status_code == 404
        assert list(Path(app.config["EXPORT_DIR"]).glob("*")) == []


def test_cancel_while_running_removes_the_unfinished_file(
    app, client, staff, make_invoice, monkeypatch
):
    for i in range(25):
        make_invoice(number=f"INV-C{i:02d}")
    xlsx = writers.WRITERS["xlsx"]
    monkeypatch.setitem(writers.WRITERS, "xlsx", replace(xlsx, progress_every=10))
    monkeypatch.setattr(running, "PROGRESS_SECONDS", 0)
    real_progress = running._progress

    def cancel_after_ten(job_id, **values):
        if values.get("rows_done") == 10:
            # The user presses Cancel while the worker is on row 10.
            db.session.execute(
                db.update(ExportJob)
                .where(ExportJob.id == job_id)
                .values(status="cancelled")
            )
            db.session.commit()
        real_progress(job_id, **values)

    monkeypatch.setattr(running, "_progress", cancel_after_ten)
    sign_in(client, staff)
    job_id = queue(client)
    stopped = job(job_id)
    assert (stopped.status, stopped.rows_done, stopped.file_path) == (
        "cancelled",
        0,
        None,
    )
    assert list(Path(app.config["EXPORT_DIR"]).iterdir()) == []


def mounted_tmpfs(mount: Path, options: str) -> None:
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs root: {done.stderr.decode()}")


@pytest.fixture
def small_disk(tmp_path):
    """A 64 kB file system (tmpfs), full after a few hundred rows."""
    mounted_tmpfs(tmp_path / "small", "size=64k")
    yield tmp_path / "small"
    subprocess.run(["umount", str(tmp_path / "small")], check=True)


@pytest.fixture
def read_only_disk(tmp_path):
    """A file system mounted read-only: even root cannot write there."""
    mounted_tmpfs(tmp_path / "ro", "ro,size=64k")
    yield tmp_path / "ro"
    subprocess.run(["umount", str(tmp_path / "ro")], check=True)


def test_a_full_disk_fails_the_export_with_the_reason(
    app_factory, tmp_path, small_disk, staff
):
    from invoice_app.demo.load import seed_demo

    settings = {**queue_settings(tmp_path), "EXPORT_DIR": str(small_disk)}
    app = app_factory(JOBS_IMMEDIATE=True, **settings)
    client = app.test_client()
    with app.app_context():
        seed_demo(6000, date(2025, 7, 15))
        sign_in(client, staff)
        job_id = queue(client)
        failed = job(job_id)
        assert failed.status == "failed"
        assert failed.error == running.FULL
        page = client.get("/billing/exports").get_data(as_text=True)
        assert "Failed: The disk of the export folder is full" in page
        assert client.get(f"/api/exports/{job_id}").json["error"] == running.FULL
        # No half file left behind, and none to download.
        assert list(small_disk.iterdir()) == []
        assert download(client, job_id).status_code == 404


def test_a_read_only_export_folder_fails_the_export_with_the_reason(
    app_factory, tmp_path, read_only_disk, staff, invoices
):
    settings = {**queue_settings(tmp_path), "EXPORT_DIR": str(read_only_disk)}
    app = app_factory(JOBS_IMMEDIATE=True, **settings)
    client = app.test_client()
    with app.app_context():
        sign_in(client, staff)
        failed = job(queue(client))
        assert (failed.status, failed.error) == ("failed", running.READ_ONLY)
        page = client.get("/billing/exports").get_data(as_text=True)
        assert "Failed: The export folder cannot be written to" in page


def test_an_export_folder_that_is_not_a_folder_fails_with_the_reason(
    app_factory, tmp_path, staff, invoices
):
    blocked = tmp_path / "exports-file"
    blocked.write_text("a file where the folder should be")
    settings = {**queue_settings(tmp_path), "EXPORT_DIR": str(blocked / "exports")}
    app = app_factory(JOBS_IMMEDIATE=True, **settings)
    client = app.test_client()
    with app.app_context():
        sign_in(client, staff)
        failed = job(queue(client))
        assert (failed.status, failed.error) == ("failed", running.READ_ONLY)


def test_an_unexpected_error_fails_the_export_and_is_logged(
    app, client, staff, invoices, monkeypatch, caplog
):
    def broken(rows, context):
        yield b"PK"
        raise RuntimeError("the writer broke")

    monkeypatch.setattr(writers, "stream_invoices_xlsx", broken)
    sign_in(client, staff)
    failed = job(queue(client))
    assert (failed.status, failed.error) == ("failed", running.UNEXPECTED)
    assert "the writer broke" in caplog.text
    assert list(Path(app.config["EXPORT_DIR"]).iterdir()) == []


def test_files_are_removed_after_the_retention_time(app, client, staff, invoices):
    sign_in(client, staff)
    job_id = queue(client)
    done = job(job_id)
    path = Path(app.config["EXPORT_DIR"]) / done.file_path
    assert path.is_file()
    expires = done.expires_at.replace(tzinfo=UTC)
    assert expires - datetime.now(UTC) > timedelta(hours=23, minutes=59)

    with time_machine.travel(expires - timedelta(minutes=1)):
        sweep_exports()
    assert path.is_file()
    with time_machine.travel(expires + timedelta(minutes=1)):
        sweep_exports()
        assert not path.exists() and job(job_id).file_path is None
        response = download(client, job_id)
        assert response.status_code == 410
        assert "expired" in response.get_data(as_text=True)
        page = client.get("/billing/exports").get_data(as_text=True)
        assert "Expired" in page and "Download</a>" not in page
        assert client.get(f"/api/exports/{job_id}").json["download_url"] is None


def left_by_a_dead_worker(job_id: str, attempts: int, **values) -> None:
    """The job as a worker killed mid-export leaves it: running, its heartbeat
    long stale, after `attempts` tries."""
    db.session.execute(
        db.update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(
            status="running",
            attempts=attempts,
            heartbeat_at=datetime.now(UTC) - timedelta(minutes=5),
            **values,
        )
    )
    db.session.commit()


def test_an_export_whose_worker_died_twice_is_failed_not_running(
    app, client, staff, invoices
):
    sign_in(client, staff)
    job_id = queue(client)
    left_by_a_dead_worker(job_id, attempts=2)  # killed on its second try
    sweep_exports()
    failed = job(job_id)
    assert (failed.status, failed.error) == ("failed", WORKER_DIED)
    assert "Failed: The worker writing this export stopped" in client.get(
        "/billing/exports"
    ).get_data(as_text=True)


@pytest.mark.parametrize(("attempts", "ends"), [(1, "done"), (2, "failed")])
def test_a_dead_workers_pdf_leaves_no_part_and_no_parts_folder(
    app, client, staff, invoices, attempts, ends
):
    """A worker killed mid-PDF leaves its unfinished file and the folder of its
    parts; the sweep removes both, whether it retries the export or fails it."""
    sign_in(client, staff)
    job_id = queue(client)
    left_by_a_dead_worker(job_id, attempts, format="pdf", file_path=None)
    part = running.part_path(job(job_id))
    parts = writers.parts_folder(part)
    parts.mkdir()
    (parts / "part-00002.pdf").write_bytes(b"%PDF-1.4 cut short")
    part.write_bytes(b"%PDF-1.4 cut short")
    sweep_exports()
    assert not part.exists() and not parts.exists()
    after = job(job_id)
    assert after.status == ends
    if ends == "done":  # retried, at once here (JOBS_IMMEDIATE): a whole PDF
        assert download(client, job_id).data.startswith(b"%PDF")
    else:
        assert after.error == WORKER_DIED


def test_a_long_list_queues_from_the_xlsx_button(
    app_factory, tmp_path, staff, invoices
):
    app = app_factory(
        JOBS_IMMEDIATE=True, EXPORT_SYNC_MAX_ROWS=10, **queue_settings(tmp_path)
    )
    client = app.test_client()
    with app.app_context():
        sign_in(client, staff)
        page = client.get("/billing/invoices?status=DUE").get_data(as_text=True)
        # 4 invoices: the XLSX button downloads at once.
        assert "export.xlsx?status=DUE" in page
        page = client.get("/billing/invoices").get_data(as_text=True)
        head = page.split('id="export-links"')[1].split("</div>")[0]
        assert "export.xlsx" not in head
        assert 'action="/billing/exports"' in head and ">XLSX</button>" in head


def test_a_user_may_have_only_a_few_exports_waiting(
    app_factory, tmp_path, staff, invoices
):
    app = app_factory(**queue_settings(tmp_path))  # nobody runs them
    client = app.test_client()
    with app.app_context():
        sign_in(client, staff)
        for _ in range(MAX_UNFINISHED):
            queue(client)
        page = client.get("/billing/invoices").get_data(as_text=True)
        refused = client.post("/billing/exports", data={"csrf_token": csrf_token(page)})
        assert refused.status_code == 429
        assert "cancel one" in refused.get_data(as_text=True)
        assert f'aria-label="{MAX_UNFINISHED} running"' in page


def test_the_api_queues_an_export_and_reports_on_it(app, client, staff, invoices):
    from invoice_app.models import User

    token = "t-" + "x" * 40
    staff.api_token_hash = User.hash_token(token)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/api/exports", json={"format": "xlsx", "status": "PAID"}, headers=bearer
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    location = response.headers["Location"]
    body = client.get(location, headers=bearer).json
    assert set(body) == {
        "id",
        "status",
        "rows_done",
        "rows_total",
        "download_url",
        "error",
        "expires_at",
    }
    assert (body["status"], body["rows_done"], body["rows_total"]) == ("done", 4, 4)
    assert body["download_url"] == f"/billing/exports/{body['id']}/file"
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)

    for bad, status in [
        ({"format": "docx"}, 422),
        ({"format": "xlsx", "sort": "nope"}, 400),
        ({"format": "xlsx", "status": ["DUE"]}, 400),
    ]:
        response = client.post("/api/exports", json=bad, headers=bearer)
        assert response.status_code == status, bad
        assert response.json["error"]
    response = client.post(
        "/api/exports",
        data="{not json",
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert client.get("/api/exports/nope", headers=bearer).status_code == 404


def pdf_texts(body: bytes) -> dict[str, list[str]]:
    """Each PDF of a zip by name, as the text of its pages."""
    import io
    import zipfile

    from pypdf import PdfReader

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {
            name: [p.extract_text() for p in PdfReader(archive.open(name)).pages]
            for name in archive.namelist()
        }


def test_a_background_zip_has_the_pdfs_of_the_bulk_zip(client, staff, invoices):
    sign_in(client, staff)
    page = client.get("/billing/invoices?status=PAID").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "all_matching": "1", "status": "PAID"}
    synchronous = client.post("/billing/invoices/bulk/invoices.zip", data=form)
    assert synchronous.status_code == 200
    expected = pdf_texts(synchronous.data)
    assert len(expected) == 4

    queued = client.post("/api/exports", data={**form, "format": "zip"})
    assert queued.status_code == 202
    job_id = queued.json["id"]
    assert client.get(f"/api/exports/{job_id}").json["status"] == "done"
    fetched = download(client, job_id)
    assert fetched.headers["Content-Type"] == "application/zip"
    assert pdf_texts(fetched.data) == expected
    page = client.get("/billing/exports").get_data(as_text=True)
    assert "PDFs (zip)" in page and "Done, 4 invoices" in page


def test_a_zip_of_more_than_zip_max_invoices_goes_to_the_background(
    app_factory, tmp_path, staff, invoices
):
    app = app_factory(
        JOBS_IMMEDIATE=True, ZIP_MAX_INVOICES=3, **queue_settings(tmp_path)
    )
    client = app.test_client()
    with app.app_context():
        sign_in(client, staff)
        page = client.get("/billing/invoices?status=PAID").get_data(as_text=True)
        form = {"csrf_token": csrf_token(page), "all_matching": "1", "status": "PAID"}
        response = client.post("/billing/invoices/bulk/invoices.zip", data=form)
        assert response.status_code == 303
        assert "/billing/exports#export-" in response.headers["Location"]
        job_id = response.headers["Location"].rsplit("#export-", 1)[1]
        done = job(job_id)
        assert (done.format, done.status, done.rows_done) == ("zip", "done", 4)
        assert len(pdf_texts(download(client, job_id).data)) == 4
        # Ticked rows up to the limit are zipped at once.
        ticked = {"csrf_token": form["csrf_token"], "numbers": "INV-B01"}
        one = client.post("/billing/invoices/bulk/invoices.zip", data=ticked)
        assert one.status_code == 200


def test_ticked_invoices_past_zip_max_invoices_go_to_the_background(
    app_factory, tmp_path, staff, invoices, make_invoice
):
    app = app_factory(
        JOBS_IMMEDIATE=True, ZIP_MAX_INVOICES=2, **queue_settings(tmp_path)
    )
    client = app.test_client()
    with app.app_context():
        stranger = Tenant(slug="stranger", name="Stranger")
        db.session.add(stranger)
        db.session.commit()
        with tenancy.use(tenancy.Scope(stranger.id, None)):
            make_invoice(number="INV-THEIRS", client_name="Theirs")
        sign_in(client, staff)
        page = client.get("/billing/invoices").get_data(as_text=True)
        ticked = ["INV-B07", "INV-B02", "INV-B10", "INV-THEIRS", "INV-B02"]
        form = {"csrf_token": csrf_token(page), "numbers": ticked, "sort": "number"}
        response = client.post("/billing/invoices/bulk/invoices.zip", data=form)
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        job_id = response.headers["Location"].rsplit("#export-", 1)[1]
        done = job(job_id)
        # Exactly the ticked invoices this user can see, once each, in order.
        assert done.numbers == ["INV-B02", "INV-B07", "INV-B10"]
        assert (done.format, done.status, done.rows_done) == ("zip", "done", 3)
        names = list(pdf_texts(download(client, job_id).data))
        assert names == [
            "invoice-INV-B02.pdf",
            "invoice-INV-B07.pdf",
            "invoice-INV-B10.pdf",
        ]
        page = client.get("/billing/exports").get_data(as_text=True)
        assert "Ticked: 3 invoices" in page and "Done, 3 invoices" in page
