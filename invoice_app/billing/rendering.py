"""Full page or htmx fragment: decided once, rendered from one context."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..clock import today
from ..columns import COLUMNS, cell_value, chooser_order, shown_columns
from ..filters import (
    DATE_FIELDS,
    PER_PAGE_CHOICES,
    SORT_KEYS,
    InvoiceFilterForm,
    InvoiceFilters,
    date_presets,
    filter_form,
    parse_filters,
)
from ..queries import page_of, summary
from ..saved_views import default_view_id, visible_views, with_default
from ..web import is_fragment_request


def list_url(filters: InvoiceFilters, **changes) -> str:
    """The shareable URL of the invoice list for filters (with changes)."""
    target = filters.with_(**changes) if changes else filters
    return url_for("billing.invoices", **target.to_args())


def table_context(filters: InvoiceFilters) -> dict:
    """Everything the page and the fragment show for these filters.

    A search counts every match exactly, which for a common text takes longer
    than its first page: the htmx fragment then shows the rows at once and asks
    summary_url for the counts and totals (a plain page, without JavaScript,
    has them inline). Without a search they come from the tally at once.
    """
    day = today()
    rows = page_of(filters, day)
    context = {
        "filters": filters,
        "form": filter_form(filters),
        "rows": rows,
        "today": day,
        "errors": {},
        **_controls(filters),
        **views_context(),
    }
    if filters.q and is_fragment_request():
        return context | {
            "counts": None,
            "totals": None,
            "total": None,
            "pages": None,
            "has_next": len(rows) == filters.per_page,
            "summary_url": url_for("billing.invoice_summary", **filters.to_args()),
        }
    return context | summary_context(filters, day)


def summary_context(filters: InvoiceFilters, day: date) -> dict:
    """The status counts, currency totals and page count of a list."""
    counted = summary(filters, day)
    total = sum(t.count for t in counted.totals)
    pages = max(1, -(-total // filters.per_page))
    return {
        "counts": counted.counts,
        "totals": counted.totals,
        "total": total,
        "pages": pages,
        "has_next": filters.page < pages,
        "summary_url": None,
    }


def error_context(form: InvoiceFilterForm) -> dict:
    """What the page shows when the filters themselves are wrong: the messages."""
    filters = InvoiceFilters()
    return {
        "filters": filters,
        "form": form,
        "rows": [],
        "counts": None,
        "totals": [],
        "total": 0,
        "pages": 1,
        "has_next": False,
        "summary_url": None,
        "today": today(),
        "errors": form.errors,
        **_controls(filters),
        **views_context(),
    }


def views_context() -> dict:
    """The saved-view tabs: the user's views and which one is their default."""
    default = default_view_id(current_user)

    def all_invoices_url() -> str:
        # With a default view the bare list opens it: the whole list is named.
        return url_for("billing.invoices", view="all" if default else None)

    return {
        "saved_views": visible_views(current_user),
        "default_view_id": default,
        "all_invoices_url": all_invoices_url,
    }


def column_context(filters: InvoiceFilters) -> dict:
    """The optional columns a row and the header show, and the chooser's list."""
    shown = shown_columns(filters, current_user)
    return {
        "shown_columns": [COLUMNS[key] for key in shown],
        "shown_keys": shown,
        "chooser_order": chooser_order(shown),
        "all_columns": COLUMNS,
        "cell_value": cell_value,
    }


def _controls(filters: InvoiceFilters) -> dict:
    return {
        **column_context(filters),
        "date_fields": DATE_FIELDS,
        "presets": date_presets(today()),
        "per_page_choices": PER_PAGE_CHOICES,
        "sort_keys": SORT_KEYS,
        "list_url": list_url,
        "can_manage": current_user.is_authenticated and current_user.is_admin,
    }


def render_invoices(context: dict, status: int = 200):
    """Render the page or the fragment, marked so caches keep them apart."""
    if is_fragment_request():
        filters, shown = context["filters"], _shown_filters()
        # Another view (a tab, Save view, Clear filters): its filter controls
        # and tabs come too, out of band. Within one view the form is left
        # alone, so nothing being typed into it is lost.
        switched = shown is None or _view_of(shown) != _view_of(filters)
        body = render_template(
            "billing/_table.html", oob=True, view_switched=switched, **context
        )
        headers = {"Vary": "HX-Request"}
        if status == 200:
            headers.update(history_headers(filters, shown))
        else:
            # Keep the last good table; only the messages are swapped (out of band).
            headers["HX-Reswap"] = "none"
        return body, status, headers
    body = render_template("billing/invoices.html", **context)
    return body, status, {"Vary": "HX-Request"}


def render_summary(filters: InvoiceFilters):
    """The second fragment of a searched list: its counts, totals and pages."""
    context = {
        "filters": filters,
        "errors": {},
        **_controls(filters),
        **summary_context(filters, today()),
    }
    body = render_template("billing/_summary.html", **context)
    return body, 200, {"Vary": "HX-Request"}


def _view_of(filters: InvoiceFilters) -> tuple:
    return (filters.view, filters.view_all)


def history_headers(
    filters: InvoiceFilters, shown: InvoiceFilters | None
) -> dict[str, str]:
    """Tell htmx to push the canonical URL of filters, or to replace the entry.

    A new view gets its own history entry, so Back returns to the one before.
    The same view again ("Apply" with nothing changed, a date field chosen
    before any date, a bulk action) and a search being typed (the text only
    grows or shrinks, so each pause in typing would leave a Back stop) replace
    the entry instead. The URL is always the canonical one, never the form's
    raw query with its empty fields.
    """
    url = list_url(filters)
    if shown is not None and (
        shown.to_args() == filters.to_args() or _refines_search(shown, filters)
    ):
        return {"HX-Replace-Url": url}
    return {"HX-Push-Url": url}


def _shown_filters() -> InvoiceFilters | None:
    # htmx names the page it is on; None when that is not a valid invoice list
    # (the header is the client's word, so anything may arrive in it).
    try:
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.path != urlsplit(url_for("billing.invoices")).path:
            return None
        args = MultiDict(parse_qsl(current.query, keep_blank_values=True))
        return parse_filters(with_default(args), max_per_page())
    except (ValueError, HTTPException):
        # InvalidFilters, or a saved view since deleted (404).
        return None


def _refines_search(shown: InvoiceFilters, filters: InvoiceFilters) -> bool:
    before, after = shown.q.casefold(), filters.q.casefold()
    return (
        bool(before and after)
        and (after.startswith(before) or before.startswith(after))
        and shown.with_(q=filters.q, page=filters.page) == filters
    )


def max_per_page() -> int:
    """The most rows a page may show (PER_PAGE_MAX)."""
    return current_app.config["PER_PAGE_MAX"]
