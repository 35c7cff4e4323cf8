"""The receivables overview as an XLSX workbook or a PDF (bytes; no request).

Small files (a few rows per currency), so the workbook is built with openpyxl
cells. Amounts are numbers with their currency's format, dates are dates, and
client names and e-mails are inert text, as in the list export (xlsx.py).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from flask import render_template
from openpyxl import Workbook

from ..receivables import BUCKET_LABELS, BUCKETS, OVERDUE_BUCKETS
from .fonts import ANY_SCRIPT, font_face_css, needs_fallback
from .page_marks import mark_pages
from .pdf import html_to_pdf
from .xlsx import (
    DATE_FORMAT,
    HEADER_STYLE,
    amount_format,
    clean_text,
    needs_quote_prefix,
)

PERIOD_FORMAT = "yyyy-mm"


def _text(sheet, row: int, column: int, value: str) -> None:
    text = clean_text(value)
    cell = sheet.cell(row, column)
    cell.value = text
    cell.data_type = "s"  # never a formula or an error value
    if needs_quote_prefix(text):
        cell.quotePrefix = True


def _amount(sheet, row: int, column: int, value, currency: str) -> None:
    cell = sheet.cell(row, column, value)
    cell.number_format = amount_format(currency)


def _header(sheet, row: int, titles) -> None:
    for column, title in enumerate(titles, 1):
        cell = sheet.cell(row, column, title)
        for name, style in HEADER_STYLE.items():
            setattr(cell, name, style)


def overview_xlsx(data: dict) -> bytes:
    """Sheets Aging, Top clients and Months from overview_context() data."""
    book = Workbook()
    aging_sheet = book.active
    aging_sheet.title = "Aging"
    aging_sheet.cell(1, 1, "As of")
    aging_sheet.cell(1, 2, data["as_of"]).number_format = DATE_FORMAT
    _header(
        aging_sheet,
        3,
        ["Currency", "Outstanding", "Invoices", "Overdue", "Invoices"]
        + [BUCKET_LABELS[b] for b in BUCKETS]
        + [f"{BUCKET_LABELS[b]} (invoices)" for b in BUCKETS],
    )
    for r, agg in enumerate(data["agings"], 4):
        c = agg.currency
        aging_sheet.cell(r, 1, c)
        _amount(aging_sheet, r, 2, agg.outstanding.amount, c)
        aging_sheet.cell(r, 3, agg.outstanding.count)
        _amount(aging_sheet, r, 4, agg.overdue.amount, c)
        aging_sheet.cell(r, 5, agg.overdue.count)
        for i, bucket in enumerate(BUCKETS):
            _amount(aging_sheet, r, 6 + i, agg.buckets[bucket].amount, c)
            aging_sheet.cell(r, 6 + len(BUCKETS) + i, agg.buckets[bucket].count)

    clients = book.create_sheet("Top clients")
    _header(
        clients,
        1,
        ["Currency", "Client", "Client email", "Overdue"]
        + [BUCKET_LABELS[b] for b in OVERDUE_BUCKETS],
    )
    r = 2
    for currency, entries in data["top_clients"].items():
        for entry in entries:
            clients.cell(r, 1, currency)
            _text(clients, r, 2, entry.name)
            _text(clients, r, 3, entry.email)
            _amount(clients, r, 4, entry.aging.overdue.amount, currency)
            for i, bucket in enumerate(OVERDUE_BUCKETS):
                _amount(clients, r, 5 + i, entry.aging.buckets[bucket].amount, currency)
            r += 1

    months = book.create_sheet("Months")
    _header(months, 1, ["Currency", "Month", "Invoiced", "Collected", "Overdue at end"])
    r = 2
    for currency, series in data["months"].items():
        for month in series:
            months.cell(r, 1, currency)
            months.cell(r, 2, month.start).number_format = PERIOD_FORMAT
            _amount(months, r, 3, month.invoiced, currency)
            _amount(months, r, 4, month.collected, currency)
            _amount(months, r, 5, month.overdue, currency)
            r += 1
    for sheet in book.worksheets:
        for letter in "ABCDEFGHIJKLMNOP":
            sheet.column_dimensions[letter].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def overview_pdf(
    data: dict, *, generated: str, static_dir: Path, render_seconds: float
) -> bytes:
    """The overview's figures as a portrait PDF (fetches nothing: resource_policy)."""
    title = f"Receivables as of {data['as_of']:%Y-%m-%d}"
    html = render_template(
        "billing/overview_pdf.html",
        title=title,
        generated=generated,
        font_css=font_face_css(),
        any_script=ANY_SCRIPT,
        needs_fallback=needs_fallback,
        buckets=BUCKETS,
        overdue_buckets=OVERDUE_BUCKETS,
        bucket_labels=BUCKET_LABELS,
        **{k: data[k] for k in ("as_of", "agings", "top_clients", "months")},
    )
    pdf = html_to_pdf(html, static_dir=static_dir, render_seconds=render_seconds)
    return mark_pages(pdf, footer=f"{title} · generated {generated}")


def overview_filename(day: date, extension: str) -> str:
    """receivables-2025-07-15.xlsx"""
    return f"receivables-{day.isoformat()}.{extension}"
