"""The periodic sweep: no export stays running without a worker, no file forever.

A worker killed mid-export (deploy, OOM killer, SIGKILL) leaves its export
`running` with a heartbeat that stops moving. The sweep, run by every worker
each minute and when it starts, gives such an export one more try and then
marks it failed; an export still queued whose task the queue lost (a Redis
that keeps nothing on disk, restarted) is queued again. A second copy of a task
is harmless: only one worker can claim a queued export (running.py).
"""

from __future__ import annotations

import shutil
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..database import begin_write
from ..extensions import db
from ..jobs import enqueue, jobs
from ..models import ExportJob, ExportStatus
from .running import part_path, utcnow
from .writers import parts_folder

# A killed worker's export is tried this many times in all, then failed.
MAX_ATTEMPTS = 2
WORKER_DIED = (
    "The worker writing this export stopped (it was restarted or ran out of "
    "memory) and so did the retry; export again, or ask for fewer rows."
)


def sweep_exports() -> None:
    """Retry or fail exports of dead workers; remove files past their expiry."""
    stale = utcnow() - timedelta(seconds=current_app.config["EXPORT_STALE_SECONDS"])
    for job in db.session.scalars(
        select(ExportJob).where(
            ExportJob.status == ExportStatus.RUNNING, ExportJob.heartbeat_at < stale
        )
    ).all():
        _restart_or_fail(job)
    _requeue_lost(stale)
    remove_expired()


def _restart_or_fail(job: ExportJob) -> None:
    retry = job.attempts < MAX_ATTEMPTS
    values = (
        {"status": ExportStatus.QUEUED.value, "rows_done": 0}
        if retry
        else {
            "status": ExportStatus.FAILED.value,
            "error": WORKER_DIED,
            "finished_at": utcnow(),
        }
    )
    # Only if nobody moved it meanwhile (another worker's sweep, a late
    # heartbeat of a worker that was only slow).
    begin_write()
    changed = db.session.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job.id,
            ExportJob.status == ExportStatus.RUNNING,
            ExportJob.heartbeat_at == job.heartbeat_at,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if changed:
        current_app.logger.warning(
            "export %s lost its worker: %s", job.id, "retried" if retry else "failed"
        )
        part_path(job).unlink(missing_ok=True)
        shutil.rmtree(parts_folder(part_path(job)), ignore_errors=True)
        if retry:
            enqueue("run_export", job.id)


def _requeue_lost(stale) -> None:
    waiting = db.session.scalars(
        select(ExportJob.id).where(
            ExportJob.status == ExportStatus.QUEUED, ExportJob.created_at < stale
        )
    ).all()
    if not waiting:
        return
    on_queue = {arg for task in jobs().queue.pending() for arg in task.args}
    for job_id in waiting:
        if job_id not in on_queue:
            enqueue("run_export", job_id)


def remove_expired() -> int:
    """Delete the files of exports past expires_at; how many were removed."""
    begin_write()
    expired = db.session.scalars(
        select(ExportJob).where(
            ExportJob.status == ExportStatus.DONE,
            ExportJob.file_path.is_not(None),
            ExportJob.expires_at < utcnow(),
        )
    ).all()
    for job in expired:
        (current_app.config["EXPORT_DIR"] / job.file_path).unlink(missing_ok=True)
        job.file_path = None
    db.session.commit()
    return len(expired)
