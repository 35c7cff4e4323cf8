"""The Invoices sheet's hand-written XML reads back exactly like openpyxl's own.

Each case writes the same rows twice, once through the export and once with plain
openpyxl cells carrying the same styles, then opens both files with openpyxl and
compares every cell: value, type, number format, quote prefix.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from invoice_app.columns import COLUMNS
from invoice_app.exports import sheet_xml, xlsx
from invoice_app.exports.summary import ExportContext
from invoice_app.filters import InvoiceFilters

TEXTS = [
    "Acme & Sons <Cloud> Ltd",
    "  leading and trailing spaces  ",
    "line one\nline two",
    "carriage\r\nreturn",
    "tab\tinside",
    "Müller GmbH",
    "株式会社さくらクラウド",
    "Зелёный Парк",
    "شركة السحاب",
    "emoji 🧾 outside the BMP",
    "]]> and &amp; literally",
    "\"quoted\" 'text'",
    "=1+2",
    "#DIV/0!",
]
AMOUNTS = [
    Decimal("0"),
    Decimal("-40.0000"),
    Decimal("100.5"),
    Decimal("1E+3"),
    Decimal("9999999999999.99"),  # 15 digits: what a spreadsheet's double holds
    Decimal("0.0001"),
]
DATES = [date(1900, 3, 1), date(2000, 2, 29), date(2025, 5, 1), date(2099, 12, 31)]


def row(index: int, **overrides) -> SimpleNamespace:
    values = {
        "number": f"INV-{index}",
        "client_name": TEXTS[index % len(TEXTS)],
        "client_email": f"c{index}@example.test",
        "billing_period": DATES[index % len(DATES)],
        "currency": ("USD", "JPY", "KWD", "EUR")[index % 4],
        "usage_cost": AMOUNTS[index % len(AMOUNTS)],
        "payable": AMOUNTS[(index + 1) % len(AMOUNTS)],
        "issue_date": DATES[(index + 1) % len(DATES)],
        "due_date": DATES[(index + 2) % len(DATES)],
        "effective_status": ("DUE", "OVER_DUE", "PAID")[index % 3],
        "paid_date": None if index % 3 else DATES[index % len(DATES)],
        "amount_paid": AMOUNTS[(index + 3) % len(AMOUNTS)],
        "notes": TEXTS[(index + 5) % len(TEXTS)],
    }
    return SimpleNamespace(**{**values, **overrides})


# Every kind of optional column (columns.py) after the fixed ones.
OPTIONAL = (
    "issue_date",
    "currency",
    "client_email",
    "notes",
    "balance_due",
    "days_overdue",
)
EXPORTED_AT = datetime(2025, 7, 15, 12, tzinfo=UTC)


def exported(rows) -> openpyxl.Workbook:
    context = ExportContext(InvoiceFilters(columns=OPTIONAL), EXPORTED_AT, "a@b.test")
    data = b"".join(xlsx.stream_invoices_xlsx(rows, context))
    return openpyxl.load_workbook(io.BytesIO(data))


def through_openpyxl(rows) -> openpyxl.Workbook:
    """The same rows the ordinary way: one openpyxl cell per value."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Invoices")
    sheet.append(
        [title for title, _ in xlsx.COLUMNS] + [COLUMNS[k].label for k in OPTIONAL]
    )

    def cell(value, **style):
        made = WriteOnlyCell(sheet, value)
        for name, setting in style.items():
            setattr(made, name, setting)
        return made

    def text(value):
        value = xlsx.clean_text(value)
        if xlsx.needs_quote_prefix(value):
            return cell(value, quotePrefix=True, data_type="s")
        return value

    for r in rows:
        amount = xlsx.amount_format(r.currency)
        balance = r.payable - r.amount_paid if r.effective_status != "PAID" else 0
        late = (EXPORTED_AT.date() - r.due_date).days
        sheet.append(
            [
                text(r.number),
                text(r.client_name),
                cell(r.billing_period, number_format=xlsx.PERIOD_FORMAT),
                cell(r.usage_cost, number_format=amount),
                cell(r.payable, number_format=amount),
                cell(r.due_date, number_format=xlsx.DATE_FORMAT),
                r.effective_status,
                cell(r.paid_date, number_format=xlsx.DATE_FORMAT)
                if r.paid_date
                else None,
                cell(r.issue_date, number_format=xlsx.DATE_FORMAT),
                text(r.currency),
                text(r.client_email),
                text(r.notes),
                cell(balance, number_format=amount),
                late if r.effective_status == "OVER_DUE" else None,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def cells(book) -> list[list[tuple]]:
    return [
        [
            (c.value, c.data_type, c.number_format, bool(c.quotePrefix))
            for c in sheet_row
        ]
        for sheet_row in book["Invoices"].iter_rows(min_row=2, max_col=14)
    ]


def test_rows_read_back_like_openpyxl_cells():
    rows = [row(i) for i in range(48)]
    ours, theirs = cells(exported(rows)), cells(through_openpyxl(rows))
    assert len(ours) == len(rows)
    assert ours == theirs


@pytest.mark.parametrize("text", TEXTS)
def test_text_keeps_every_character(text):
    sheet = exported([row(0, client_name=text)])["Invoices"]
    assert sheet["B2"].value == text
    assert sheet["B2"].data_type == "s"


@pytest.mark.parametrize("amount", AMOUNTS)
def test_amounts_are_numbers_with_their_value(amount):
    sheet = exported([row(0, payable=amount, currency="USD")])["Invoices"]
    assert sheet["E2"].data_type == "n"
    assert Decimal(str(sheet["E2"].value)) == amount
    assert sheet["E2"].number_format == '#,##0.00 "USD"'


@pytest.mark.parametrize("day", DATES)
def test_dates_are_dates_in_the_1900_system(day):
    sheet = exported([row(0, due_date=day)])["Invoices"]
    assert sheet["F2"].is_date
    assert sheet["F2"].value == datetime(day.year, day.month, day.day)


def test_empty_values_leave_the_cell_empty():
    sheet = exported([row(1, client_email="", paid_date=None)])["Invoices"]
    assert sheet["K2"].value is None and sheet["H2"].value is None
    assert sheet["G2"].value == "OVER_DUE"


def test_numbers_are_written_with_exact_digits():
    # Wider than a double: the file still says exactly what the database holds.
    assert "<v>99999999999999.99</v>" in sheet_xml.number(
        "A1", Decimal("99999999999999.99")
    )
    assert "<v>-40.0000</v>" in sheet_xml.number("A1", Decimal("-40.0000"))


def test_number_never_uses_exponent_notation():
    assert sheet_xml.number("A1", Decimal("1E+3")) == (
        '<c r="A1" t="n"><v>1000</v></c>'
    )
    assert "E" not in sheet_xml.number("A1", Decimal("1E-7"))


def random_texts(count: int, seed: int = 6) -> list[str]:
    """Strings from every corner of Unicode, XML-illegal code points included."""
    rng = random.Random(seed)
    pools = [
        (0x00, 0x7F),  # ASCII with its control characters
        (0x80, 0x24F),  # Latin-1 and extended Latin
        (0x0590, 0x06FF),  # Hebrew, Arabic
        (0x3000, 0x30FF),  # CJK punctuation, kana
        (0xD800, 0xDFFF),  # lone surrogates: not characters at all
        (0xFFF0, 0xFFFF),  # specials, U+FFFE and U+FFFF
        (0x1F300, 0x1F6FF),  # emoji
        (0x10FFF0, 0x10FFFF),  # the last plane
    ]
    texts = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(1, 12)):
            low, high = rng.choice(pools)
            chars.append(chr(rng.randint(low, high)))
        texts.append("".join(chars))
    return texts


def test_any_text_gives_a_readable_file_with_every_legal_character():
    texts = random_texts(400)
    rows = [row(i, client_name=text) for i, text in enumerate(texts)]
    sheet = exported(rows)["Invoices"]
    got = [
        r[0] for r in sheet.iter_rows(min_row=2, min_col=2, max_col=2, values_only=True)
    ]
    assert len(got) == len(texts)
    for text, value in zip(texts, got, strict=True):
        legal = xlsx.clean_text(text)
        assert (value or "") == legal
        assert all(
            c in "\t\n\r"
            or "\x20" <= c <= "\ud7ff"
            or "\ue000" <= c <= "\ufffd"
            or c >= "\U00010000"
            for c in legal
        )
