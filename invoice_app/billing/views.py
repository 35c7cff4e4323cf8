"""The invoice list (page or fragment) and one invoice's page."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from .. import audit
from ..clock import today
from ..filters import InvalidFilters, parse_filters
from ..lifecycle import allowed_actions
from ..queries import invoice_row
from ..saved_views import with_default
from ..web import is_api_request
from ..web.errors import handle_http_error
from . import bp
from .rendering import (
    error_context,
    max_per_page,
    render_invoices,
    render_summary,
    table_context,
)


@bp.context_processor
def billing_context() -> dict:
    """What every billing template may use: the day, the user's rights."""
    return {
        "today": today(),
        "can_manage": current_user.is_authenticated and current_user.is_admin,
        "allowed_actions": allowed_actions,
        # (endpoint, label) of the downloads offered for a selection.
        "bulk_downloads": BULK_DOWNLOADS,
    }


BULK_DOWNLOADS = (
    ("billing.bulk_export_xlsx", "Export XLSX"),
    ("billing.bulk_invoice_pdfs", "Download PDFs (zip)"),
)


@bp.app_errorhandler(InvalidFilters)
def invalid_filters(error: InvalidFilters):
    """Bad filter values: 400, with each message next to its control."""
    if is_api_request():
        return handle_http_error(error)
    return render_invoices(error_context(error.form), status=400)


@bp.get("/invoices")
@login_required
def invoices():
    """The Invoice Manager: filters and the invoice table (page or fragment).

    With no parameters at all it opens the user's default view, if they chose one.
    """
    filters = parse_filters(with_default(request.args), max_per_page())
    return render_invoices(table_context(filters))


@bp.get("/invoice-summary")
@login_required
def invoice_summary():
    """A searched list's counts, totals and page count: its second fragment."""
    filters = parse_filters(request.args, max_per_page())
    return render_summary(filters)


@bp.get("/invoices/<number>")
@login_required
def detail(number: str):
    """One invoice with every field and its line items."""
    row = invoice_row(number, today())
    if row is None:
        abort(404, f"There is no invoice {number}.")
    return render_template(
        "billing/detail.html",
        invoice=row.Invoice,
        status=row.effective_status,
        events=audit.timeline(number),
    )
