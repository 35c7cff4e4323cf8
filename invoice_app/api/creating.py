"""POST /api/invoices: the billing engine creates an invoice, once per Idempotency-Key.

The body is read as bodies.py says: the NewInvoice model, then the draft
form's own rules (unknown currency, a due date in the past, amounts past what
can be stored), so an invoice made here is checked exactly as one made on the
screen. lifecycle.create() and issue() then write it, as for the screen.
"""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from .. import lifecycle
from ..auth.roles import admin_required
from ..billing.forms import DraftForm
from ..clock import today
from ..drafts import known_client_name
from ..invoice_numbers import invoice_number_problem
from ..queries import invoice_row
from . import bodies, bp, idempotency, schemas, serializers
from .contract import declare
from .views import json_answer

NOT_CREATED = "The invoice was not created"


def _checked(new: schemas.NewInvoice) -> DraftForm:
    form = DraftForm(
        formdata=bodies.form_data(new, exclude={"number", "status"}, lists=["lines"]),
        meta={"csrf": False},
        today=today(),
        known_client=known_client_name,
    )
    extra = {}
    if new.number and (problem := invoice_number_problem(new.number)):
        extra["number"] = [problem]
    return bodies.checked(form, NOT_CREATED, extra)


def _create(body: bytes):
    new = bodies.model_of(schemas.NewInvoice, body, NOT_CREATED)
    form = _checked(new)
    actor = current_user.email
    invoice = lifecycle.create(form.to_input(), actor, number=new.number)
    if new.status == "DUE":
        invoice = lifecycle.issue(invoice, invoice.version, actor, today())
    row = invoice_row(invoice.number, today())
    response = json_answer(serializers.invoice_detail(row), 201)
    response.headers["Location"] = url_for("api.invoice", number=invoice.number)
    response.set_etag(str(invoice.version))
    return response


@bp.post("/invoices")
@declare(
    ok=schemas.InvoiceDetail,
    ok_status=201,
    json=schemas.NewInvoice,
    errors=(403, 409, 413, 415, 422),
)
@admin_required
def create_invoice():
    """Create an invoice (DRAFT, or DUE to issue it at once).

    Send `Idempotency-Key` to make a retry safe: a repeat with the same key
    and body answers the first answer again and creates nothing; the same key
    with another body is 422; a repeat while the first is running is 409.
    Keys are kept 24 hours. Needs a billing admin's `write` token.
    """
    body = bodies.raw_body()
    return idempotency.once(current_user.id, body, lambda: _create(body))
