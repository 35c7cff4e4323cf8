"""GET /api/invoices (the filtered list), one invoice, and its audit trail."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import login_required

from .. import audit
from ..clock import today
from ..filters import parse_filters
from ..queries import invoice_row, page_of, summary
from . import bp, schemas, serializers
from .contract import contract, declare


def json_answer(model: schemas.BaseModel, status: int = 200):
    """A model as the answer's body, exactly as the document describes it."""
    body = model.model_dump_json()
    return current_app.response_class(body, status, mimetype="application/json")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (public: it holds no data)."""
    return contract.spec


@bp.get("/docs")
def docs():
    """The document in a viewer (Swagger UI, vendored; public like the document)."""
    return render_template("api/docs.html")


@bp.get("/invoices")
@declare(ok=schemas.InvoiceList, query=schemas.InvoiceQuery, errors=(404,))
@login_required
def invoices():
    """One page of invoices matching the filters, with the total count.

    Takes the same parameters as the invoice list screen and its exports;
    `view=<id>` applies a saved view the caller sees (another's: 404).
    """
    filters = parse_filters(request.args, current_app.config["PER_PAGE_MAX"])
    day = today()
    rows = page_of(filters, day)
    return json_answer(
        schemas.InvoiceList(
            items=[serializers.invoice_item(row) for row in rows],
            total=sum(t.count for t in summary(filters, day).totals),
            page=filters.page,
            per_page=filters.per_page,
        )
    )


def _invoice_or_404(number: str):
    row = invoice_row(number, today())
    if row is None:
        # Another tenant's invoice is not there either: the same answer.
        abort(404, f"There is no invoice {number}.")
    return row


@bp.get("/invoices/<number>")
@declare(ok=schemas.InvoiceDetail, errors=(404,), conditional=True)
@login_required
def invoice(number: str):
    """One invoice with lines, payments, balance due, effective status and version.

    The answer's ETag is the version: a request with `If-None-Match` naming it
    answers 304 Not Modified.
    """
    row = _invoice_or_404(number)
    response = json_answer(serializers.invoice_detail(row))
    response.set_etag(str(row.Invoice.version))
    return response.make_conditional(request)


@bp.get("/invoices/<number>/events")
@declare(ok=schemas.EventList, errors=(404,))
@login_required
def invoice_events(number: str):
    """The invoice's audit trail, newest first: who changed what, and when."""
    _invoice_or_404(number)
    return json_answer(
        schemas.EventList(
            items=[serializers.event(item) for item in audit.timeline(number)]
        )
    )
