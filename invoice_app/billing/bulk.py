"""Bulk actions on the invoice list: issue or cancel the ticked invoices, or all
that match the filters."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request
from flask_login import current_user

from .. import bulk
from ..auth.roles import admin_required
from ..clock import today
from ..filters import parse_filters
from ..web import is_fragment_request
from . import bp
from .rendering import list_url, render_invoices, table_context


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
    if not is_fragment_request():
        flash(result.summary)
        for number, why in result.failed:
            flash(f"{number}: {why}")
        return redirect(list_url(filters))
    context = table_context(filters)
    body, status, headers = render_invoices(context)
    report = render_template("billing/_bulk_report.html", result=result)
    return body + report, status, headers
