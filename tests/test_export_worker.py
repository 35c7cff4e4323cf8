"""Background exports through a real `flask jobs worker` process: the life cycle
queued -> running -> done (SQLite queue and Redis queue), the file equal to the
streamed export's, cancel while running, and a worker killed mid-export."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from invoice_app.demo.load import seed_demo
from invoice_app.extensions import db
from invoice_app.models import Invoice
from tests.conftest import csrf_token
from tests.export_job_helpers import cells, download, job, make_user, queue, sign_in
from tests.jobs_worker import WorkerProcess, queue_settings, wait_for

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def settings(tmp_path):
    return queue_settings(tmp_path)


@pytest.fixture
def app(app_factory, settings):
    app = app_factory(**settings)
    with app.app_context():
        yield app


@pytest.fixture
def staff_client(client):
    sign_in(client, make_user("staff@example.test", "staff"))
    return client


def watch(client, job_id: str, until: set[str], timeout: float = 60) -> list[dict]:
    """Poll GET /api/exports/<id> until its status is in until; every answer."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/exports/{job_id}").json
        seen.append(body)
        if body["status"] in until:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"export still {seen[-1]['status']} after {timeout} s")


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_an_export_goes_queued_running_done_in_a_worker(
    storage, app_factory, database_url, tmp_path
):
    settings = queue_settings(tmp_path, REDIS_URL if storage == "redis" else "")
    app = app_factory(**settings)
    client = app.test_client()
    with app.app_context():
        seed_demo(20_000, date(2025, 7, 15))
        sign_in(client, make_user("staff@example.test", "staff"))
        filters = {"sort": "number"}
        streamed = client.get("/billing/invoices/export.xlsx", query_string=filters)
        streamed_body = streamed.data
        job_id = queue(client, **filters)
        # Nobody has taken it yet.
        row = client.get(f"/billing/exports/{job_id}", headers={"HX-Request": "1"})
        assert "Queued" in row.get_data(as_text=True)
        assert client.get(f"/api/exports/{job_id}").json["status"] == "queued"

        with WorkerProcess(database_url, settings) as worker:
            seen = watch(client, job_id, {"done", "failed"})
        assert seen[-1]["status"] == "done", worker.output()[-3000:]

        statuses = [s["status"] for s in seen]
        order = ["queued", "running", "done"]
        assert [s for s in order if s in statuses] == order, statuses
        assert statuses == sorted(statuses, key=order.index)  # never backwards
        done = [s["rows_done"] for s in seen if s["status"] == "running"]
        assert done == sorted(done)
        total = seen[-1]["rows_total"]
        assert total == 20_000 and any(0 < n < total for n in done), done

        fetched = download(client, job_id)
        assert fetched.status_code == 200
        assert cells(fetched.data) == cells(streamed_body)


def test_cancel_stops_a_running_export_in_the_worker(
    app, staff_client, database_url, settings
):
    client = staff_client
    seed_demo(60_000, date(2025, 7, 15))
    job_id = queue(client)
    with WorkerProcess(database_url, settings):
        wait_for(lambda: job(job_id).rows_done >= 1000, what="the export to run")
        page = client.get("/billing/exports").get_data(as_text=True)
        response = client.post(
            f"/billing/exports/{job_id}/cancel", data={"csrf_token": csrf_token(page)}
        )
        assert response.status_code == 303
        # The worker notices at its next batch and removes its unfinished file.
        exports = Path(settings["EXPORT_DIR"])
        wait_for(lambda: not any(exports.iterdir()), what="the part file to go")
        time.sleep(0.5)
    stopped = job(job_id)
    assert stopped.status == "cancelled" and stopped.file_path is None
    assert 1000 <= stopped.rows_done < 60_000
    assert list(exports.iterdir()) == []
    page = client.get("/billing/exports").get_data(as_text=True)
    assert "Cancelled" in page and "every 1s" not in page


def test_a_worker_killed_mid_export_is_detected_and_the_export_retried(
    app, staff_client, database_url, settings
):
    client = staff_client
    seed_demo(40_000, date(2025, 7, 15))
    count = db.session.scalar(db.select(db.func.count(Invoice.id)))
    job_id = queue(client)
    exports = Path(settings["EXPORT_DIR"])

    with WorkerProcess(database_url, settings) as first:
        wait_for(lambda: job(job_id).rows_done >= 2000, what="the export to run")
        first.kill()
    killed = job(job_id)
    # Killed: left running, half a file under its temporary name, nothing to fetch.
    assert killed.status == "running" and killed.attempts == 1
    assert [p.name for p in exports.iterdir()] == [f".{job_id}.xlsx.part"]
    assert download(client, job_id).status_code == 404

    time.sleep(1.2)  # its heartbeat goes stale
    with WorkerProcess(database_url, settings, EXPORT_STALE_SECONDS="1") as second:
        seen = watch(client, job_id, {"done", "failed"})
    assert seen[-1]["status"] == "done", second.output()[-3000:]
    assert "lost its worker: retried" in second.output()
    retried = job(job_id)
    assert retried.attempts == 2 and retried.rows_done == count
    assert [p.name for p in exports.iterdir()] == [f"{job_id}.xlsx"]
    fetched = download(client, job_id)
    assert len(cells(fetched.data)["Invoices"]) == 1 + count


def test_the_worker_writes_the_columns_chosen_when_queued(
    app, staff_client, database_url, settings, make_invoice
):
    """The worker has no user to ask: the job's stored filters name the columns."""
    client = staff_client
    make_invoice(number="INV-W1", notes="=SUM(1)", amount_paid=Decimal("5.00"))
    make_invoice(number="INV-W2", status="PAID", paid_date=date(2025, 7, 1))
    page = client.get("/billing/invoices").get_data(as_text=True)
    chosen = {"csrf_token": csrf_token(page), "show": ["notes", "balance_due"]}
    assert client.post("/billing/columns", data=chosen).status_code == 303
    streamed = client.get("/billing/invoices/export.xlsx?sort=number").data
    job_id = queue(client, sort="number")
    # Another choice after queueing does not change the queued file.
    other = {"csrf_token": csrf_token(page), "show": ["currency"]}
    assert client.post("/billing/columns", data=other).status_code == 303

    with WorkerProcess(database_url, settings) as worker:
        seen = watch(client, job_id, {"done", "failed"})
    assert seen[-1]["status"] == "done", worker.output()[-3000:]
    body = download(client, job_id).data
    assert cells(body) == cells(streamed)
    sheet = cells(body)["Invoices"]
    assert [value for value, _, _ in sheet[0]][-2:] == ["Notes", "Balance due"]
    # INV-W1: the note stays text (quote prefix), the balance a typed amount.
    assert sheet[1][-2] == ("=SUM(1)", "General", True)
    assert sheet[1][-1] == (10, '#,##0.00 "USD"', False)
