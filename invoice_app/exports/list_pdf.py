"""The filtered invoice list as a PDF, laid out with ReportLab's platypus.

xhtml2pdf (which lays out with platypus too) spent half of a list's time
parsing HTML and CSS, and wrapped every cell twice to lay it out and draw it.
Here a cell is a plain string, drawn as it is, wherever its text fits its
column on one line; only text wider than its column becomes a Paragraph, which
wraps. Text a DejaVu Sans face cannot draw is a Paragraph too, with a font per
run of characters (fonts.font_runs), so it stays text in the file.

A Paragraph parses markup (<font>, <img>, <a>, entities), so user text goes
into one only XML-escaped; it prints literally and nothing is ever fetched (the
layout has no image and no link). A render past render_seconds stops with
PdfTimeout at the next page.

A list is one table per page, each with its header row, cut by page_chunks():
fewer rows on the first page, under the heading. A table too tall for its page
(names wrapping onto many lines) goes on over the next one, header repeated.
A request makes lists of up to PDF_MAX_ROWS as one document (TooManyRowsForPdf
past it, before any work); longer ones are made in the background, in parts
of the same pages (pdf_parts.py). Page numbers and the footer are drawn on
afterwards (page_marks.py), once the page count is known.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Sequence
from xml.sax.saxutils import escape

from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getDescent, stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from ..columns import Column, cell_value, export_columns
from ..web.formatting import column_text, day, money, period
from .fonts import font_runs, needs_fallback, register_text_fonts
from .page_marks import mark_pages
from .pdf import PdfTimeout
from .summary import ExportContext, RunningTotals

# Rows per page of the list: a page holds about 36 one-line rows; the margin
# leaves room for client names that wrap onto a second line.
FIRST_PAGE_ROWS = 24
PAGE_ROWS = 32
# Widths (percent of the page) of the list's fixed columns, in order: number,
# client, billing period, due date, status, usage cost, payable.
LIST_WIDTHS = (15, 31, 10, 10, 9, 12.5, 12.5)
FIXED_LABELS = (
    "Invoice No",
    "Client",
    "Billing period",
    "Due date",
    "Status",
    "Usage cost",
    "Payable",
)
FIXED_NUMERIC = (False, False, False, False, False, True, True)
# An optional column's share of the page; long text gets more. The fixed
# columns shrink to leave them room.
OPTIONAL_WIDTH = 8
WIDE_COLUMNS = {"notes": 14, "client_email": 14}
TOTALS_LABELS = ("Currency", "Invoices", "Usage cost", "Payable")
TOTALS_WIDTH = 0.6  # of the page

# A4 landscape; margins top, right, bottom, left 12, 12, 16, 12 mm.
PAGE_SIZE = landscape(A4)
TOP, RIGHT, BOTTOM, LEFT = 12 * mm, 12 * mm, 16 * mm, 12 * mm
FRAME_WIDTH = PAGE_SIZE[0] - LEFT - RIGHT
FRAME_HEIGHT = PAGE_SIZE[1] - TOP - BOTTOM
FONT_SIZE = 7.5
# xhtml2pdf's line height, which the list had.
LEADING = FONT_SIZE * 1.5
TEXT_COLOR = HexColor("#1f2933")
MUTED_COLOR = HexColor("#52606d")
HEADER_BACKGROUND = HexColor("#e4e7eb")
RULE_COLOR = HexColor("#d9e2ec")
RULE_WIDTH = 0.4
# Cell padding: top, bottom; left and right are CELL_SIDE.
HEADER_PADDING = (1.2 * mm, 0.8 * mm)
ROW_PADDING = (0.9 * mm, 0.5 * mm)
CELL_SIDE = 1 * mm
META_PADDING = 0.5 * mm
LABEL_WIDTH = 28 * mm


def page_chunks(rows: Sequence, first: int, rest: int) -> Iterator[Sequence]:
    """rows cut into one slice per page: the first page has room for fewer."""
    start, size = 0, first
    while start < len(rows):
        yield rows[start : start + size]
        start, size = start + size, rest


def list_widths(optional: Sequence[Column]) -> tuple[list[float], list[float]]:
    """Percent widths of the fixed and the optional columns, adding up to 100."""
    extra = [WIDE_COLUMNS.get(c.key, OPTIONAL_WIDTH) for c in optional]
    scale = max(100 - sum(extra), 40) / 100
    fixed = [round(width * scale, 1) for width in LIST_WIDTHS]
    return fixed, extra


def _stamp(context: ExportContext) -> str:
    moment = context.generated_at
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".strip()


def list_footer(context: ExportContext, title: str) -> str:
    """The line at the foot of every page of a list."""
    return f"{title} · generated {_stamp(context)}"


def add_row(totals: RunningTotals, row) -> None:
    """Count an invoice_query() row into totals."""
    invoice = row.Invoice
    totals.add(
        row.effective_status, invoice.currency, invoice.usage_cost, invoice.payable
    )


def _style(name: str, font: str, **values) -> ParagraphStyle:
    values = {
        "fontSize": FONT_SIZE,
        "leading": LEADING,
        "textColor": TEXT_COLOR,
        **values,
    }
    return ParagraphStyle(name, fontName=font, **values)


class _Cells:
    """Cell contents: the text itself where it fits, else a Paragraph that wraps."""

    def __init__(self):
        regular, bold = register_text_fonts()
        self.fonts = {False: regular, True: bold}
        self.styles = {
            (bold, right): _style(
                f"cell-{bold}-{right}",
                self.fonts[bold],
                alignment=TA_RIGHT if right else 0,
            )
            for bold in (False, True)
            for right in (False, True)
        }

    def __call__(self, text: str, room: float, *, bold=False, right=False):
        """text in a cell with room (points) for it between its paddings."""
        # Whitespace runs (a note's line breaks too) read as one space, as HTML
        # had them.
        text = " ".join(text.split())
        font = self.fonts[bold]
        if needs_fallback(text):
            return Paragraph(marked_up(text, font), self.styles[(bold, right)])
        if stringWidth(text, font, FONT_SIZE) <= room:
            return text
        return Paragraph(escape(text), self.styles[(bold, right)])


def marked_up(text: str, font: str) -> str:
    """text as Paragraph markup that prints it literally, a font per script run."""
    return "".join(
        escape(chars) if face == font else f'<font name="{face}">{escape(chars)}</font>'
        for face, chars in font_runs(text, font)
    )


def _raised(
    padding: tuple[float, float], size: float = FONT_SIZE
) -> tuple[float, float]:
    """Top and bottom padding that set a cell's text where xhtml2pdf set it.

    ReportLab puts the first baseline a font size below the top of a cell;
    xhtml2pdf put it higher by the font's descent. The row keeps its height.
    """
    regular, _ = register_text_fonts()
    lift = -getDescent(regular, size)
    top, bottom = padding
    return top - lift, bottom + lift


def _grid(numeric: Sequence[bool]) -> TableStyle:
    """A table's style: a header row, then rows ruled beneath; numbers right."""
    regular, bold = register_text_fonts()
    head_top, head_bottom = _raised(HEADER_PADDING)
    row_top, row_bottom = _raised(ROW_PADDING)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTNAME", (0, 0), (-1, 0), bold),
        ("FONTSIZE", (0, 0), (-1, -1), FONT_SIZE),
        ("LEADING", (0, 0), (-1, -1), LEADING),
        ("TEXTCOLOR", (0, 0), (-1, -1), TEXT_COLOR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_SIDE),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_SIDE),
        ("TOPPADDING", (0, 0), (-1, 0), head_top),
        ("BOTTOMPADDING", (0, 0), (-1, 0), head_bottom),
        ("TOPPADDING", (0, 1), (-1, -1), row_top),
        ("BOTTOMPADDING", (0, 1), (-1, -1), row_bottom),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
        ("LINEBELOW", (0, 1), (-1, -1), RULE_WIDTH, RULE_COLOR),
    ]
    commands += [
        ("ALIGN", (i, 0), (i, -1), "RIGHT") for i, right in enumerate(numeric) if right
    ]
    return TableStyle(commands)


class _Deadline(Flowable):
    """Nothing on the page; stops the render once it is past its time."""

    def __init__(self, ends: float, seconds: float):
        super().__init__()
        self.ends, self.seconds = ends, seconds

    def wrap(self, available_width, available_height):
        if time.monotonic() > self.ends:
            raise PdfTimeout(self.seconds)
        return 0, 0

    def draw(self):
        pass


class ListLayout:
    """The flowables of a list's pages: heading, one table per page, totals."""

    def __init__(self, context: ExportContext, totals: RunningTotals, title: str):
        self.context, self.totals, self.title = context, totals, title
        self.day = context.generated_at.date()
        self.cell = _Cells()
        self.optional = export_columns(context.columns)
        fixed, extra = list_widths(self.optional)
        self.widths = [FRAME_WIDTH * percent / 100 for percent in (*fixed, *extra)]
        self.numeric = [*FIXED_NUMERIC, *(c.numeric for c in self.optional)]
        labels = [*FIXED_LABELS, *(c.label for c in self.optional)]
        self.header = self._cells(labels, self.widths, self.numeric, bold=True)
        self.grid = _grid(self.numeric)
        _, bold = register_text_fonts()
        self.h1 = _style("h1", bold, fontSize=15, leading=15 * 1.5)
        self.h2 = _style("h2", bold, fontSize=10, leading=10 * 1.5)
        self.empty = _style("empty", self.cell.fonts[False], textColor=MUTED_COLOR)

    def _cells(self, texts, widths, numeric, *, bold=False) -> list:
        return [
            self.cell(text, width - 2 * CELL_SIDE, bold=bold, right=right)
            for text, width, right in zip(texts, widths, numeric, strict=True)
        ]

    def row(self, row) -> list:
        """One invoice_query() row's cells, as the list on screen reads them."""
        invoice, currency = row.Invoice, row.Invoice.currency
        texts = [
            invoice.number,
            row.Client.name,
            period(invoice.billing_period),
            day(invoice.due_date),
            row.effective_status,
            money(invoice.usage_cost, currency),
            money(invoice.payable, currency),
            *(
                column_text(c, cell_value(c.key, row, self.day), currency)
                for c in self.optional
            ),
        ]
        return self._cells(texts, self.widths, self.numeric)

    def heading(self) -> list[Flowable]:
        """The title and what the list is: filters, count, when and by whom."""
        context = self.context
        lines = [
            *context.filter_lines,
            ("Invoices", f"{self.totals.count:,}"),
            ("Generated", f"{_stamp(context)} by {context.generated_by}"),
        ]
        value_width = FRAME_WIDTH - LABEL_WIDTH
        meta_top, meta_bottom = _raised((META_PADDING, META_PADDING))
        meta = Table(
            [[label, self.cell(value, value_width)] for label, value in lines],
            colWidths=[LABEL_WIDTH, value_width],
            hAlign="LEFT",
            style=[
                ("FONTNAME", (0, 0), (-1, -1), self.cell.fonts[False]),
                ("FONTSIZE", (0, 0), (-1, -1), FONT_SIZE),
                ("LEADING", (0, 0), (-1, -1), LEADING),
                ("TEXTCOLOR", (0, 0), (-1, -1), TEXT_COLOR),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED_COLOR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), meta_top),
                ("BOTTOMPADDING", (0, 0), (-1, -1), meta_bottom),
            ],
        )
        return [self._block(self.title, self.h1, spaceAfter=2 * mm), meta]

    def _block(
        self, text: str, style: ParagraphStyle, padding=(0, 0), **space
    ) -> Table:
        """A paragraph with padding (top, bottom) and space around, as HTML has.

        In a cell of its own, so that its text sits where xhtml2pdf had it, as
        the cells' text does: a Paragraph alone cannot be raised.
        """
        top, bottom = _raised(padding, style.fontSize)
        return Table(
            [[Paragraph(marked_up(" ".join(text.split()), style.fontName), style)]],
            colWidths=[FRAME_WIDTH],
            hAlign="LEFT",
            style=[
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), top),
                ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
            ],
            **space,
        )

    def page(self, rows: Sequence) -> Table:
        """One page's table of rows, under the header row."""
        return Table(
            [self.header, *(self.row(row) for row in rows)],
            colWidths=self.widths,
            repeatRows=1,
            hAlign="LEFT",
            style=self.grid,
        )

    def closing(self) -> list[Flowable]:
        """Totals per currency, summed from the rows of the list."""
        widths = [FRAME_WIDTH * TOTALS_WIDTH / len(TOTALS_LABELS)] * len(TOTALS_LABELS)
        numeric = (False, True, True, True)
        rows = [self._cells(TOTALS_LABELS, widths, numeric, bold=True)]
        for currency, total in self.totals.per_currency():
            texts = (
                currency,
                f"{total.count:,}",
                money(total.usage_cost, currency),
                money(total.payable, currency),
            )
            rows.append(self._cells(texts, widths, numeric))
        style = _grid(numeric)
        if len(rows) == 1:
            rows.append(["None", "", "", ""])
            style.add("SPAN", (0, 1), (-1, 1))
        table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT", style=style)
        heading = self._block(
            "Totals per currency", self.h2, spaceBefore=4 * mm, spaceAfter=mm
        )
        return [heading, table]

    def no_rows(self) -> Table:
        # A paragraph's margin of 1em above and below, and its padding of 4 mm.
        return self._block(
            "No invoices match these filters.",
            self.empty,
            (4 * mm, 4 * mm),
            spaceBefore=FONT_SIZE,
            spaceAfter=FONT_SIZE,
        )


def list_pages(
    chunks: Sequence[Sequence],
    context: ExportContext,
    totals: RunningTotals,
    *,
    title: str,
    render_seconds: float,
    heading: bool = True,
    closing: bool = True,
) -> bytes:
    """The list's pages over chunks (one per page), unnumbered; heading and
    totals if asked (a part of a longer list has one or neither)."""
    ends = time.monotonic() + render_seconds
    layout = ListLayout(context, totals, title)
    story: list[Flowable] = [_Deadline(ends, render_seconds)]
    if heading:
        story += layout.heading()
    for number, chunk in enumerate(chunks):
        if number:
            story += [PageBreak(), _Deadline(ends, render_seconds)]
        story.append(layout.page(chunk))
    if not chunks:
        story.append(layout.no_rows())
    if closing:
        story += layout.closing()
    out = io.BytesIO()
    frame = Frame(
        LEFT,
        BOTTOM,
        FRAME_WIDTH,
        FRAME_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    document = BaseDocTemplate(
        out,
        pagesize=PAGE_SIZE,
        pageTemplates=[PageTemplate(frames=[frame], pagesize=PAGE_SIZE)],
        title=title,
        invariant=True,
    )
    document.build(story)
    return out.getvalue()


def invoice_list_pdf(
    rows: Sequence,
    context: ExportContext,
    *,
    render_seconds: float,
    title: str = "Invoices",
) -> bytes:
    """The invoice list (invoice_query() rows) as a landscape PDF, one document."""
    totals = RunningTotals()
    for row in rows:
        add_row(totals, row)
    chunks = list(page_chunks(rows, FIRST_PAGE_ROWS, PAGE_ROWS))
    pdf = list_pages(
        chunks, context, totals, title=title, render_seconds=render_seconds
    )
    return mark_pages(pdf, footer=list_footer(context, title))
