"""GET /api/invoices: the filtered invoice list as JSON."""

from __future__ import annotations

from flask import current_app, request
from flask_login import login_required

from ..clock import today
from ..filters import parse_filters
from ..queries import page_of, summary
from . import bp
from .serializers import invoice_json


@bp.get("/invoices")
@login_required
def invoices():
    """One page of invoices matching the filters, with the total count."""
    filters = parse_filters(request.args, current_app.config["PER_PAGE_MAX"])
    day = today()
    rows = page_of(filters, day)
    return {
        "items": [invoice_json(row) for row in rows],
        "total": sum(t.count for t in summary(filters, day).totals),
        "page": filters.page,
        "per_page": filters.per_page,
    }
