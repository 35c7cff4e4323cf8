"""The Downloads page: background exports, queued, followed, downloaded, cancelled."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from .. import tenancy
from ..export_jobs.queueing import (
    MAX_UNFINISHED,
    cancel,
    file_of,
    queue_export,
    unfinished_count,
    visible_job,
    visible_jobs,
)
from ..export_jobs.writers import WRITERS
from ..exports.summary import describe_filters, export_filename
from ..extensions import db
from ..filters import InvalidFilters, parse_filters
from ..models import EXPORT_FORMATS, ExportJob, ExportStatus
from ..web import is_fragment_request
from . import bp
from .rendering import max_per_page

# The Downloads page lists this many of the newest exports.
PAGE_SIZE = 100


@bp.app_template_global()
def export_sync_max_rows() -> int:
    """The longest list an XLSX button downloads at once (EXPORT_SYNC_MAX_ROWS)."""
    return current_app.config["EXPORT_SYNC_MAX_ROWS"]


@bp.app_template_global()
def running_exports() -> int:
    """The signed-in user's queued and running exports (the top bar's badge)."""
    if not current_user.is_authenticated:
        return 0
    return unfinished_count(current_user)


@bp.app_template_global()
def export_filters_text(job: ExportJob) -> str:
    """The export's filters in words: "Status: DUE · Sorted by: …"."""
    try:
        filters = parse_filters(MultiDict(job.filters), max_per_page())
    except InvalidFilters:
        return "Filters no longer valid"
    lines = describe_filters(filters)
    if job.numbers is not None:
        # Ticked rows are taken by number, whatever the other filters say.
        lines = [("Ticked", f"{len(job.numbers):,} invoices"), lines[-1]]
    return " · ".join(f"{label}: {value}" for label, value in lines)


def queue_from(
    values: MultiDict, fmt: str | None = None, numbers: list[str] | None = None
) -> ExportJob:
    """Queue an export (fmt, else values' format) of the list under values'
    filters, or of just the invoices numbered numbers (a ticked selection)."""
    fmt = fmt or values.get("format", "xlsx")
    if fmt not in EXPORT_FORMATS:
        abort(422, f"format must be one of: {', '.join(EXPORT_FORMATS)}.")
    filters = parse_filters(values, max_per_page())
    if unfinished_count(current_user) >= MAX_UNFINISHED:
        abort(
            429,
            f"You have {MAX_UNFINISHED} exports queued or running; wait for one "
            "to finish, or cancel one, then export again.",
        )
    return queue_export(current_user, tenancy.current(), filters, fmt, numbers)


def queued_response(job: ExportJob):
    """Off to the Downloads page, at the export's row."""
    return redirect(url_for("billing.downloads", _anchor=f"export-{job.id}"), 303)


@bp.post("/exports")
@login_required
def queue_background_export():
    """Queue the filtered list's export in the background; off to Downloads."""
    return queued_response(queue_from(request.form))


@bp.get("/exports")
@login_required
def downloads():
    """The user's background exports (a billing admin's: the tenant's)."""
    # Their owners in one query, for an admin's "By" column.
    stmt = visible_jobs(current_user).options(selectinload(ExportJob.user))
    jobs = db.session.scalars(stmt.limit(PAGE_SIZE)).all()
    return render_template("billing/downloads.html", jobs=jobs)


def _visible_or_404(job_id: str) -> ExportJob:
    job = visible_job(current_user, job_id)
    if job is None:
        abort(404, "There is no such export.")
    return job


@bp.get("/exports/<job_id>")
@login_required
def export_job(job_id: str):
    """One export's row, as its progress stands (htmx polls it every second)."""
    job = _visible_or_404(job_id)
    if not is_fragment_request():
        return redirect(url_for("billing.downloads", _anchor=f"export-{job.id}"))
    response = current_app.make_response(
        render_template("billing/_export_job.html", job=job, oob_badge=True)
    )
    response.headers["Vary"] = "HX-Request"
    return response


@bp.post("/exports/<job_id>/cancel")
@login_required
def cancel_export(job_id: str):
    """Stop a queued or running export; its unfinished file is removed."""
    job = _visible_or_404(job_id)
    cancel(job)
    if is_fragment_request():
        return render_template("billing/_export_job.html", job=job, oob_badge=True)
    return redirect(url_for("billing.downloads", _anchor=f"export-{job.id}"), 303)


@bp.get("/exports/<job_id>/file")
@login_required
def download_export(job_id: str):
    """The finished file, to its owner (and the tenant's billing admins) only."""
    job = _visible_or_404(job_id)
    path = file_of(job)
    if path is None:
        if job.status == ExportStatus.DONE:
            hours = current_app.config["EXPORT_RETENTION_HOURS"]
            abort(410, f"This export has expired (files are kept {hours} hours).")
        abort(404, "This export has no file (it is not done).")
    filters = parse_filters(MultiDict(job.filters), max_per_page())
    name = export_filename(filters, job.created_at.date(), job.format)
    response = send_file(
        path,
        mimetype=WRITERS[job.format].mimetype,
        as_attachment=True,
        download_name=name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
