"""A big worksheet written as SpreadsheetML text, row by row.

openpyxl's write-only worksheet makes a cell object for every value, checks its
type, and writes it through lxml; a cell handed to it already styled costs a
formatted exception inside append() on top. For a 100,000-row export that was
two thirds of the time (benchmarks/README.md). The Invoices sheet has fixed
columns of three kinds (text, number, date), so its rows are written here as
the same XML openpyxl writes for such cells: inline strings, numbers, and dates
as serial day numbers with a number format. openpyxl still owns everything else
in the file: the styles that the `s` indexes point to (style_id() registers them
in the workbook), the small sheets, and the package parts.

Callers pass text that clean_text() has made XML-safe; this module escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def styled_cell(sheet, value=None, **style) -> WriteOnlyCell:
    """An openpyxl cell of sheet with style attributes (number_format=…, font=…)."""
    cell = WriteOnlyCell(sheet, value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def style_id(sheet, **style) -> int:
    """The index of a cell style (number_format=…, font=…) in sheet's workbook.

    Asking openpyxl for the id adds the style to the workbook, so it is in the
    styles part openpyxl writes when the file is finished.
    """
    return styled_cell(sheet, **style).style_id


def column_letters(count: int) -> list[str]:
    return [get_column_letter(index) for index in range(1, count + 1)]


def sheet_start(widths: Sequence[float], frozen_rows: int = 0) -> str:
    """Everything before the first row: view (frozen header), column widths."""
    pane = ""
    if frozen_rows:
        top = f"A{frozen_rows + 1}"
        pane = (
            f'<pane ySplit="{frozen_rows}" topLeftCell="{top}" '
            'activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/>'
        )
    cols = "".join(
        f'<col width="{width}" customWidth="1" min="{index}" max="{index}"/>'
        for index, width in enumerate(widths, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{SHEET_NS}">'
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/>'
        "</sheetPr>"
        f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
        '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>"
    )


def sheet_end(auto_filter: str | None = None) -> str:
    """Everything after the last row; auto_filter is a range such as A1:K90."""
    autofilter = f'<autoFilter ref="{auto_filter}"/>' if auto_filter else ""
    return (
        f"</sheetData>{autofilter}"
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
        'footer="0.5"/></worksheet>'
    )


def row(index: int, cells: Sequence[str]) -> str:
    return f'<row r="{index}">{"".join(cells)}</row>'


def _escape(text: str) -> str:
    # Most values hold none of these; checking first is cheaper than replacing.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        # A bare CR would be read back as LF (XML end-of-line handling).
        text = text.replace("\r", "&#13;")
    return text


def text(ref: str, value: str, style: int = 0) -> str:
    """A string cell, or nothing for empty text (an empty cell)."""
    if not value:
        return ""
    space = ""
    if value[0].isspace() or value[-1].isspace():
        space = ' xml:space="preserve"'  # or readers drop the outer spaces
    styled = f' s="{style}"' if style else ""
    return (
        f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{_escape(value)}</t>'
        "</is></c>"
    )


def number(ref: str, value: Decimal | int | None, style: int = 0) -> str:
    """A number cell with its exact digits (never exponent notation)."""
    if value is None:
        return ""
    styled = f' s="{style}"' if style else ""
    digits = format(value, "f") if isinstance(value, Decimal) else str(int(value))
    return f'<c r="{ref}"{styled} t="n"><v>{digits}</v></c>'


@lru_cache(maxsize=8192)
def _serial(value: date) -> str:
    # A whole day: Excel's serial number in the 1900 date system, the same
    # openpyxl writes (including its leap-year-1900 correction).
    return str(int(to_excel(value)))


def day(ref: str, value: date | None, style: int) -> str:
    """A date cell: its serial day number, shown through style's date format."""
    if value is None:
        return ""
    return f'<c r="{ref}" s="{style}" t="n"><v>{_serial(value)}</v></c>'
