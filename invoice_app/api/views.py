"""GET /api/invoices: the filtered invoice list as JSON."""

from __future__ import annotations

from flask import request
from flask_login import login_required

from ..clock import today
from ..extensions import csrf
from ..filters import parse_filters
from ..queries import page_of, summary
from ..serializers import invoice_json
from . import bp

# Token clients cannot carry a CSRF token; the API only reads.
csrf.exempt(bp)


@bp.get("/invoices")
@login_required
def invoices():
    """One page of invoices matching the filters, with the total count."""
    filters = parse_filters(request.args, 200)
    day = today()
    rows = page_of(filters, day)
    return {
        "items": [invoice_json(row) for row in rows],
        "total": sum(t.count for t in summary(filters, day).totals),
        "page": filters.page,
        "per_page": filters.per_page,
    }
