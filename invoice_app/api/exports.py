"""POST /api/exports and GET /api/exports/<id>: background exports over the API."""

from __future__ import annotations

from datetime import UTC

from flask import abort, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ..billing.downloads import queue_from
from ..export_jobs.queueing import file_of, visible_job
from ..models import ExportJob
from . import bp, reads_only, schemas
from .contract import declare
from .views import json_answer


def export_json(job: ExportJob) -> dict:
    """What a client polls: status, progress, and where the file is once done
    (schemas.ExportStatus)."""
    expires = job.expires_at
    if expires is not None and expires.tzinfo is None:  # SQLite: naive UTC
        expires = expires.replace(tzinfo=UTC)
    return {
        "id": job.id,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "download_url": url_for("billing.download_export", job_id=job.id)
        if file_of(job)
        else None,
        "error": job.error or None,
        "expires_at": expires.isoformat() if expires else None,
    }


def _posted_values() -> MultiDict:
    """The request's format and filter parameters: a JSON object, or a form."""
    if not request.is_json:
        return request.form
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in body.values()
    ):
        abort(400, "Send a JSON object of format and filter parameters (text).")
    return MultiDict({key: str(value) for key, value in body.items()})


def _answer(job: ExportJob, status: int = 200):
    return json_answer(schemas.ExportStatus(**export_json(job)), status)


@bp.post("/exports")
@reads_only
@declare(
    ok=schemas.ExportStatus,
    ok_status=202,
    json=schemas.NewExport,
    errors=(404, 415, 422, 429),
    tags=("exports",),
)
@login_required
def create_export():
    """Queue an export of the invoices matching the filters: 202 and Location.

    The body is a JSON object of `format` and the list's filter parameters
    (the same as GET /api/invoices takes), as text.
    """
    job = queue_from(_posted_values())
    answer = _answer(job, 202)
    answer.headers["Location"] = url_for("api.export_status", job_id=job.id)
    return answer


@bp.get("/exports/<job_id>")
@declare(ok=schemas.ExportStatus, errors=(404,), tags=("exports",))
@login_required
def export_status(job_id: str):
    """An export's status and progress; another user's is 404, like none."""
    job = visible_job(current_user, job_id)
    if job is None:
        abort(404, "There is no such export.")
    return _answer(job)
