"""PDFs through xhtml2pdf (one invoice document, the receivables overview), and
the errors of every PDF.

Templates are rendered by Jinja with autoescaping, so user data reaches the HTML
only as text; the render then runs under pdf_resource_policy() (no network, no
file outside static/ and the fonts, a time limit).

The invoice list is laid out with ReportLab directly (list_pdf.py): a long table
of short cells is where xhtml2pdf's HTML parsing and re-wrapping cost the most.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import render_template
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import RenderLimitError

from ..models import Status
from .fonts import ANY_SCRIPT, font_face_css
from .page_marks import DRAFT, VOID, Watermark, mark_pages, paid_mark
from .resource_policy import pdf_resource_policy
from .settings import Issuer

PDF_MIMETYPE = "application/pdf"


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
