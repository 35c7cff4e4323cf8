"""What a background export writes, per format: the synchronous export's file.

Each writer reads the list under the scope in force (running.py sets the job's)
and writes to an open file, passing every row through `counted`, which reports
progress and stops the writer when the export is cancelled.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import Select

from ..exports.pdf import PDF_MIMETYPE, PdfError, invoice_pdf
from ..exports.pdf_parts import write_list_pdf
from ..exports.settings import issuer, pdf_part_pages, pdf_render_timeout
from ..exports.summary import ExportContext, invoice_pdf_name
from ..exports.xlsx import XLSX_MIMETYPE, stream_invoices_xlsx
from ..models import Invoice
from ..queries import (
    export_rows,
    invoice_query,
    invoice_row,
    selection_query,
    streamed_entity_rows,
    streamed_rows,
)

Counted = Callable[[Iterable], Iterator]


class ExportFailed(Exception):
    """The export cannot be made; the message says why, for the user."""


def list_query(context: ExportContext, day: date) -> Select:
    """The export's invoices: the filtered list, or the selection's numbers."""
    if context.numbers is None:
        return invoice_query(context.filters, day)
    return selection_query(context.numbers, context.filters, day)


def write_xlsx(out: BinaryIO, context: ExportContext, day: date, counted: Counted):
    """The list's XLSX, exactly as GET /billing/invoices/export.xlsx streams it."""
    rows = streamed_rows(export_rows(list_query(context, day), context.columns))
    with closing(rows):
        for chunk in stream_invoices_xlsx(counted(rows), context):
            out.write(chunk)


def parts_folder(part: Path) -> Path:
    """Where the list PDF's parts wait beside its unfinished file (part)."""
    return part.with_name(part.name + "s")


def write_pdf(out: BinaryIO, context: ExportContext, day: date, counted: Counted):
    """The list PDF of GET /billing/invoices/export.pdf, of any length, in parts.

    The parts are files in a folder beside the unfinished file, removed when
    the export ends whichever way (the sweep removes a killed worker's).
    """
    folder = parts_folder(Path(out.name))
    folder.mkdir()
    rows = streamed_entity_rows(list_query(context, day))
    try:
        with closing(rows):
            write_list_pdf(
                out,
                counted(rows),
                context,
                folder=folder,
                part_pages=pdf_part_pages(),
                render_seconds=pdf_render_timeout(),
            )
    except PdfError as exc:
        raise ExportFailed(str(exc)) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_zip(out: BinaryIO, context: ExportContext, day: date, counted: Counted):
    """One PDF per invoice of the list, in its order, as the bulk zip has them.

    One invoice is loaded and rendered at a time (the session keeps no strong
    reference to it afterwards), so memory does not grow with the invoices.
    """
    stmt = list_query(context, day).with_only_columns(Invoice.number)
    numbers = streamed_rows(stmt)
    sender = issuer()
    static_dir = Path(current_app.static_folder)
    seconds = pdf_render_timeout()
    with closing(numbers), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for (number,) in counted(numbers):
            row = invoice_row(number, day)
            if row is None:
                continue  # deleted (a draft) since the list was read
            try:
                pdf = invoice_pdf(
                    row.Invoice,
                    row.effective_status,
                    sender,
                    static_dir=static_dir,
                    render_seconds=seconds,
                )
            except PdfError as exc:
                raise ExportFailed(f"{number}: {exc}") from exc
            zipped.writestr(invoice_pdf_name(number), pdf)


@dataclass(frozen=True)
class Writer:
    """How a format is written, served, and how often it reports progress."""

    write: Callable[[BinaryIO, ExportContext, date, Counted], None]
    mimetype: str
    # Rows (or invoices) between looks at the clock for a progress write.
    progress_every: int


WRITERS = {
    "xlsx": Writer(write_xlsx, XLSX_MIMETYPE, 500),
    # A row of the list PDF takes about 4 ms.
    "pdf": Writer(write_pdf, PDF_MIMETYPE, 50),
    # An invoice PDF takes about 0.1 s.
    "zip": Writer(write_zip, "application/zip", 1),
}
