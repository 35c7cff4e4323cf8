"""The column chooser: a user picks and orders the list's optional columns."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, redirect, request
from flask_login import current_user, login_required

from ..database import begin_write
from ..extensions import db
from ..filters import parse_filters
from ..web import is_fragment_request
from . import bp
from .forms import ColumnChoiceForm
from .rendering import list_url, max_per_page, render_invoices, table_context


@bp.post("/columns")
@login_required
def choose_columns():
    """Keep the user's optional columns; answer with the list they now show.

    Anyone signed in may choose: the choice is their own and changes no invoice.
    The list's filters come along in the form, without `columns`, so the list
    shown afterwards is the user's choice (and its URL names no columns).
    """
    filters = replace(parse_filters(request.form, max_per_page()), columns=None)
    form = ColumnChoiceForm(request.form)
    if not form.validate():
        abort(400, " ".join(e for errors in form.errors.values() for e in errors))
    begin_write()
    current_user.list_columns = list(form.chosen())
    db.session.commit()
    if not is_fragment_request():
        return redirect(list_url(filters), 303)
    body, status, headers = render_invoices(
        table_context(filters) | {"chooser_open": True}
    )
    headers["HX-Replace-Url"] = list_url(filters)
    headers.pop("HX-Push-Url", None)
    return body, status, headers
