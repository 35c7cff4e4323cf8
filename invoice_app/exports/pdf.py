"""PDFs through xhtml2pdf: the filtered invoice list and one invoice document.

Templates are rendered by Jinja with autoescaping, so user data reaches the HTML
only as text; the render then runs under pdf_resource_policy() (no network, no
file outside static/ and the fonts, a time limit).

A list is laid out as one table per page, each with its header, because one
long table makes xhtml2pdf slower than linear: every page break re-measures
every row that is left. A request makes lists of up to PDF_MAX_ROWS as one
document (TooManyRowsForPdf past it, before any work); longer ones are made in
the background, in parts (pdf_parts.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import render_template
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import RenderLimitError

from ..columns import Column, cell_value, export_columns
from ..models import Status
from .fonts import ANY_SCRIPT, font_face_css, needs_fallback
from .page_marks import DRAFT, VOID, Watermark, mark_pages, paid_mark
from .resource_policy import pdf_resource_policy
from .settings import Issuer
from .summary import ExportContext, RunningTotals

PDF_MIMETYPE = "application/pdf"
# Rows per page of the list: a page holds about 36 one-line rows; the margin
# leaves room for client names that wrap onto a second line.
FIRST_PAGE_ROWS = 24
PAGE_ROWS = 32
# Widths (percent of the page) of the list's fixed columns, in order: number,
# client, billing period, due date, status, usage cost, payable.
LIST_WIDTHS = (15, 31, 10, 10, 9, 12.5, 12.5)
# An optional column's share of the page; long text gets more. The fixed
# columns shrink to leave them room.
OPTIONAL_WIDTH = 8
WIDE_COLUMNS = {"notes": 14, "client_email": 14}


class PdfError(Exception):
    """A PDF could not be made; the message says why, for the person asking."""

    http_status = 500


class TooManyRowsForPdf(PdfError):
    http_status = 422

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            f"A PDF downloaded at once lists at most {limit:,} invoices and more "
            "than that match these filters. Narrow the filters, or press PDF on "
            "the list: it makes a longer one in the background."
        )


class PdfTimeout(PdfError):
    http_status = 503

    def __init__(self, seconds: float):
        super().__init__(
            f"The PDF took longer than {seconds:g} seconds to make and was stopped. "
            "Narrow the filters, or export XLSX."
        )


def check_row_limit(rows: Sequence, limit: int) -> None:
    """Refuse a list longer than limit (fetch limit + 1 rows to tell)."""
    if len(rows) > limit:
        raise TooManyRowsForPdf(limit)


def page_chunks(rows: Sequence, first: int, rest: int) -> Iterator[Sequence]:
    """rows cut into one slice per page: the first page has room for fewer."""
    start, size = 0, first
    while start < len(rows):
        yield rows[start : start + size]
        start, size = start + size, rest


def html_to_pdf(html: str, *, static_dir: Path, render_seconds: float) -> bytes:
    """Render HTML to PDF under the resource policy, within render_seconds."""
    out = io.BytesIO()
    try:
        status = pisa.pisaDocument(
            html,
            dest=out,
            # Relative URLs resolve inside the static folder.
            path=str(Path(static_dir) / "document.html"),
            resource_policy=pdf_resource_policy(static_dir, render_seconds),
        )
    except RenderLimitError as exc:
        raise PdfTimeout(render_seconds) from exc
    if status.err:
        raise PdfError("The PDF could not be made; the error was logged.")
    return out.getvalue()


def list_widths(optional: Sequence[Column]) -> tuple[list[float], list[float]]:
    """Percent widths of the fixed and the optional columns, adding up to 100."""
    extra = [WIDE_COLUMNS.get(c.key, OPTIONAL_WIDTH) for c in optional]
    scale = max(100 - sum(extra), 40) / 100
    fixed = [round(width * scale, 1) for width in LIST_WIDTHS]
    return fixed, extra


def _stamp(context: ExportContext) -> str:
    moment = context.generated_at
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".strip()


def list_html(
    chunks: Sequence[Sequence],
    context: ExportContext,
    totals: RunningTotals,
    *,
    title: str,
    heading: bool = True,
    closing: bool = True,
) -> str:
    """The list template over chunks (one per page); heading and totals if asked."""
    optional = export_columns(context.columns)
    widths, optional_widths = list_widths(optional)
    return render_template(
        "billing/list_pdf.html",
        optional=list(zip(optional, optional_widths, strict=True)),
        widths=widths,
        cell_value=cell_value,
        day=context.generated_at.date(),
        title=title,
        context=context,
        generated=_stamp(context),
        chunks=chunks,
        totals=totals,
        heading=heading,
        closing=closing,
        font_css=font_face_css(),
        any_script=ANY_SCRIPT,
        needs_fallback=needs_fallback,
    )


def list_footer(context: ExportContext, title: str) -> str:
    """The line at the foot of every page of a list."""
    return f"{title} · generated {_stamp(context)}"


def add_row(totals: RunningTotals, row) -> None:
    """Count an invoice_query() row into totals."""
    invoice = row.Invoice
    totals.add(
        row.effective_status, invoice.currency, invoice.usage_cost, invoice.payable
    )


def invoice_list_pdf(
    rows: Sequence,
    context: ExportContext,
    *,
    static_dir: Path,
    render_seconds: float,
    title: str = "Invoices",
) -> bytes:
    """The invoice list (invoice_query() rows) as a landscape PDF, one document."""
    totals = RunningTotals()
    for row in rows:
        add_row(totals, row)
    chunks = list(page_chunks(rows, FIRST_PAGE_ROWS, PAGE_ROWS))
    html = list_html(chunks, context, totals, title=title)
    pdf = html_to_pdf(html, static_dir=static_dir, render_seconds=render_seconds)
    return mark_pages(pdf, footer=list_footer(context, title))


def invoice_watermark(status: str, paid_date: date | None) -> Watermark | None:
    """DRAFT, VOID (cancelled) or PAID across the document; none otherwise."""
    if status == Status.DRAFT:
        return DRAFT
    if status == Status.CANCEL:
        return VOID
    if status == Status.PAID:
        return paid_mark(f"{paid_date:%Y-%m-%d}" if paid_date else "")
    return None


def invoice_pdf(
    invoice,
    status: str,
    issuer: Issuer,
    *,
    static_dir: Path,
    render_seconds: float,
) -> bytes:
    """One invoice as a printable A4 document (status is the effective status)."""
    adjustment = invoice.payable - invoice.usage_cost
    html = render_template(
        "billing/invoice_pdf.html",
        invoice=invoice,
        client=invoice.client,
        status=status,
        issuer=issuer,
        address_lines=[line for line in issuer.address.splitlines() if line.strip()],
        adjustment=adjustment if adjustment != Decimal(0) else None,
        font_css=font_face_css(),
        any_script=ANY_SCRIPT,
    )
    pdf = html_to_pdf(html, static_dir=static_dir, render_seconds=render_seconds)
    footer = f"{issuer.name} · Invoice {invoice.number}"
    return mark_pages(
        pdf, footer=footer, watermark=invoice_watermark(status, invoice.paid_date)
    )
