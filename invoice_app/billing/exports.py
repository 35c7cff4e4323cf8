"""Exports of the Invoice Manager: the filtered list as XLSX or PDF, invoice PDFs."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..bulk import matching_numbers
from ..clock import today
from ..columns import with_shown_columns
from ..exports.list_pdf import invoice_list_pdf
from ..exports.pdf import PDF_MIMETYPE, PdfError, check_row_limit, invoice_pdf
from ..exports.settings import issuer, pdf_max_rows, pdf_render_timeout
from ..exports.summary import ExportContext, export_filename, invoice_pdf_name
from ..exports.xlsx import XLSX_MIMETYPE, stream_invoices_xlsx
from ..extensions import db
from ..filters import DEFAULT_PER_PAGE, InvoiceFilters, parse_filters
from ..models import Invoice
from ..queries import (
    STREAM_BATCH,
    export_rows,
    invoice_query,
    invoice_row,
    selection_query,
    streamed_rows,
)
from . import bp
from .bulk import selected_numbers
from .downloads import queue_from, queued_response
from .forms import SelectionForm
from .rendering import max_per_page

# Rows fetched from the database per round trip while an XLSX streams.
XLSX_BATCH = STREAM_BATCH


@bp.app_template_global()
def export_url(kind: str, filters: InvoiceFilters) -> str:
    """The export ("xlsx" or "pdf") of every invoice matching filters."""
    return url_for(f"billing.export_{kind}", **export_args(filters))


@bp.app_template_global()
def export_args(filters: InvoiceFilters) -> dict[str, str]:
    """The filters of an export of every matching invoice (no page), as args."""
    return filters.with_(per_page=DEFAULT_PER_PAGE).to_args()


@bp.app_template_global()
def pdf_row_limit() -> int:
    """How many invoices a PDF list may hold (PDF_MAX_ROWS)."""
    return pdf_max_rows()


def export_context(filters: InvoiceFilters) -> ExportContext:
    """What the file says about itself: its filters and columns, when, for whom."""
    now = datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))
    return ExportContext(
        with_shown_columns(filters, current_user), now, current_user.email
    )


def download(body, mimetype: str, filename: str) -> Response:
    """A private, never cached attachment (filename must be ASCII-safe)."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body, mimetype=mimetype, headers=headers)


@bp.get("/invoices/export.xlsx")
@login_required
def export_xlsx():
    """Every invoice matching the filters, in the table's order, as streamed XLSX."""
    filters = parse_filters(request.args, max_per_page())
    context = export_context(filters)
    rows = streamed_rows(export_rows(invoice_query(filters, today()), context.columns))
    body = stream_with_context(stream_invoices_xlsx(rows, context))
    filename = export_filename(filters, context.generated_at.date(), "xlsx")
    return download(body, XLSX_MIMETYPE, filename)


@bp.get("/invoices/export.pdf")
@login_required
def export_pdf():
    """Every invoice matching the filters as a printable list (up to PDF_MAX_ROWS)."""
    filters = parse_filters(request.args, max_per_page())
    context = export_context(filters)
    limit = pdf_max_rows()
    rows = db.session.execute(invoice_query(filters, today()).limit(limit + 1)).all()
    try:
        check_row_limit(rows, limit)
        pdf = invoice_list_pdf(rows, context, render_seconds=pdf_render_timeout())
    except PdfError as exc:
        abort(exc.http_status, str(exc))
    filename = export_filename(filters, context.generated_at.date(), "pdf")
    return download(pdf, PDF_MIMETYPE, filename)


@bp.get("/invoices/<number>.pdf")
@login_required
def download_invoice(number: str):
    """One invoice as a printable PDF document (the Download action)."""
    row = invoice_row(number, today())
    if row is None:
        abort(404, f"There is no invoice {number}.")
    return download(render_invoice(row), PDF_MIMETYPE, invoice_pdf_name(number))


def render_invoice(row) -> bytes:
    """The PDF document of one (Invoice, effective_status) row, or an HTTP error."""
    try:
        return invoice_pdf(
            row.Invoice,
            row.effective_status,
            issuer(),
            static_dir=Path(current_app.static_folder),
            render_seconds=pdf_render_timeout(),
        )
    except PdfError as exc:
        abort(exc.http_status, f"{row.Invoice.number}: {exc}")


def _selection_query(filters: InvoiceFilters):
    """The selected invoices (ticked numbers, or all that match) in table order."""
    selection = SelectionForm(request.form)
    numbers = selected_numbers(selection, filters)
    if selection.all_that_match:
        return invoice_query(filters, today()), numbers
    return selection_query(numbers, filters, today()), numbers


@bp.post("/invoices/bulk/export.xlsx")
@login_required
def bulk_export_xlsx():
    """Just the selected invoices, as the same XLSX as the list export."""
    filters = parse_filters(request.form, max_per_page())
    stmt, _ = _selection_query(filters)
    context = export_context(filters)
    rows = streamed_rows(export_rows(stmt, context.columns))
    body = stream_with_context(stream_invoices_xlsx(rows, context))
    name = f"invoices-{context.generated_at.date().isoformat()}-selection.xlsx"
    return download(body, XLSX_MIMETYPE, name)


@bp.post("/invoices/bulk/invoices.zip")
@login_required
def bulk_invoice_pdfs():
    """The selected invoices' PDFs in one zip (at most ZIP_MAX_INVOICES at once).

    More than ZIP_MAX_INVOICES go to the background instead: all that match as
    the filters, ticked ones as their numbers, stored with the export.
    """
    filters = parse_filters(request.form, max_per_page())
    limit = current_app.config["ZIP_MAX_INVOICES"]
    if (
        SelectionForm(request.form).all_that_match
        and len(matching_numbers(filters, today(), limit + 1)) > limit
    ):
        # Too many to render while the user waits: made in the background.
        return queued_response(queue_from(request.form, "zip"))
    stmt, numbers = _selection_query(filters)
    if len(numbers) > limit:
        # Stored are only the numbers this user can see, in the list's order.
        visible = db.session.scalars(stmt.with_only_columns(Invoice.number)).all()
        return queued_response(queue_from(request.form, "zip", numbers=visible))
    archive = _zip_of_pdfs(db.session.execute(stmt).all())
    name = f"invoices-{today().isoformat()}-pdfs.zip"
    return download(_chunks(archive), "application/zip", name)


def _zip_of_pdfs(rows):
    """A zip of one PDF per row, spooled to disk past 16 MB; rewound."""
    # Not a `with`: the response streams the file and closes it (_chunks).
    archive = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    try:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for row in rows:
                zipped.writestr(
                    invoice_pdf_name(row.Invoice.number), render_invoice(row)
                )
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive


def _chunks(archive, size: int = 64 * 1024):
    with archive:
        while chunk := archive.read(size):
            yield chunk
