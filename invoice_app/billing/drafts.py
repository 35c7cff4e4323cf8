"""Billing-admin routes for drafts: create, edit, and the form's live line items."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import drafts, lifecycle
from ..auth.roles import admin_required
from ..clock import today
from ..extensions import db
from ..models import Client, Invoice
from ..money import parse_amount
from . import bp
from .forms import COMMON_CURRENCIES, DraftForm
from .writing import form_version, invoice_or_404


def _draft_form(obj=None) -> DraftForm:
    return DraftForm(today=today(), known_client=drafts.known_client_name, obj=obj)


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
        invoice = lifecycle.create(form.to_input(), current_user.email)
        flash(f"Draft {invoice.number} created.")
        return redirect(url_for("billing.detail", number=invoice.number))
    return _render_draft_form(form, None, 400 if form.errors else 200)


@bp.route("/invoices/<number>/edit", methods=["GET", "POST"])
@admin_required
def edit_draft(number: str):
    """Edit a draft; other statuses are refused with 409."""
    invoice = invoice_or_404(number)
    if request.method == "GET":
        lifecycle.check_allowed(invoice, "edit", today())
        form = _draft_form(obj=invoice)
        form.version.data = invoice.version
        form.client_email.data = invoice.client.email
        form.client_name.data = invoice.client.name
        form.billing_period.data = f"{invoice.billing_period:%Y-%m}"
        form.adjustment.data = str(invoice.adjustment)
        return _render_draft_form(form, invoice)
    form = _draft_form()
    if form.validate_on_submit():
        lifecycle.edit(
            invoice, form_version(form), current_user.email, form.to_input(), today()
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
