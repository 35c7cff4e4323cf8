"""Exports of the Invoice Manager: the filtered list as XLSX or PDF, invoice PDFs."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..clock import today
from ..exports.pdf import (
    PDF_MIMETYPE,
    PdfError,
    check_row_limit,
    invoice_list_pdf,
    invoice_pdf,
)
from ..exports.settings import issuer, pdf_max_rows, pdf_render_timeout
from ..exports.summary import ExportContext, export_filename
from ..exports.xlsx import XLSX_MIMETYPE, stream_invoices_xlsx
from ..extensions import db
from ..filters import DEFAULT_PER_PAGE, InvoiceFilters, parse_filters
from ..models import Invoice
from ..queries import effective_status, invoice_query
from . import bp
from .rendering import max_per_page

# Rows fetched from the database per round trip while an XLSX streams.
XLSX_BATCH = 1000


@bp.app_template_global()
def export_url(kind: str, filters: InvoiceFilters) -> str:
    """The export ("xlsx" or "pdf") of every invoice matching filters."""
    args = filters.with_(per_page=DEFAULT_PER_PAGE).to_args()
    return url_for(f"billing.export_{kind}", **args)


@bp.app_template_global()
def pdf_row_limit() -> int:
    """How many invoices a PDF list may hold (PDF_MAX_ROWS)."""
    return pdf_max_rows()


def export_context(filters: InvoiceFilters) -> ExportContext:
    """What the file says about itself: its filters, when, and for whom."""
    now = datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))
    return ExportContext(filters, now, current_user.email)


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
    stmt = invoice_query(filters, today()).execution_options(yield_per=XLSX_BATCH)
    rows = db.session.execute(stmt)
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
        pdf = invoice_list_pdf(
            rows,
            context,
            static_dir=Path(current_app.static_folder),
            render_seconds=pdf_render_timeout(),
        )
    except PdfError as exc:
        abort(exc.http_status, str(exc))
    filename = export_filename(filters, context.generated_at.date(), "pdf")
    return download(pdf, PDF_MIMETYPE, filename)


@bp.get("/invoices/<number>.pdf")
@login_required
def download_invoice(number: str):
    """One invoice as a printable PDF document (the Download action)."""
    status = effective_status(today()).label("effective_status")
    row = db.session.execute(
        select(Invoice, status).where(Invoice.number == number)
    ).first()
    if row is None:
        abort(404, f"There is no invoice {number}.")
    try:
        pdf = invoice_pdf(
            row.Invoice,
            row.effective_status,
            issuer(),
            static_dir=Path(current_app.static_folder),
            render_seconds=pdf_render_timeout(),
        )
    except PdfError as exc:
        abort(exc.http_status, str(exc))
    safe_number = re.sub(r"[^A-Za-z0-9._-]+", "_", number)
    return download(pdf, PDF_MIMETYPE, f"invoice-{safe_number}.pdf")
