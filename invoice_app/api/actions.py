"""Versioned changes to one invoice: PATCH a draft, issue, record a payment, cancel.

Each needs `If-Match` with the invoice's version (its ETag, from GET): 428
without it, 412 when the invoice has changed since. The lifecycle module
decides what may happen, exactly as for the screen: a transition it refuses
answers 409 with its reason, bad values 422, and nothing changes. Each answers
the invoice as it is now, with its new ETag.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import lifecycle
from ..auth.roles import admin_required
from ..billing.forms import CancelForm, DraftForm, PaymentForm
from ..billing.writing import invoice_or_404
from ..clock import today
from ..drafts import known_client_name
from ..lifecycle import PaymentInput
from ..models import Invoice
from ..money import parse_amount
from ..queries import invoice_row
from ..web.formatting import plain
from . import bodies, bp, schemas, serializers
from .contract import declare
from .views import json_answer

ACTION_ERRORS = (403, 404, 409, 412, 413, 415, 422, 428)


def _version_asked(invoice: Invoice) -> int:
    """The version If-Match names; 428 without one, 412 when it is not current."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        abort(
            428,
            "Send If-Match with the invoice's version (the ETag of GET "
            f"/api/invoices/{invoice.number}), so a change made meanwhile is not "
            "overwritten.",
        )
    text = header.removeprefix("W/").strip('"')
    if not text.isdigit() or int(text) != invoice.version:
        abort(
            412,
            f"Invoice {invoice.number} has changed since version {header}: it is "
            f"version {invoice.version} now. Read it again, then retry.",
        )
    return invoice.version


def _answer(invoice: Invoice):
    row = invoice_row(invoice.number, today())
    response = json_answer(serializers.invoice_detail(row))
    response.set_etag(str(row.Invoice.version))
    return response


def _form(form_class, data: MultiDict, **kwargs):
    return form_class(formdata=data, meta={"csrf": False}, **kwargs)


@bp.patch("/invoices/<number>")
@declare(ok=schemas.InvoiceDetail, json=schemas.DraftChanges, errors=ACTION_ERRORS)
@admin_required
def edit_draft(number: str):
    """Change a draft's fields (drafts only); fields left out keep their values."""
    invoice = invoice_or_404(number)
    version = _version_asked(invoice)
    body = bodies.raw_body()
    lifecycle.check_allowed(invoice, "edit", today())
    changes = bodies.model_of(schemas.DraftChanges, body, "The draft was not changed")
    data = _current_draft(invoice)
    if "lines" in changes.model_fields_set:
        for key in [k for k in data if k.startswith("lines-")]:
            del data[key]
    given = bodies.form_data(
        changes,
        only=changes.model_fields_set,
        lists=["lines"] if "lines" in changes.model_fields_set else (),
    )
    for key, value in given.items():
        data[key] = value
    form = bodies.checked(
        _form(DraftForm, data, today=today(), known_client=known_client_name),
        "The draft was not changed",
    )
    lifecycle.edit(invoice, version, current_user.email, form.to_input(), today())
    return _answer(invoice)


def _current_draft(invoice: Invoice) -> MultiDict:
    """The draft as the form would post it unchanged."""
    data = MultiDict(
        {
            "client_email": invoice.client.email,
            "client_name": invoice.client.name,
            "billing_period": f"{invoice.billing_period:%Y-%m}",
            "currency": invoice.currency,
            "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
            "payment_terms_days": (
                "" if invoice.payment_terms_days is None else invoice.payment_terms_days
            ),
            "notes": invoice.notes,
            "adjustment": str(invoice.adjustment),
            "adjustment_reason": invoice.adjustment_reason,
        }
    )
    for i, line in enumerate(invoice.lines):
        data[f"lines-{i}-description"] = line.description
        data[f"lines-{i}-quantity"] = plain(line.quantity)
        data[f"lines-{i}-unit_price"] = plain(line.unit_price)
    return data


@bp.post("/invoices/<number>/issue")
@declare(ok=schemas.InvoiceDetail, errors=ACTION_ERRORS)
@admin_required
def issue(number: str):
    """DRAFT → DUE (or PAID at once when it has nothing to pay)."""
    invoice = invoice_or_404(number)
    lifecycle.issue(invoice, _version_asked(invoice), current_user.email, today())
    return _answer(invoice)


@bp.post("/invoices/<number>/payments")
@declare(ok=schemas.InvoiceDetail, json=schemas.NewPayment, errors=ACTION_ERRORS)
@admin_required
def record_payment(number: str):
    """Money received on a DUE or OVER_DUE invoice; the one that clears it makes it
    PAID."""
    invoice = invoice_or_404(number)
    version = _version_asked(invoice)
    body = bodies.raw_body()
    what = "The payment was not recorded"
    payment = bodies.model_of(schemas.NewPayment, body, what)
    fields = bodies.form_data(payment)
    fields["version"] = str(version)
    form = bodies.checked(_form(PaymentForm, fields), what)
    try:
        amount = parse_amount(form.amount.data, invoice.currency)
    except ValueError as error:
        raise bodies.InvalidBody({"amount": [f"{error}."]}, what) from None
    lifecycle.record_payment(
        invoice,
        version,
        current_user.email,
        PaymentInput(
            amount, form.received_on.data, (form.reference.data or "").strip()
        ),
        today(),
    )
    return _answer(invoice)


@bp.post("/invoices/<number>/cancel")
@declare(ok=schemas.InvoiceDetail, json=schemas.Cancellation, errors=ACTION_ERRORS)
@admin_required
def cancel(number: str):
    """Void a DRAFT, DUE or OVER_DUE invoice, with a reason."""
    invoice = invoice_or_404(number)
    version = _version_asked(invoice)
    body = bodies.raw_body()
    what = "The invoice was not cancelled"
    cancellation = bodies.model_of(schemas.Cancellation, body, what)
    fields = bodies.form_data(cancellation)
    fields["version"] = str(version)
    form = bodies.checked(_form(CancelForm, fields), what)
    lifecycle.cancel(invoice, version, current_user.email, form.reason.data, today())
    return _answer(invoice)
