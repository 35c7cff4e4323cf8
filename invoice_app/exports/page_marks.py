"""What is drawn on finished PDF pages: "Page N of M", a footer line, watermarks.

xhtml2pdf can only print "of M" by laying the whole document out twice; drawing
the numbers on afterwards, once the page count is known, halves the time a list
takes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from .fonts import register_text_fonts

FOOTER_COLOR = HexColor("#52606d")
MARGIN = 34  # points from the page edge to the footer text (12 mm)


@dataclass(frozen=True)
class Watermark:
    """Large diagonal text across every page, with an optional line beneath."""

    text: str
    color: str
    detail: str = ""


DRAFT = Watermark("DRAFT", "#7b8794")
VOID = Watermark("VOID", "#b91c1c")


def paid_mark(detail: str) -> Watermark:
    return Watermark("PAID", "#15803d", detail)


def _draw_watermark(canvas: Canvas, mark: Watermark, width: float, height: float):
    _, bold = register_text_fonts()
    canvas.saveState()
    canvas.translate(width / 2, height / 2)
    canvas.rotate(30)
    color = HexColor(mark.color)
    canvas.setFillColor(color, alpha=0.16)
    canvas.setStrokeColor(color, alpha=0.35)
    size = min(width, height) / 3.2
    canvas.setFont(bold, size)
    canvas.drawCentredString(0, -size / 3, mark.text)
    if mark.detail:
        canvas.setFillColor(color, alpha=0.45)
        canvas.setFont(bold, size / 6)
        canvas.drawCentredString(0, -size / 3 - size / 4, mark.detail)
    canvas.restoreState()


def mark_pages(
    pdf: bytes,
    *,
    footer: str = "",
    watermark: Watermark | None = None,
    first: int = 1,
    total: int | None = None,
) -> bytes:
    """The PDF with page numbers, a footer line and a watermark drawn on it.

    A part of a longer document (exports/pdf_parts.py) is numbered from first
    out of total; a whole one from 1 out of its own page count.
    """
    regular, _ = register_text_fonts()
    reader = PdfReader(io.BytesIO(pdf))
    if total is None:
        total = len(reader.pages)
    overlay = io.BytesIO()
    canvas = Canvas(overlay, invariant=True)
    for number, page in enumerate(reader.pages, first):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        canvas.setPageSize((width, height))
        if watermark is not None:
            _draw_watermark(canvas, watermark, width, height)
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(FOOTER_COLOR)
        canvas.drawString(MARGIN, MARGIN / 2 + 4, footer)
        canvas.drawRightString(
            width - MARGIN, MARGIN / 2 + 4, f"Page {number} of {total}"
        )
        canvas.showPage()
    canvas.save()
    marks = PdfReader(overlay)
    writer = PdfWriter(clone_from=reader)
    for page, mark in zip(writer.pages, marks.pages, strict=True):
        page.merge_page(mark)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
