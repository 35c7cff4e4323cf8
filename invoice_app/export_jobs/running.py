"""The worker's side of a background export: the file, its progress, its failures.

The file is the synchronous export's own (writers.py: the same renderers over
the same query), written to a temporary name in EXPORT_DIR and renamed when
whole, so a download never finds half a file. Progress (and a heartbeat) is
written every few rows (Writer.progress_every), at most PROGRESS_SECONDS
apart; that write is also where a cancel is noticed.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from .. import tenancy
from ..clock import today
from ..database import begin_write
from ..exports.summary import ExportContext
from ..extensions import db
from ..filters import InvalidFilters, parse_filters
from ..models import ExportJob, ExportStatus, User
from ..queries import summary
from .writers import WRITERS, ExportFailed, list_query

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
    except ExportFailed as exc:
        _fail(job_id, str(exc))
    except InvalidFilters as exc:
        _fail(job_id, f"Its filters are not valid any more: {exc.description}")
    except OSError as exc:
        current_app.logger.warning("export %s: %s", job_id, exc)
        _fail(job_id, os_error_reason(exc))
    except Exception:
        current_app.logger.exception("export %s failed", job_id)
        _fail(job_id, UNEXPECTED)


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
    claimed = _update_while(
        job_id,
        ExportStatus.QUEUED,
        status=ExportStatus.RUNNING.value,
        started_at=now,
        heartbeat_at=now,
        rows_done=0,
        attempts=ExportJob.attempts + 1,
    )
    return db.session.get(ExportJob, job_id) if claimed else None


def _update_while(job_id: str, now_is: ExportStatus, **values) -> bool:
    """Set values on the job if its status is still now_is, committed; True if so.

    Conditional, so a cancel (or another worker) in between is never undone.
    """
    begin_write()
    changed = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == now_is)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(changed)


def _write(job: ExportJob) -> None:
    filters = parse_filters(MultiDict(job.filters), current_app.config["PER_PAGE_MAX"])
    clients = None if job.client_ids is None else tuple(job.client_ids)
    owner = db.session.get(User, job.user_id)
    folder = current_app.config["EXPORT_DIR"]
    writer = WRITERS[job.format]
    job_id, name, part = job.id, f"{job.id}.{job.format}", part_path(job)
    # The scope stored with the job, never a wider one.
    numbers = None if job.numbers is None else tuple(job.numbers)
    with tenancy.use(tenancy.Scope(job.tenant_id, clients)):
        day = today()
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        context = ExportContext(filters, datetime.now(zone), owner.email, numbers)
        if numbers is None:
            total = sum(t.count for t in summary(filters, day).totals)
        else:
            rows = list_query(context, day).order_by(None).subquery()
            total = db.session.scalar(select(func.count()).select_from(rows))
        _progress(job_id, rows_done=0, rows_total=total)
        folder.mkdir(parents=True, exist_ok=True)
        counter = _Counter(job_id, writer.progress_every)
        try:
            with part.open("wb") as out:
                writer.write(out, context, day, counter.count)
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, folder / name)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    _finish(job_id, name, counter.done)


# At most this often a running export writes its progress (a commit, which on
# SQLite is an fsync): often enough for a bar polled every second, seldom
# enough to cost nothing next to the writing.
PROGRESS_SECONDS = 0.25


class _Counter:
    """Counts rows as they pass; writes progress every `every` rows at most
    PROGRESS_SECONDS apart (a cancel is noticed there)."""

    def __init__(self, job_id: str, every: int):
        self.job_id = job_id
        self.every = every
        self.done = 0
        self.written_at = time.monotonic()

    def count(self, rows: Iterable) -> Iterator:
        for row in rows:
            yield row
            self.done += 1
            if self.done % self.every == 0:
                now = time.monotonic()
                if now - self.written_at >= PROGRESS_SECONDS:
                    self.written_at = now
                    _progress(self.job_id, rows_done=self.done)


def _progress(job_id: str, **values) -> None:
    """Write progress and a heartbeat; raise Cancelled if the job was cancelled."""
    if not _update_while(job_id, ExportStatus.RUNNING, heartbeat_at=utcnow(), **values):
        raise Cancelled()


def _finish(job_id: str, name: str, rows: int) -> None:
    now = utcnow()
    path = current_app.config["EXPORT_DIR"] / name
    hours = current_app.config["EXPORT_RETENTION_HOURS"]
    done = _update_while(
        job_id,
        ExportStatus.RUNNING,
        status=ExportStatus.DONE.value,
        rows_done=rows,
        rows_total=rows,
        file_path=name,
        size_bytes=path.stat().st_size,
        finished_at=now,
        heartbeat_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    if not done:  # cancelled in the last moment: nobody will download it
        path.unlink(missing_ok=True)


def _fail(job_id: str, reason: str) -> None:
    db.session.rollback()
    _update_while(
        job_id,
        ExportStatus.RUNNING,
        status=ExportStatus.FAILED.value,
        error=reason[:500],
        finished_at=utcnow(),
    )
