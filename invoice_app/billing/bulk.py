"""Bulk actions on the invoice list: issue or cancel the ticked invoices, or all
that match the filters."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request
from flask_login import current_user

from .. import bulk
from ..auth.roles import admin_required
from ..clock import today
from ..filters import InvoiceFilters, parse_filters
from ..web import is_fragment_request
from . import bp
from .forms import BulkActionForm, SelectionForm
from .rendering import list_url, render_invoices, table_context


def selected_numbers(selection: SelectionForm, filters: InvoiceFilters) -> list[str]:
    """The ticked invoices, or every invoice the filters match (at most BULK_MAX)."""
    limit = current_app.config["BULK_MAX"]
    if selection.all_that_match:
        numbers = bulk.matching_numbers(filters, today(), limit + 1)
    else:
        numbers = selection.numbers.data
    if not numbers:
        abort(422, "Select at least one invoice, or all that match the filters.")
    if len(numbers) > limit:
        abort(
            422,
            f"That is more than {limit:,} invoices at once; narrow the filters first.",
        )
    return numbers


@bp.post("/invoices/bulk")
@admin_required
def bulk_action():
    """Issue or cancel the selected invoices; report each that could not change."""
    filters = parse_filters(request.form)
    form = BulkActionForm(request.form)
    if not form.validate():
        # One message: a reason is asked for only once the action is known.
        abort(422, next(iter(form.errors.values()))[0])
    result = bulk.apply(
        form.action.data,
        selected_numbers(form, filters),
        current_user.email,
        today(),
        form.reason.data,
        versions=form.seen_versions(),
    )
    if not is_fragment_request():
        flash(result.summary)
        for number, why in result.failed:
            flash(f"{number}: {why}")
        return redirect(list_url(filters))
    context = table_context(filters)
    body, status, headers = render_invoices(context)
    report = render_template("billing/_bulk_report.html", result=result)
    return body + report, status, headers
