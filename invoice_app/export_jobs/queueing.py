"""Queueing a background export, finding the ones a user may see, cancelling."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import Select, func, select, update

from ..columns import with_shown_columns
from ..database import begin_write
from ..extensions import db
from ..filters import InvoiceFilters
from ..jobs import enqueue
from ..models import ExportJob, ExportStatus, User
from ..tenancy import Scope

UNFINISHED = (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value)
# One user's exports queued or running at once: a worker's time is shared.
MAX_UNFINISHED = 5


def queue_export(
    user: User,
    scope: Scope,
    filters: InvoiceFilters,
    fmt: str,
    numbers: list[str] | None = None,
):
    """Store an export of the list under filters (or of the invoices numbered
    numbers, in its order), as user sees it, and queue it."""
    begin_write()
    job = ExportJob(
        # 256 bits: the address of the file, which nobody can guess.
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        tenant_id=scope.tenant_id,
        client_ids=None if scope.client_ids is None else list(scope.client_ids),
        # Page and rows per page mean nothing to a file of every row. A saved
        # view is stored expanded and the columns are the user's as of now: the
        # worker has no user to look either up as, and the file keeps what was
        # asked for even if the view or the choice changes meanwhile.
        filters=with_shown_columns(filters.expanded(), user)
        .with_(per_page=InvoiceFilters.per_page)
        .to_args(),
        # Once each, in the order ticked; the worker reads them in the list's.
        numbers=None if numbers is None else list(dict.fromkeys(numbers)),
        format=fmt,
        status=ExportStatus.QUEUED.value,
        rows_done=0,
        error="",
        attempts=0,
    )
    db.session.add(job)
    # Committed before it is queued: the worker must find the row.
    db.session.commit()
    enqueue("run_export", job.id)
    return job


def visible_jobs(user: User) -> Select:
    """The exports user may see: their own; a billing admin, their tenant's."""
    stmt = select(ExportJob).where(ExportJob.tenant_id == user.tenant_id)
    if not user.is_admin:
        stmt = stmt.where(ExportJob.user_id == user.id)
    return stmt.order_by(ExportJob.created_at.desc(), ExportJob.id)


def visible_job(user: User, job_id: str) -> ExportJob | None:
    """One export user may see, or None (another user's or tenant's: not there)."""
    return db.session.scalar(visible_jobs(user).where(ExportJob.id == job_id))


def unfinished_count(user: User) -> int:
    """How many of user's own exports are queued or running (the top bar badge)."""
    return db.session.scalar(
        select(func.count()).where(
            ExportJob.tenant_id == user.tenant_id,
            ExportJob.user_id == user.id,
            ExportJob.status.in_(UNFINISHED),
        )
    )


def cancel(job: ExportJob) -> bool:
    """Cancel a queued or running export; False when it had finished already.

    The worker sees the status between batches of rows and stops, removing its
    unfinished file.
    """
    begin_write()
    result = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job.id, ExportJob.status.in_(UNFINISHED))
        .values(status=ExportStatus.CANCELLED.value, finished_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(job)
    return bool(result.rowcount)


def file_of(job: ExportJob):
    """The finished file's path, or None (not done, expired or removed)."""
    if job.status != ExportStatus.DONE or not job.file_path:
        return None
    path = current_app.config["EXPORT_DIR"] / job.file_path
    return path if path.is_file() else None
