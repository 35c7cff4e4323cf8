"""The worker's side of a background export: the file, its progress, its failures.

The file is the synchronous export's own (stream_invoices_xlsx over the same
query), written to a temporary name in EXPORT_DIR and renamed when whole, so a
download never finds half a file. Progress (and a heartbeat) is written every
PROGRESS_EVERY rows; that write is also where a cancel is noticed.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from .. import tenancy
from ..clock import today
from ..database import begin_write
from ..exports.summary import ExportContext
from ..exports.xlsx import stream_invoices_xlsx
from ..extensions import db
from ..filters import InvalidFilters, parse_filters
from ..models import ExportJob, ExportStatus, User
from ..queries import export_rows, invoice_query, streamed_rows, summary

PROGRESS_EVERY = 1000

FULL = "The disk of the export folder is full, so the file could not be written."
READ_ONLY = (
    "The export folder cannot be written to (it is read-only, missing or not "
    "permitted), so the file could not be written."
)
UNEXPECTED = "The export stopped on an unexpected error; it has been logged."


class Cancelled(Exception):
    """The user cancelled the export while it ran."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def part_path(job: ExportJob) -> Path:
    """Where the file is written until it is whole (a name no download serves)."""
    return current_app.config["EXPORT_DIR"] / f".{job.id}.{job.format}.part"


def run_export(job_id: str) -> None:
    """Write the export job_id, if it is still queued (a worker task)."""
    job = _claim(job_id)
    if job is None:
        return  # cancelled while queued, or taken by another worker
    try:
        _write(job)
    except Cancelled:
        pass
    except InvalidFilters as exc:
        _fail(job, f"Its filters are not valid any more: {exc.description}")
    except OSError as exc:
        current_app.logger.warning("export %s: %s", job.id, exc)
        _fail(job, os_error_reason(exc))
    except Exception:
        current_app.logger.exception("export %s failed", job.id)
        _fail(job, UNEXPECTED)


def os_error_reason(exc: OSError) -> str:
    """Why a file could not be written, in words a user can act on."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return FULL
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR):
        return READ_ONLY
    return f"The file could not be written ({exc.strerror or exc})."


def _claim(job_id: str) -> ExportJob | None:
    """Take the job from queued to running; None when it is not queued."""
    now = utcnow()
    begin_write()
    claimed = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.QUEUED)
        .values(
            status=ExportStatus.RUNNING.value,
            started_at=now,
            heartbeat_at=now,
            rows_done=0,
            attempts=ExportJob.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(ExportJob, job_id) if claimed else None


def _write(job: ExportJob) -> None:
    filters = parse_filters(MultiDict(job.filters), current_app.config["PER_PAGE_MAX"])
    clients = None if job.client_ids is None else tuple(job.client_ids)
    owner = db.session.get(User, job.user_id)
    folder = current_app.config["EXPORT_DIR"]
    # The scope stored with the job, never a wider one.
    with tenancy.use(tenancy.Scope(job.tenant_id, clients)):
        day = today()
        total = sum(t.count for t in summary(filters, day).totals)
        _progress(job.id, rows_done=0, rows_total=total)
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        context = ExportContext(filters, datetime.now(zone), owner.email)
        folder.mkdir(parents=True, exist_ok=True)
        part = part_path(job)
        counter = _Counter(job.id)
        try:
            with (
                closing(
                    streamed_rows(export_rows(invoice_query(filters, day)))
                ) as rows,
                part.open("wb") as out,
            ):
                for chunk in stream_invoices_xlsx(counter.count(rows), context):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            name = f"{job.id}.{job.format}"
            os.replace(part, folder / name)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    _finish(job, name, counter.done)


class _Counter:
    """Counts rows as they pass, writing progress every PROGRESS_EVERY."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.done = 0

    def count(self, rows: Iterable) -> Iterator:
        for row in rows:
            yield row
            self.done += 1
            if self.done % PROGRESS_EVERY == 0:
                _progress(self.job_id, rows_done=self.done)


def _progress(job_id: str, **values) -> None:
    """Write progress and a heartbeat; raise Cancelled if the job was cancelled."""
    begin_write()
    still_running = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.RUNNING)
        .values(heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not still_running:
        raise Cancelled()


def _finish(job: ExportJob, name: str, rows: int) -> None:
    now = utcnow()
    path = current_app.config["EXPORT_DIR"] / name
    hours = current_app.config["EXPORT_RETENTION_HOURS"]
    begin_write()
    done = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job.id, ExportJob.status == ExportStatus.RUNNING)
        .values(
            status=ExportStatus.DONE.value,
            rows_done=rows,
            rows_total=rows,
            file_path=name,
            size_bytes=path.stat().st_size,
            finished_at=now,
            heartbeat_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not done:  # cancelled in the last moment: nobody will download it
        path.unlink(missing_ok=True)


def _fail(job: ExportJob, reason: str) -> None:
    db.session.rollback()
    begin_write()
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job.id, ExportJob.status == ExportStatus.RUNNING)
        .values(
            status=ExportStatus.FAILED.value,
            error=reason[:500],
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
