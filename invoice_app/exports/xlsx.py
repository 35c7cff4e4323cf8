"""The filtered invoice list as an XLSX workbook, streamed as it is written.

Memory stays flat however many rows match: each row of the Invoices sheet is
turned into XML straight away (sheet_xml.py says why not through openpyxl's
cells), and that XML goes into a zip entry whose compressed bytes are handed to
the caller every few hundred rows, so the download starts with the first rows and
nothing (not even a temporary file) grows with the row count. openpyxl writes the
rest: styles, the "Export info" sheet, the package parts. Zip entries of unknown
size carry data descriptors, which Excel, LibreOffice and openpyxl read; one entry
holds up to 2 GiB of sheet XML (about five million rows).

Cells that hold user data (invoice number, client name and e-mail, notes, the
search text) are always text, never formulas (OWASP, "CSV injection"): a value that
starts with a formula trigger keeps its exact text and is marked with Excel's
quote prefix, which is what typing a leading apostrophe does, so it stays text
when someone edits the cell too. Characters XML cannot hold are dropped.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from ..columns import Column, export_columns
from ..money import currency_places
from . import sheet_xml
from .summary import ExportContext, RunningTotals

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (header, width in characters) of the Invoices sheet's fixed columns, in
# order: the user guide's five, one value a column, and when it was paid. The
# optional columns the user shows (columns.py) follow, in their order.
COLUMNS = (
    ("Invoice number", 20),
    ("Client name", 34),
    ("Billing period", 13),
    ("Usage cost", 16),
    ("Payable", 16),
    ("Due date", 12),
    ("Status", 11),
    ("Paid date", 12),
)
DATE_FORMAT = "yyyy-mm-dd"
PERIOD_FORMAT = "yyyy-mm"
# Spreadsheet apps (Excel, LibreOffice, Google Sheets) treat text starting with one
# of these as a formula when it is typed, pasted or edited. The full-width forms
# count too in East Asian input modes.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
HEADER_STYLE = {
    "font": Font(bold=True),
    "fill": PatternFill("solid", fgColor="E4E7EB"),
    "alignment": Alignment(vertical="center"),
}
# Rows between two hand-overs of compressed bytes to the response.
FLUSH_EVERY = 500


# What XML 1.0 cannot hold: control characters but tab, LF and CR; lone
# surrogates (not characters; they cannot even be encoded as UTF-8); U+FFFE and
# U+FFFF. openpyxl's own ILLEGAL_CHARACTERS_RE covers only the first kind.
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(value: str | None) -> str:
    """Text without the characters an XLSX cannot hold."""
    return XML_ILLEGAL.sub("", value or "")


def needs_quote_prefix(text: str) -> bool:
    """Would a spreadsheet read this text as a formula or an error value?"""
    return bool(text) and (text[0] in FORMULA_TRIGGERS or text in ERROR_CODES)


def amount_format(currency: str) -> str:
    """An Excel number format for amounts in a currency: '#,##0.00 "EUR"'."""
    places = currency_places(currency)
    code = re.sub(r"[^A-Z]", "", currency.upper())
    return ("#,##0." + "0" * places if places else "#,##0") + f' "{code}"'


class _CellMaker:
    """openpyxl cells for the small "Export info" sheet, one styled cell per column.

    A write-only worksheet writes a row as soon as it is appended, so a styled
    cell can be filled again for the next row instead of being made anew.
    """

    def __init__(self, sheet):
        self.sheet = sheet
        self._cells: dict[tuple, object] = {}

    def _cell(self, key: tuple, **style):
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = sheet_xml.styled_cell(self.sheet, **style)
        return cell

    def text(self, column: int, value: str | None):
        """User data as inert text; a formula trigger gets the quote prefix."""
        text = clean_text(value)
        if not needs_quote_prefix(text):
            return text
        cell = self._cell(("text", column), quotePrefix=True)
        cell.value = text
        cell.data_type = "s"  # never "f" (formula) or "e" (error value)
        return cell

    def amount(self, column: int, value: Decimal, currency: str):
        cell = self._cell(
            ("amount", column, currency), number_format=amount_format(currency)
        )
        cell.value = value
        return cell

    def header(self, column: int, title: str):
        return sheet_xml.styled_cell(self.sheet, title, **HEADER_STYLE)


class _InvoiceRows:
    """The Invoices sheet's rows as XML, with its styles registered in the workbook."""

    def __init__(self, sheet, optional: list[Column], day: date):
        self.sheet = sheet
        self.optional = optional
        self.day = day
        self.letters = sheet_xml.column_letters(len(COLUMNS))
        self.optional_letters = sheet_xml.column_letters(len(COLUMNS) + len(optional))[
            len(COLUMNS) :
        ]
        self.header_style = sheet_xml.style_id(sheet, **HEADER_STYLE)
        self.quoted = sheet_xml.style_id(sheet, quotePrefix=True)
        self.period = sheet_xml.style_id(sheet, number_format=PERIOD_FORMAT)
        self.date = sheet_xml.style_id(sheet, number_format=DATE_FORMAT)
        self._amount_styles: dict[str, int] = {}

    @property
    def widths(self) -> list[float]:
        return [width for _, width in COLUMNS] + [c.width for c in self.optional]

    def header(self) -> str:
        titles = [title for title, _ in COLUMNS] + [c.label for c in self.optional]
        letters = self.letters + self.optional_letters
        cells = [
            sheet_xml.text(f"{letter}1", title, self.header_style)
            for letter, title in zip(letters, titles, strict=True)
        ]
        return sheet_xml.row(1, cells)

    def _text(self, ref: str, value: str | None) -> str:
        """User data as inert text; a formula trigger gets the quote prefix."""
        text = clean_text(value)
        style = self.quoted if needs_quote_prefix(text) else 0
        return sheet_xml.text(ref, text, style)

    def _amount_style(self, currency: str) -> int:
        style = self._amount_styles.get(currency)
        if style is None:
            style = self._amount_styles[currency] = sheet_xml.style_id(
                self.sheet, number_format=amount_format(currency)
            )
        return style

    def _optional(self, ref: str, column: Column, row, amount: int) -> str:
        """One optional column's cell, typed by its kind."""
        value = column.value(row, self.day)
        if column.kind == "date":
            return sheet_xml.day(ref, value, self.date)
        if column.kind == "period":
            return sheet_xml.day(ref, value, self.period)
        if column.kind in ("money", "integer"):
            return sheet_xml.number(ref, value, amount if column.kind == "money" else 0)
        return self._text(ref, value)

    def row(self, index: int, row) -> str:
        """One export_rows() row, in COLUMNS order, then the optional columns."""
        a, b, c, d, e, f, g, h = self.letters
        n = str(index)
        amount = self._amount_style(row.currency)
        # Amounts go into the XML as their exact Decimal digits; a spreadsheet
        # holds them as doubles (15 significant digits: every amount to 10**13).
        cells = [
            self._text(a + n, row.number),
            self._text(b + n, row.client_name),
            sheet_xml.day(c + n, row.billing_period, self.period),
            sheet_xml.number(d + n, row.usage_cost, amount),
            sheet_xml.number(e + n, row.payable, amount),
            sheet_xml.day(f + n, row.due_date, self.date),
            sheet_xml.text(g + n, row.effective_status),
            sheet_xml.day(h + n, row.paid_date, self.date),
        ]
        for letter, column in zip(self.optional_letters, self.optional, strict=True):
            cells.append(self._optional(letter + n, column, row, amount))
        return sheet_xml.row(index, cells)


class _ChunkSink:
    """A write-only, unseekable file that hands its bytes over on request."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class _PackageWriter(ExcelWriter):
    """openpyxl's package writer, minus the worksheets already streamed."""

    def write_worksheet(self, ws):
        if not getattr(ws, "_streamed", False):
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._rels = RelationshipList()
        self.manifest.append(ws)


def _write_info_sheet(sheet, context: ExportContext, totals: RunningTotals) -> None:
    """The second sheet: which filters made the file, when, by whom, totals."""
    cells = _CellMaker(sheet)
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 34
    for letter in "CDE":
        sheet.column_dimensions[letter].width = 18
    generated = context.generated_at
    title = sheet_xml.styled_cell(
        sheet, "Invoice export", font=Font(bold=True, size=14)
    )
    sheet.append([title])
    sheet.append([])
    zone = generated.tzname() or "UTC"
    stamp = sheet_xml.styled_cell(
        sheet,
        generated.replace(tzinfo=None),
        number_format="yyyy-mm-dd hh:mm:ss",
        alignment=Alignment(horizontal="left"),
    )
    sheet.append([f"Generated at ({zone})", stamp])
    sheet.append(["Generated by", cells.text(2, context.generated_by)])
    sheet.append(["Invoices", totals.count])
    sheet.append([])
    sheet.append([cells.header(1, "Filters")])
    for label, value in context.filter_lines:
        sheet.append([label, cells.text(2, value)])
    sheet.append([])
    headers = ("Status", "Currency", "Invoices", "Usage cost", "Payable")
    sheet.append([cells.header(i, h) for i, h in enumerate(headers, 1)])
    for status, currency, total in totals.per_status():
        sheet.append(
            [
                status,
                clean_text(currency),
                total.count,
                cells.amount(4, total.usage_cost, currency),
                cells.amount(5, total.payable, currency),
            ]
        )
    sheet.append([])
    sheet.append([cells.header(i, h) for i, h in enumerate(headers, 1)])
    for currency, total in totals.per_currency():
        sheet.append(
            [
                "All",
                clean_text(currency),
                total.count,
                cells.amount(4, total.usage_cost, currency),
                cells.amount(5, total.payable, currency),
            ]
        )


def stream_invoices_xlsx(rows: Iterable, context: ExportContext) -> Iterator[bytes]:
    """The invoices (export_rows() rows) as an XLSX file, in chunks of bytes."""
    sink = _ChunkSink()
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Invoice Manager"
    workbook.properties.title = "Invoices"
    workbook.properties.created = context.generated_at.replace(tzinfo=None)
    sheet = workbook.create_sheet("Invoices")
    sheet._id = 1
    optional = export_columns(context.columns)
    invoice_rows = _InvoiceRows(sheet, optional, context.generated_at.date())
    totals = RunningTotals()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        # The sheet's XML goes straight into its zip entry as rows arrive.
        member = zipfile.ZipInfo(
            sheet.path[1:], date_time=context.generated_at.timetuple()[:6]
        )
        member.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(member, "w") as entry:
            xml = [
                sheet_xml.sheet_start(invoice_rows.widths, frozen_rows=1),
                invoice_rows.header(),
            ]
            written = 0
            for row in rows:
                written += 1
                xml.append(invoice_rows.row(written + 1, row))
                totals.add(
                    row.effective_status, row.currency, row.usage_cost, row.payable
                )
                if written % FLUSH_EVERY == 0:
                    entry.write("".join(xml).encode())
                    xml.clear()
                    if chunk := sink.take():
                        yield chunk
            # The filter's range is known only now; workbook.xml names it too.
            last = get_column_letter(len(COLUMNS) + len(optional))
            sheet.auto_filter.ref = f"A1:{last}{written + 1}"
            xml.append(sheet_xml.sheet_end(sheet.auto_filter.ref))
            entry.write("".join(xml).encode())
        sheet._streamed = True
        _write_info_sheet(workbook.create_sheet("Export info"), context, totals)
        _PackageWriter(workbook, archive).write_data()
    yield sink.take()
