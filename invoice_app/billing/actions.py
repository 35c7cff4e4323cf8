"""Billing-admin routes: drafts and the lifecycle actions, one invoice at a time."""

from __future__ import annotations

from collections import namedtuple

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.exceptions import Conflict, UnprocessableEntity

from .. import bulk, drafts, lifecycle
from ..auth.roles import admin_required
from ..clock import today
from ..extensions import db
from ..filters import InvalidFilters, InvoiceFilters, parse_filters
from ..lifecycle import InvalidChange, LifecycleError, PaymentInput
from ..models import AuditEvent, Client, Invoice
from ..money import parse_amount, to_places
from ..queries import summary
from ..web.errors import handle_http_error
from . import bp
from .forms import COMMON_CURRENCIES, CancelForm, DraftForm, PaymentForm, VersionForm
from .rendering import list_url, render_invoices, table_context, wants_fragment

Row = namedtuple("Row", "Invoice Client effective_status")


def _invoice_or_404(number: str) -> Invoice:
    invoice = lifecycle.load_for_write(number)
    if invoice is None:
        abort(404, f"There is no invoice {number}.")
    return invoice


def _version(form) -> int:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        abort(400, "The form is missing the invoice version; reload and try again.")


def _known_client(email: str) -> str | None:
    return db.session.scalar(
        select(Client.name).where(func.lower(Client.email) == email)
    )


def _draft_form(obj=None) -> DraftForm:
    return DraftForm(today=today(), known_client=_known_client, obj=obj)


def _render_draft_form(form: DraftForm, invoice: Invoice | None, status: int = 200):
    totals_ = _preview_totals(form)
    return (
        render_template(
            "billing/draft_form.html",
            form=form,
            invoice=invoice,
            totals=totals_,
            currencies=COMMON_CURRENCIES,
        ),
        status,
    )


def _preview_totals(form: DraftForm):
    """Totals of whatever lines parse, for the live preview (errors shown elsewhere)."""
    lines = []
    for line in form.lines:
        try:
            quantity = parse_amount(str(line.form.quantity.data or ""))
            unit_price = parse_amount(str(line.form.unit_price.data or ""))
        except ValueError:
            continue
        lines.append(drafts.LineInput("", quantity, unit_price))
    currency = (form.currency.data or "USD").strip().upper()
    try:
        adjustment = parse_amount(str(form.adjustment.data or "0"))
        totals_ = drafts.compute_totals(lines, currency, adjustment)
    except (ValueError, KeyError):
        return None, currency
    # Amounts past what can be stored are not shown; saving says why.
    return (None if drafts.totals_problems(totals_) else totals_), currency


@bp.route("/invoices/new", methods=["GET", "POST"])
@admin_required
def new_draft():
    """Create a draft invoice."""
    form = _draft_form()
    if form.validate_on_submit():
        invoice = drafts.create_draft(form.to_input(), current_user.email)
        flash(f"Draft {invoice.number} created.")
        return redirect(url_for("billing.detail", number=invoice.number))
    return _render_draft_form(form, None, 400 if form.errors else 200)


@bp.route("/invoices/<number>/edit", methods=["GET", "POST"])
@admin_required
def edit_draft(number: str):
    """Edit a draft; other statuses are refused with 409."""
    invoice = _invoice_or_404(number)
    if request.method == "GET":
        if invoice.status != "DRAFT":
            raise lifecycle._refusal(invoice, "edit", today())
        form = _draft_form(obj=invoice)
        form.version.data = invoice.version
        form.client_email.data = invoice.client.email
        form.client_name.data = invoice.client.name
        form.billing_period.data = f"{invoice.billing_period:%Y-%m}"
        form.adjustment.data = str(invoice.adjustment)
        return _render_draft_form(form, invoice)
    form = _draft_form()
    if form.validate_on_submit():
        drafts.update_draft(
            invoice, _version(form), form.to_input(), current_user.email, today()
        )
        flash(f"Draft {invoice.number} saved.")
        return redirect(url_for("billing.detail", number=invoice.number))
    return _render_draft_form(form, invoice, 400)


@bp.post("/invoices/draft/lines")
@admin_required
def draft_lines():
    """Re-render the line items with one added or removed (htmx, in place)."""
    form = _draft_form()
    lines_message = ""
    if "add_line" in request.form:
        if len(form.lines) < form.lines.max_entries:
            form.lines.append_entry()
        else:
            lines_message = f"At most {form.lines.max_entries} lines on one invoice."
    remove = request.form.get("remove_line", type=int)
    if remove is not None and len(form.lines) > 1 and 0 <= remove < len(form.lines):
        kept = [entry.data for i, entry in enumerate(form.lines) if i != remove]
        while len(form.lines):
            form.lines.pop_entry()
        for data in kept:
            form.lines.append_entry(data)
    totals_ = _preview_totals(form)
    return render_template(
        "billing/_draft_lines.html",
        form=form,
        totals=totals_,
        lines_message=lines_message,
    )


@bp.post("/invoices/draft/totals")
@admin_required
def draft_totals():
    """The live totals while a draft is edited (computed here, with Decimal)."""
    form = _draft_form()
    return render_template("billing/_draft_totals.html", totals=_preview_totals(form))


@bp.get("/clients/options")
@admin_required
def client_options():
    """Existing clients matching what was typed, as <option>s for a datalist."""
    typed = (request.args.get("client_email") or "").strip().lower()
    stmt = select(Client).order_by(Client.name).limit(20)
    if typed:
        stmt = stmt.where(
            or_(
                func.lower(Client.email).contains(typed, autoescape=True),
                func.lower(Client.name).contains(typed, autoescape=True),
            )
        )
    return render_template(
        "billing/_client_options.html", clients=db.session.scalars(stmt)
    )


def _row_filters() -> InvoiceFilters | None:
    """The list's filters a row action re-counts with, checked before it acts.

    Parsed first: a bad filter found after the commit would answer an error for a
    change that was in fact saved, and a retry would then be refused.
    """
    if not (wants_fragment() and request.form.get("view") == "row"):
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
    if not wants_fragment():
        flash(message)
        return redirect(url_for("billing.detail", number=invoice.number))
    day = today()
    status = lifecycle.shown_status(invoice, day)
    if filters is not None:
        counted = summary(filters, day)
        return render_template(
            "billing/_row_update.html",
            row=Row(invoice, invoice.client, status),
            counts=counted.counts,
            total=sum(t.count for t in counted.totals),
            filters=filters,
            message=message,
        )
    return render_template(
        "billing/_invoice_panel.html",
        invoice=invoice,
        status=status,
        events=timeline(invoice.number),
        message=message,
        oob_message=True,
    )


def timeline(number: str) -> list[AuditEvent]:
    """The invoice's audit trail, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.invoice_number == number)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
    )


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
    invoice = _invoice_or_404(number)
    form = VersionForm()
    if not form.validate_on_submit():
        _invalid(form)
    lifecycle.issue(invoice, _version(form), current_user.email, today())
    if invoice.status == "PAID":
        message = f"Invoice {number} issued with nothing to pay: it is PAID."
    else:
        message = f"Invoice {number} issued; due {invoice.due_date}."
    return _action_response(invoice, message, filters)


@bp.post("/invoices/<number>/pay")
@admin_required
def pay(number: str):
    """Record a payment (partial or full) on a DUE or OVER_DUE invoice."""
    filters = _row_filters()
    invoice = _invoice_or_404(number)
    form = PaymentForm()
    if not form.validate_on_submit():
        _invalid(form)
    try:
        amount = parse_amount(form.amount.data, invoice.currency)
    except ValueError as exc:
        abort(422, f"Amount: {exc}.")
    payment = PaymentInput(
        amount, form.received_on.data, (form.reference.data or "").strip()
    )
    lifecycle.record_payment(
        invoice, _version(form), current_user.email, payment, today()
    )
    if invoice.status == "PAID":
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
    invoice = _invoice_or_404(number)
    form = CancelForm()
    if not form.validate_on_submit():
        _invalid(form)
    lifecycle.cancel(
        invoice, _version(form), current_user.email, form.reason.data, today()
    )
    return _action_response(invoice, f"Invoice {number} cancelled.", filters)


@bp.post("/invoices/<number>/delete")
@admin_required
def delete(number: str):
    """Delete a draft."""
    invoice = _invoice_or_404(number)
    form = VersionForm()
    if not form.validate_on_submit():
        _invalid(form)
    drafts.delete_draft(invoice, _version(form), current_user.email, today())
    flash(f"Draft {number} deleted.")
    if wants_fragment():
        return "", 200, {"HX-Redirect": url_for("billing.invoices")}
    return redirect(url_for("billing.invoices"))


@bp.app_errorhandler(LifecycleError)
def lifecycle_refused(error: LifecycleError):
    """A refused transition or a conflict: 409 and why; nothing changed."""
    db.session.rollback()
    return handle_http_error(Conflict(error.message))


@bp.app_errorhandler(InvalidChange)
def invalid_change(error: InvalidChange):
    """Input the lifecycle refused (over-payment, future date, …): 422 and why."""
    db.session.rollback()
    return handle_http_error(UnprocessableEntity(" ".join(error.errors.values())))


def selected_numbers(form, filters) -> list[str]:
    """The ticked invoices, or every invoice the filters match."""
    limit = current_app.config["BULK_MAX"]
    if form.get("all_matching") == "1":
        numbers = bulk.matching_numbers(filters, today(), limit + 1)
    else:
        numbers = list(dict.fromkeys(form.getlist("numbers")))
    if not numbers:
        abort(422, "Select at least one invoice, or all that match the filters.")
    if len(numbers) > limit:
        abort(
            422,
            f"That is more than {limit:,} invoices at once; narrow the filters first.",
        )
    return numbers


def seen_versions(form, numbers: list[str]) -> dict[str, int]:
    """The version each ticked row showed (none for "all that match")."""
    if form.get("all_matching") == "1":
        return {}
    versions = {}
    for number in numbers:
        version = form.get(f"seen-{number}", type=int)
        if version is not None:
            versions[number] = version
    return versions


@bp.post("/invoices/bulk")
@admin_required
def bulk_action():
    """Issue or cancel the selected invoices; report each that could not change."""
    filters = parse_filters(request.form)
    action = request.form.get("action")
    if action not in {"issue", "cancel"}:
        abort(422, "Choose Issue or Cancel.")
    reason = (request.form.get("reason") or "").strip()
    if action == "cancel" and not reason:
        abort(422, "Give one reason for cancelling the selected invoices.")
    numbers = selected_numbers(request.form, filters)
    versions = seen_versions(request.form, numbers)
    result = bulk.apply(
        action, numbers, current_user.email, today(), reason, versions=versions
    )
    if not wants_fragment():
        flash(result.summary)
        for number, why in result.failed:
            flash(f"{number}: {why}")
        return redirect(list_url(filters))
    context = table_context(filters)
    body, status, headers = render_invoices(context)
    report = render_template("billing/_bulk_report.html", result=result)
    return body + report, status, headers
