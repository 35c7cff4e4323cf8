"""The list PDF of any length, in parts, in memory that does not grow with rows.

ReportLab holds a whole document until it is written (a list made at once peaks
about 6 KB a row higher), so a long list is laid out as parts of `part_pages`
pages each, by the very function of the list made at once (list_pdf.list_pages):
the first part has the heading, the last the totals, the pages in between only
rows, cut into pages as page_chunks() cuts them. Each part is written to a file
of its own as soon as it is full. Once every row is in, the page count is known;
each part is then stamped ("Page X of Y", footer) while it is small and appended
to the output by PdfConcatenation, which writes each page's objects as it reads
them and keeps only their byte offsets. Peak memory is that of one part.

The first part's heading says how many invoices the list has, known only at
the end; its rows (a bounded number) wait, and it is rendered last.

The list PDF made at once (list_pdf.invoice_list_pdf) stays one document: up to
PDF_MAX_ROWS it is fast enough without parts (benchmarks/README.md).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from .list_pdf import (
    FIRST_PAGE_ROWS,
    PAGE_ROWS,
    add_row,
    list_footer,
    list_pages,
    page_chunks,
)
from .page_marks import mark_pages
from .summary import ExportContext, RunningTotals


def first_part_rows(part_pages: int) -> int:
    """Rows of the first part: a first page, then part_pages - 1 full pages."""
    return FIRST_PAGE_ROWS + (part_pages - 1) * PAGE_ROWS


def write_list_pdf(
    out: BinaryIO,
    rows: Iterable,
    context: ExportContext,
    *,
    folder: Path,
    part_pages: int,
    render_seconds: float,
    title: str = "Invoices",
) -> None:
    """The list PDF of invoice_query() rows into out; parts wait in folder.

    Each part's render has render_seconds.
    """
    totals = RunningTotals()
    head_size, part_size = first_part_rows(part_pages), part_pages * PAGE_ROWS
    head: list = []
    pending: list = []
    parts: list[tuple[Path, int]] = []  # parts after the first: (file, pages)

    def render(chunks: Sequence[Sequence], *, heading: bool, closing: bool) -> bytes:
        return list_pages(
            chunks,
            context,
            totals,
            title=title,
            render_seconds=render_seconds,
            heading=heading,
            closing=closing,
        )

    def keep(pdf: bytes) -> None:
        path = folder / f"part-{len(parts) + 2:05d}.pdf"
        path.write_bytes(pdf)
        parts.append((path, page_count(pdf)))

    for row in rows:
        add_row(totals, row)
        if len(head) < head_size:
            head.append(row)
            continue
        if len(pending) == part_size:
            # Another row follows, so this part is not the last: no totals.
            keep(render(_pages(pending), heading=False, closing=False))
            pending = []
        pending.append(row)
    if pending:
        keep(render(_pages(pending), heading=False, closing=True))
    first = render(
        list(page_chunks(head, FIRST_PAGE_ROWS, PAGE_ROWS)),
        heading=True,
        closing=not pending,
    )
    del head
    total = page_count(first) + sum(pages for _, pages in parts)
    footer = list_footer(context, title)
    document = PdfConcatenation(out)
    document.add(mark_pages(first, footer=footer, total=total))
    number = page_count(first) + 1
    del first
    for path, pages in parts:
        document.add(
            mark_pages(path.read_bytes(), footer=footer, first=number, total=total)
        )
        path.unlink()
        number += pages
    document.close()


def _pages(rows: Sequence) -> list[Sequence]:
    return list(page_chunks(rows, PAGE_ROWS, PAGE_ROWS))


def page_count(pdf: bytes) -> int:
    """How many pages pdf has."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


class PdfConcatenation:
    """One PDF written from whole PDFs appended in turn, page by page.

    pypdf's PdfWriter keeps every page it is given until it writes; this writes
    each appended page and what it refers to (contents, resources, fonts) at
    once, under new object numbers, and keeps only the byte offsets and the
    page numbers, for the cross-reference table and the page tree at the end.
    Objects are not shared between appended PDFs: each part brings its fonts.
    """

    def __init__(self, out: BinaryIO):
        self.out = out
        self.written = 0
        self.offsets: list[int] = []
        self.pages: list[int] = []
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.tree = self._reserve()

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.written += len(data)

    def _reserve(self) -> int:
        self.offsets.append(-1)
        return len(self.offsets)

    def _object(self, number: int, obj: PdfObject) -> None:
        self.offsets[number - 1] = self.written
        body = io.BytesIO()
        obj.write_to_stream(body)
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body.getvalue()))

    def add(self, pdf: bytes) -> None:
        """Append every page of pdf."""
        reader = PdfReader(io.BytesIO(pdf))
        numbers: dict[int, int] = {}
        waiting: list[tuple[int, IndirectObject]] = []

        def renumbered(obj):
            if isinstance(obj, IndirectObject):
                number = numbers.get(obj.idnum)
                if number is None:
                    number = numbers[obj.idnum] = self._reserve()
                    waiting.append((number, obj))
                return IndirectObject(number, 0, None)
            if isinstance(obj, StreamObject):
                copy = (
                    EncodedStreamObject() if "/Filter" in obj else DecodedStreamObject()
                )
                copy._data = obj._data
                copy.update({k: renumbered(v) for k, v in obj.items()})
                return copy
            if isinstance(obj, DictionaryObject):
                return DictionaryObject({k: renumbered(v) for k, v in obj.items()})
            if isinstance(obj, ArrayObject):
                return ArrayObject(renumbered(v) for v in obj)
            return obj

        for page in reader.pages:
            number = self._reserve()
            if page.indirect_reference is not None:
                numbers[page.indirect_reference.idnum] = number
            copy = DictionaryObject(
                {k: renumbered(v) for k, v in page.items() if k != "/Parent"}
            )
            copy[NameObject("/Parent")] = IndirectObject(self.tree, 0, None)
            self._object(number, copy)
            self.pages.append(number)
            # What the page refers to, and what that refers to, once each.
            while waiting:
                target, ref = waiting.pop()
                self._object(target, renumbered(ref.get_object()))

    def close(self) -> None:
        """Write the page tree, the catalogue, the cross-references, the trailer."""
        kids = ArrayObject(IndirectObject(n, 0, None) for n in self.pages)
        tree = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): kids,
                NameObject("/Count"): NumberObject(len(self.pages)),
            }
        )
        self._object(self.tree, tree)
        catalog = self._reserve()
        self._object(
            catalog,
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Catalog"),
                    NameObject("/Pages"): IndirectObject(self.tree, 0, None),
                }
            ),
        )
        start = self.written
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.offsets) + 1)]
        lines += [b"%010d 00000 n \n" % offset for offset in self.offsets]
        self._write(b"".join(lines))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.offsets) + 1, catalog, start)
        )
