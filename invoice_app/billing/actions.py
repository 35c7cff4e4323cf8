"""Billing-admin routes: the lifecycle actions, one invoice at a time."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit, lifecycle
from ..auth.roles import admin_required
from ..clock import today
from ..filters import InvalidFilters, InvoiceFilters, parse_filters
from ..lifecycle import PaymentInput
from ..models import Invoice, Status
from ..money import parse_amount, to_places
from ..queries import invoice_row, summary
from ..web import is_fragment_request
from . import bp
from .forms import CancelForm, PaymentForm, VersionForm
from .rendering import column_context
from .writing import form_version, invoice_or_404


def _row_filters() -> InvoiceFilters | None:
    """The list's filters a row action re-counts with, checked before it acts.

    Parsed first: a bad filter found after the commit would answer an error for a
    change that was in fact saved, and a retry would then be refused.
    """
    if not (is_fragment_request() and request.form.get("answer") == "row"):
        return None
    try:
        return parse_filters(request.form)
    except InvalidFilters as error:
        abort(
            400,
            f"{error.description.rstrip('.')}. Fix the filters above the table, then "
            "try again; nothing was changed.",
        )


def _action_response(invoice: Invoice, message: str, filters: InvoiceFilters | None):
    """After a change: the changed row (+ counts) or the detail panel, or a redirect."""
    if not is_fragment_request():
        flash(message)
        return redirect(url_for("billing.detail", number=invoice.number))
    day = today()
    row = invoice_row(invoice.number, day)
    if filters is not None:
        counted = summary(filters, day)
        return render_template(
            "billing/_row_update.html",
            row=row,
            counts=counted.counts,
            total=sum(t.count for t in counted.totals),
            filters=filters,
            message=message,
            **column_context(filters),
        )
    return render_template(
        "billing/_invoice_panel.html",
        invoice=row.Invoice,
        status=row.effective_status,
        events=audit.timeline(invoice.number),
        message=message,
        oob_message=True,
    )


def _submitted(number: str, form_class):
    """The invoice to change, read for writing, and its checked form (else 422)."""
    invoice = invoice_or_404(number)
    form = form_class()
    if not form.validate_on_submit():
        _invalid(form)
    return invoice, form


def _invalid(form) -> None:
    messages = [
        f"{form[name].label.text}: {' '.join(errs)}"
        for name, errs in form.errors.items()
        if name in form
    ]
    abort(422, " ".join(messages) or "Check the form and try again.")


@bp.post("/invoices/<number>/issue")
@admin_required
def issue(number: str):
    """DRAFT → DUE."""
    filters = _row_filters()
    invoice, form = _submitted(number, VersionForm)
    lifecycle.issue(invoice, form_version(form), current_user.email, today())
    if invoice.status == Status.PAID:
        message = f"Invoice {number} issued with nothing to pay: it is PAID."
    else:
        message = f"Invoice {number} issued; due {invoice.due_date}."
    return _action_response(invoice, message, filters)


@bp.post("/invoices/<number>/pay")
@admin_required
def pay(number: str):
    """Record a payment (partial or full) on a DUE or OVER_DUE invoice."""
    filters = _row_filters()
    invoice, form = _submitted(number, PaymentForm)
    try:
        amount = parse_amount(form.amount.data, invoice.currency)
    except ValueError as exc:
        abort(422, f"Amount: {exc}.")
    payment = PaymentInput(
        amount, form.received_on.data, (form.reference.data or "").strip()
    )
    lifecycle.record_payment(
        invoice, form_version(form), current_user.email, payment, today()
    )
    if invoice.status == Status.PAID:
        message = f"Payment recorded; invoice {number} is PAID."
    else:
        balance = to_places(invoice.balance_due, invoice.currency)
        message = f"Payment recorded; {balance} {invoice.currency} still due."
    return _action_response(invoice, message, filters)


@bp.post("/invoices/<number>/cancel")
@admin_required
def cancel(number: str):
    """Void an invoice, with a reason."""
    filters = _row_filters()
    invoice, form = _submitted(number, CancelForm)
    lifecycle.cancel(
        invoice, form_version(form), current_user.email, form.reason.data, today()
    )
    return _action_response(invoice, f"Invoice {number} cancelled.", filters)


@bp.post("/invoices/<number>/delete")
@admin_required
def delete(number: str):
    """Delete a draft."""
    invoice, form = _submitted(number, VersionForm)
    lifecycle.delete(invoice, form_version(form), current_user.email, today())
    flash(f"Draft {number} deleted.")
    if is_fragment_request():
        return "", 200, {"HX-Redirect": url_for("billing.invoices")}
    return redirect(url_for("billing.invoices"))
