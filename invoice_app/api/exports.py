"""POST /api/exports and GET /api/exports/<id>: background exports over the API."""

from __future__ import annotations

from datetime import UTC

from flask import abort, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ..billing.downloads import queue_from
from ..export_jobs.queueing import file_of, visible_job
from ..models import ExportJob
from . import bp


def export_json(job: ExportJob) -> dict:
    """What a client polls: status, progress, and where the file is once done."""
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


@bp.post("/exports")
@login_required
def create_export():
    """Queue an export of the invoices matching the filters: 202 and Location."""
    job = queue_from(_posted_values())
    location = url_for("api.export_status", job_id=job.id)
    return export_json(job), 202, {"Location": location}


@bp.get("/exports/<job_id>")
@login_required
def export_status(job_id: str):
    """An export's status and progress; another user's is 404, like none."""
    job = visible_job(current_user, job_id)
    if job is None:
        abort(404, "There is no such export.")
    return export_json(job)
