"""The job worker: its queue from settings, and a real `flask jobs worker` process
running what the app queues, on SQLite storage and on Redis."""

from __future__ import annotations

import pytest
from huey import RedisHuey, SqliteHuey

from invoice_app import create_app
from invoice_app.config import ConfigError
from invoice_app.extensions import db
from invoice_app.jobs import enqueue, jobs
from invoice_app.models import Invoice
from tests.jobs_worker import WorkerProcess, queue_settings, wait_for

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_the_queue_is_a_sqlite_file_in_the_instance_folder_by_default(database_url):
    from pathlib import Path

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    instance = Path(app.instance_path)
    assert app.config["JOBS_SQLITE_PATH"] == instance / "jobs.sqlite3"
    assert app.config["EXPORT_DIR"] == instance / "exports"
    with app.app_context():
        queue = jobs().queue
        assert isinstance(queue, SqliteHuey)
        assert queue.storage.filename == str(instance / "jobs.sqlite3")
    # Its own file, not the app's database.
    assert "jobs.sqlite3" not in database_url


def test_jobs_sqlite_path_moves_the_queue(app, tmp_path):
    assert jobs().queue.storage.filename == str(tmp_path / "jobs.sqlite3")


def test_redis_url_makes_a_redis_queue(app_factory, tmp_path):
    app = app_factory(**queue_settings(tmp_path, REDIS_URL))
    with app.app_context():
        assert isinstance(jobs().queue, RedisHuey)
        assert jobs().queue.name == f"test-{tmp_path.name}"


@pytest.mark.parametrize(
    "setting, value",
    [
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("EXPORT_SYNC_MAX_ROWS", "0"),
        ("EXPORT_RETENTION_HOURS", "a day"),
        ("EXPORT_STALE_SECONDS", "-5"),
        ("EXPORT_DIR", 42),
    ],
)
def test_wrong_job_settings_stop_the_start(setting, value):
    with pytest.raises(ConfigError, match=setting):
        create_app({setting: value})


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_a_worker_process_runs_what_the_app_queues(
    storage, app_factory, database_url, tmp_path, make_invoice
):
    settings = queue_settings(tmp_path, REDIS_URL if storage == "redis" else "")
    app = app_factory(**settings)
    with app.app_context():
        make_invoice(number="INV-LATE", status="DUE")  # due 2025-06-30: past
        enqueue("mark_overdue")
        assert jobs().queue.pending_count() == 1

        with WorkerProcess(database_url, settings) as worker:

            def stored_status():
                db.session.rollback()  # a fresh snapshot each look
                return (
                    db.session.scalar(
                        db.select(Invoice.status).where(Invoice.number == "INV-LATE")
                    )
                    == "OVER_DUE"
                )

            wait_for(stored_status, what="the worker to mark INV-LATE overdue")
        assert "mark_overdue" in worker.output()
        assert jobs().queue.pending_count() == 0
