"""Saved views: save the list under a name, their tabs' counts, and managing them.

The rules (who sees, who changes, names, defaults) are in invoice_app/saved_views.py.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from .. import saved_views
from ..clock import today
from ..exports.summary import describe_filters
from ..filters import InvalidFilters, InvoiceFilters, parse_filters
from ..queries import summary
from ..web import is_fragment_request
from . import bp
from .forms import SaveViewForm, ViewNameForm
from .rendering import max_per_page, views_context


def _list_filters(form: SaveViewForm) -> InvoiceFilters | None:
    """The filters of the list the form was sent from, or None (with a message)."""
    args = MultiDict(parse_qsl(form.list.data or "", keep_blank_values=True))
    try:
        return parse_filters(args, max_per_page())
    except InvalidFilters as error:
        form.list.errors = [f"{error.description} Fix the filters, then save again."]
        return None


@bp.post("/views")
@login_required
def save_view():
    """Save the list as it is shown (filters, sort, columns) as a named view."""
    form = SaveViewForm()
    valid = form.validate_on_submit()
    # After validating: validation starts each field's messages afresh.
    filters = _list_filters(form)
    if valid and filters is not None:
        try:
            view = saved_views.create(
                current_user, form.name.data, form.shared.data, filters.saved_args()
            )
        except saved_views.ViewRefused as refused:
            form.name.errors.append(refused.message)
        else:
            flash(f"Saved the view “{view.name}”.")
            return _open(view.id)
    return _save_refused(form, filters or InvoiceFilters())


def _open(view_id: int):
    """Show the list in view view_id: htmx swaps the table in, others redirect."""
    url = url_for("billing.invoices", view=view_id)
    if is_fragment_request():
        target = {"path": url, "target": "#invoice-results", "swap": "outerHTML"}
        return "", 200, {"HX-Location": json.dumps(target)}
    return redirect(url, 303)


def _save_refused(form: SaveViewForm, filters: InvoiceFilters):
    if is_fragment_request():
        # The tabs again with the form open and its messages (htmx swaps 400s).
        body = render_template(
            "billing/_view_tabs.html",
            filters=filters,
            save_form=form,
            **views_context(),
        )
        return body, 400, {"Vary": "HX-Request"}
    return _manager_page(status=400, save_form=form)


@bp.get("/views/counts")
@login_required
def view_counts():
    """Each tab's live count, out of band: one request for every tab, after load."""
    day = today()
    counts = {"all": _count(InvoiceFilters(), day)}
    for view in saved_views.visible_views(current_user):
        try:
            filters = parse_filters(MultiDict(view.args), max_per_page())
        except InvalidFilters:
            counts[str(view.id)] = None
        else:
            counts[str(view.id)] = _count(filters, day)
    body = render_template("billing/_view_counts.html", counts=counts)
    return body, 200, {"Vary": "HX-Request", "Cache-Control": "private, no-store"}


def _count(filters: InvoiceFilters, day) -> int:
    # The tally answers a view without search, age or client at once.
    return sum(t.count for t in summary(filters, day).totals)


@bp.get("/views")
@login_required
def manage_views():
    """Billing › Invoices › Saved views: rename, delete, choose the default."""
    return _manager_page()


def _manager_context(**extra) -> dict:
    views = saved_views.visible_views(current_user)
    shows = {}
    for view in views:
        try:
            shows[view.id] = describe_filters(
                parse_filters(MultiDict(view.args), max_per_page())
            )
        except InvalidFilters:
            shows[view.id] = [("Filters", "no longer valid")]
    return {
        "views": views,
        "shows": shows,
        "default_view_id": saved_views.default_view_id(current_user),
        "may_change": lambda view: saved_views.may_change(current_user, view),
        "rename_errors": {},
        **extra,
    }


def _manager_page(status: int = 200, **extra):
    return render_template("billing/views.html", **_manager_context(**extra)), status


def _managed(message: str, status: int = 200, **extra):
    """After a change on the manager: its fragment (htmx) or the page again."""
    if is_fragment_request():
        context = _manager_context(message=message, **extra)
        body = render_template("billing/_views_manager.html", **context)
        return body, status, {"Vary": "HX-Request"}
    if status >= 400:
        return _manager_page(status=status, message=message, **extra)
    flash(message)
    return redirect(url_for("billing.manage_views"), 303)


@bp.post("/views/<int:view_id>/rename")
@login_required
def rename_view(view_id: int):
    """Rename a view (personal: its owner; shared: a billing admin)."""
    view = saved_views.view_or_404(current_user, view_id)
    form = ViewNameForm()
    if form.validate_on_submit():
        try:
            saved_views.rename(current_user, view, form.name.data)
        except saved_views.ViewRefused as refused:
            form.name.errors.append(refused.message)
        else:
            return _managed(f"Renamed the view to “{view.name}”.")
    errors = {view_id: [e for errs in form.errors.values() for e in errs]}
    return _managed("The view was not renamed.", 400, rename_errors=errors)


@bp.get("/views/<int:view_id>/delete")
@login_required
def confirm_delete_view(view_id: int):
    """Ask before deleting a view: what it shows and who loses it."""
    view = saved_views.view_or_404(current_user, view_id)
    saved_views.check_may_change(current_user, view)
    return render_template("billing/view_delete.html", view=view)


@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int):
    """Delete a view; anyone who had it as default opens the whole list again."""
    view = saved_views.view_or_404(current_user, view_id)
    name = view.name
    saved_views.remove(current_user, view)
    return _managed(f"Deleted the view “{name}”.")


@bp.post("/views/<int:view_id>/default")
@login_required
def make_default_view(view_id: int):
    """Open this view when the user opens Billing › Invoices."""
    view = saved_views.view_or_404(current_user, view_id)
    saved_views.set_default(current_user, view)
    return _managed(f"“{view.name}” now opens when you open Invoices.")


@bp.post("/views/default/clear")
@login_required
def clear_default_view():
    """Open the whole list again when the user opens Billing › Invoices."""
    saved_views.set_default(current_user, None)
    return _managed("Invoices now opens on the whole list.")
