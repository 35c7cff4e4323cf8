"""Billing › Overview: receivables as of a day, their aging, top clients, a chart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import abort, current_app, render_template, request, url_for
from flask_login import login_required

from ..charts import SERIES, bar_chart
from ..clock import today
from ..exports.overview import overview_filename
from ..exports.overview import overview_pdf as overview_document
from ..exports.overview import overview_xlsx as overview_workbook
from ..exports.pdf import PDF_MIMETYPE, PdfError
from ..exports.settings import pdf_render_timeout
from ..exports.xlsx import XLSX_MIMETYPE
from ..filters import InvalidAsOf, InvoiceFilters, parse_as_of
from ..monthly import monthly
from ..receivables import (
    AGING_CHOICES,
    BUCKET_LABELS,
    BUCKETS,
    aging,
    top_overdue_clients,
)
from ..web import is_api_request, is_fragment_request
from . import bp
from .exports import download, export_context


def figure_url(aging: str, currency: str, client: str = "") -> str:
    """The invoice list of exactly the invoices behind one overview figure."""
    filters = InvoiceFilters(aging=aging, currency=currency, client=client)
    return url_for("billing.invoices", **filters.to_args())


def overview_context(day: date) -> dict:
    """What the overview page shows for one day (its chart comes apart)."""
    clients: dict[str, list] = {}
    for entry in top_overdue_clients(day):
        clients.setdefault(entry.aging.currency, []).append(entry)
    return {
        "as_of": day,
        # The list's aging filter is as of today: other days' figures have no link.
        "linked": day == today(),
        "agings": aging(day),
        "top_clients": clients,
        "buckets": BUCKETS,
        "bucket_labels": BUCKET_LABELS,
        "aging_labels": AGING_CHOICES,
        "figure_url": figure_url,
        "errors": {},
    }


def chart_context(day: date) -> dict:
    """The last twelve months per currency, as figures and as bar charts."""
    months = monthly(day)
    return {
        "as_of": day,
        "months": months,
        "charts": {currency: bar_chart(m) for currency, m in months.items()},
        "series": SERIES,
    }


@bp.app_errorhandler(InvalidAsOf)
def invalid_as_of(error: InvalidAsOf):
    """A bad "as of" date: 400 with the message beside the date field."""
    if is_api_request():
        return {"error": error.description, "errors": error.errors}, 400
    context = {"as_of": None, "as_of_text": request.args.get("as_of", "")}
    return render_template(
        "billing/overview.html", errors=error.errors, agings=None, **context
    ), 400


@bp.get("/overview")
@login_required
def overview():
    """What is owed, how late and by whom, per currency; the chart follows."""
    day = parse_as_of(request.args, today())
    return render_template("billing/overview.html", **overview_context(day))


@bp.get("/overview/chart")
@login_required
def overview_chart():
    """The last twelve months' chart: the overview's fragment, or a page of its own.

    Twelve month-ends of aging and a year of payments take longer than the
    overview's figures, so the page shows those at once and asks for this.
    """
    context = chart_context(parse_as_of(request.args, today()))
    template = "_charts.html" if is_fragment_request() else "overview_chart.html"
    body = render_template(f"billing/{template}", **context)
    return body, 200, {"Vary": "HX-Request"}


def _data() -> dict:
    day = parse_as_of(request.args, today())
    return overview_context(day) | chart_context(day)


@bp.get("/overview/export.xlsx")
@login_required
def overview_xlsx():
    """The overview's figures for the "as of" day as an XLSX workbook."""
    data = _data()
    filename = overview_filename(data["as_of"], "xlsx")
    return download(overview_workbook(data), XLSX_MIMETYPE, filename)


@bp.get("/overview/export.pdf")
@login_required
def overview_pdf():
    """The overview's figures for the "as of" day as a PDF."""
    data = _data()
    moment = export_context(InvoiceFilters()).generated_at
    try:
        pdf = overview_document(
            data,
            generated=f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".strip(),
            static_dir=Path(current_app.static_folder),
            render_seconds=pdf_render_timeout(),
        )
    except PdfError as exc:
        abort(exc.http_status, str(exc))
    return download(pdf, PDF_MIMETYPE, overview_filename(data["as_of"], "pdf"))
