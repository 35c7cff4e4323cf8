"""`flask invoices import`: CSV or JSON, every problem reported, all or nothing."""

from __future__ import annotations

import codecs
import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from invoice_app.extensions import db
from invoice_app.importing import INVOICE_COLUMNS, LINE_COLUMNS, import_file
from invoice_app.invoice_numbers import RESERVED
from invoice_app.models import AuditEvent, Client, Invoice, InvoiceLine, Payment

HEADER = ",".join(INVOICE_COLUMNS)
LINES_HEADER = ",".join(LINE_COLUMNS)
NOTHING = "Error: 1 problem(s) found; nothing was imported."

GOOD_CSV = f"""\
{HEADER}
INV-100,Müller GmbH,Billing@Mueller.example,2025-05,EUR,150.00,140.00,2025-06-01,2025-06-30,DUE,,"PO 4711, reserved"
INV-101,Tanaka Robotics,ap@tanaka.example,2025-05,JPY,5000,5000,2025-06-01,2025-07-01,PAID,2025-06-15,
INV-102,Müller GmbH,billing@mueller.example,2025-06,EUR,0,0,,2025-07-31,DRAFT,,
"""  # noqa: E501
GOOD_LINES = f"""\
{LINES_HEADER}
INV-100,Compute (vCPU-hours),1000,0.10,100.00
INV-101,Support plan — Business,1,5000,5000
INV-100,Object storage (GB-months),2000,0.025,50.00
"""

BASE_ROW = {
    "invoice_number": "INV-1",
    "client_name": "Acme Analytics",
    "client_email": "billing@acme.example",
    "billing_period": "2025-05",
    "currency": "EUR",
    "usage_cost": "150.00",
    "payable": "140.00",
    "issue_date": "2025-06-01",
    "due_date": "2025-06-30",
    "status": "DUE",
    "paid_date": "",
    "notes": "",
}


def csv_text(*rows: dict, header: str = HEADER) -> str:
    """A CSV file of invoice rows (dicts of cells) under the header."""
    columns = header.split(",")
    body = [",".join(row.get(c, "") for c in columns) for row in rows]
    return "\n".join([header, *body]) + "\n"


def row(**cells) -> dict:
    return {**BASE_ROW, **cells}


@pytest.fixture
def write(tmp_path):
    """Write text (UTF-8) or bytes to a file in tmp_path; return its path."""

    def write(name: str, content: str | bytes):
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return write


@pytest.fixture
def run(runner):
    """Invoke `invoices import` with arguments, as a user would."""

    def run(*args):
        return runner.invoke(args=["invoices", "import", *map(str, args)])

    return run


def counts() -> tuple[int, int, int]:
    """(invoices, clients, lines) in the database."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Invoice, Client, InvoiceLine)
    )


def invoice(number: str) -> Invoice:
    db.session.expire_all()
    return db.session.scalar(select(Invoice).where(Invoice.number == number))


def error_lines(result) -> list[str]:
    return result.stderr.splitlines()


def assert_rejected(result, *expected: str) -> None:
    """The command failed listing exactly these problems, and said so."""
    assert result.exit_code == 1, result.output
    assert error_lines(result) == [
        *expected,
        f"Error: {len(expected)} problem(s) found; nothing was imported.",
    ]
    assert "Imported" not in result.stdout


# --- good files -------------------------------------------------------------


def test_csv_with_lines_file_imports_everything(app, write, run):
    result = run(
        write("invoices.csv", GOOD_CSV), "--lines", write("lines.csv", GOOD_LINES)
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 3 new and 0 updated invoices.\n"
    assert counts() == (3, 2, 3)
    inv = invoice("INV-100")
    assert inv.client.name == "Müller GmbH"
    assert inv.client.email == "billing@mueller.example"  # stored lower-case
    assert inv.billing_period == date(2025, 5, 1)
    assert (inv.currency, inv.usage_cost, inv.payable) == (
        "EUR",
        Decimal("150.00"),
        Decimal("140.00"),
    )
    assert (inv.issue_date, inv.due_date, inv.paid_date) == (
        date(2025, 6, 1),
        date(2025, 6, 30),
        None,
    )
    assert (inv.status, inv.notes) == ("DUE", "PO 4711, reserved")
    # Lines keep the order of the lines file, even when interleaved.
    assert [(line.position, line.description, line.amount) for line in inv.lines] == [
        (0, "Compute (vCPU-hours)", Decimal("100.00")),
        (1, "Object storage (GB-months)", Decimal("50.00")),
    ]
    assert inv.lines[1].unit_price == Decimal("0.025")
    assert "object storage" in inv.search_text and "müller" in inv.client.search_text
    paid = invoice("INV-101")
    assert (paid.status, paid.paid_date) == ("PAID", date(2025, 6, 15))
    draft = invoice("INV-102")
    assert (draft.issue_date, draft.lines, draft.client_id) == (None, [], inv.client_id)


def test_csv_without_lines_file_gives_invoices_without_lines(app, write, run):
    result = run(write("invoices.csv", GOOD_CSV))

    assert result.exit_code == 0, result.output
    assert counts() == (3, 2, 0)


def test_json_with_lines_keeps_every_digit(app, write, run):
    # Written by hand: JSON numbers that a float would not hold exactly.
    content = """[
      {"invoice_number": "INV-J1", "client_name": "Big Co",
       "client_email": "ap@big.example", "billing_period": "2025-05",
       "currency": "USD", "usage_cost": 99999999999999.99,
       "payable": "99999999999999.99", "issue_date": "2025-06-01",
       "due_date": "2025-06-30", "status": "OVER_DUE", "paid_date": null,
       "notes": "JSON numbers",
       "lines": [
         {"description": "Everything", "quantity": 1,
          "unit_price": "99999999999.99", "amount": 99999999999.99},
         {"description": "Network egress (GB)", "quantity": 833333333333.3333,
          "unit_price": 0.000012, "amount": "10000000.00"},
         {"description": "Reserved instances", "quantity": "1000",
          "unit_price": 99899990000, "amount": 99899990000000.00}
       ]},
      {"invoice_number": "INV-J2", "client_name": "Big Co",
       "client_email": "AP@big.example", "billing_period": "2025-06",
       "currency": "JPY", "usage_cost": 0, "payable": 0,
       "due_date": "2025-07-31", "status": "DRAFT"}
    ]"""
    result = run(write("invoices.json", content))

    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 2 new and 0 updated invoices.\n"
    assert counts() == (2, 1, 3)
    inv = invoice("INV-J1")
    assert inv.usage_cost == inv.payable == Decimal("99999999999999.99")
    assert str(inv.payable) == "99999999999999.99"
    assert inv.status == "OVER_DUE"  # stored as the file says
    egress = inv.lines[1]
    assert egress.unit_price == Decimal("0.000012")
    assert egress.quantity == Decimal("833333333333.3333")
    assert all(
        isinstance(v, Decimal)
        for line in inv.lines
        for v in (line.quantity, line.unit_price, line.amount)
    )
    assert invoice("INV-J2").lines == []
    assert invoice("INV-J2").notes == ""


def test_utf8_bom_is_accepted(app, write, run):
    path = write("invoices.csv", codecs.BOM_UTF8 + GOOD_CSV.encode())
    lines = write("lines.csv", codecs.BOM_UTF8 + GOOD_LINES.encode())

    result = run(path, "--lines", lines)

    assert result.exit_code == 0, result.output
    assert counts() == (3, 2, 3)


def test_crlf_line_ends_and_quoted_cells(app, write, run):
    content = csv_text(row(notes='"two\nlines, ""quoted"""')).replace("\n", "\r\n")
    result = run(write("invoices.csv", content.encode()))

    assert result.exit_code == 0, result.output
    assert invoice("INV-1").notes == 'two\r\nlines, "quoted"'


def test_header_only_imports_nothing(app, write, run):
    result = run(write("invoices.csv", HEADER + "\n"))

    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 0 new and 0 updated invoices.\n"
    assert counts() == (0, 0, 0)


def test_import_file_returns_counts(app, write):
    result = import_file(write("invoices.csv", GOOD_CSV))

    assert (result.created, result.updated) == (3, 0)


def test_line_amount_may_round_either_way_at_half_a_cent(app, write, run):
    lines = f"""{LINES_HEADER}
INV-1,Tiny,3,0.333333,1.00
INV-1,Half up,1,0.125,0.13
INV-1,Half even,1,0.125,0.12
INV-1,Credit,-1,20,-20.00
"""
    invoices = csv_text(row(usage_cost="-18.75"))

    result = run(write("invoices.csv", invoices), "--lines", write("lines.csv", lines))

    assert result.exit_code == 0, result.output
    assert sum(line.amount for line in invoice("INV-1").lines) == Decimal("-18.75")


# --- clients ----------------------------------------------------------------


def test_existing_client_is_matched_by_email_and_renamed(app, write, run, make_invoice):
    old = make_invoice(
        number="INV-OLD",
        client_name="Acme Old Name",
        client_email="Billing@Acme.Example",
    )
    client_id = old.client_id

    result = run(write("invoices.csv", csv_text(row())))

    assert result.exit_code == 0, result.output
    assert counts()[1] == 1
    new = invoice("INV-1")
    assert new.client_id == client_id
    assert new.client.name == "Acme Analytics"
    # The rename reaches the client's search text, so its older invoices too.
    assert "acme analytics" in invoice("INV-OLD").client.search_text


def test_one_email_with_two_names_is_refused(app, write, run):
    content = csv_text(
        row(), row(invoice_number="INV-2", client_name="ACME Analytics Ltd")
    )

    result = run(write("invoices.csv", content))

    assert_rejected(
        result,
        "invoices.csv: row 3, column client_name: 'ACME Analytics Ltd' differs from "
        "'Acme Analytics', the name given for billing@acme.example on row 2",
    )
    assert counts() == (0, 0, 0)


# --- bad cells --------------------------------------------------------------

DATE = "is not a valid date (YYYY-MM-DD)"
MONTH = "is not a valid month (YYYY-MM)"
NUMBER = "is not a number like 1234.50"
STATUS = "is not a status (DRAFT, DUE, OVER_DUE, PAID, CANCEL)"
CURRENCY = "is not an ISO 4217 currency code (upper-case, USD)"
REQUIRED = "a value is required"
NUMBER_CHARS = (
    "may hold only letters, digits, '.', '_' and '-', starting with a letter or "
    "digit (it is part of the invoice's address)"
)
NUMBER_KEPT = "is kept for the app's own addresses; use another number"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"due_date": "2024-02-30"}, "due_date", f"'2024-02-30' {DATE}"),
        ({"issue_date": "2025/06/01"}, "issue_date", f"'2025/06/01' {DATE}"),
        ({"due_date": "20250630"}, "due_date", f"'20250630' {DATE}"),
        ({"usage_cost": "1e3"}, "usage_cost", f"'1e3' {NUMBER}"),
        ({"payable": '"1,000.00"'}, "payable", f"'1,000.00' {NUMBER}"),
        ({"payable": "NaN"}, "payable", f"'NaN' {NUMBER}"),
        ({"payable": "0x10"}, "payable", f"'0x10' {NUMBER}"),
        (
            {"payable": "12.345"},
            "payable",
            "12.345 has more decimal places than EUR allows (2)",
        ),
        (
            {"currency": "JPY", "usage_cost": "150", "payable": "10.5"},
            "payable",
            "10.5 has more decimal places than JPY allows (0)",
        ),
        (
            {"payable": "100000000000000"},
            "payable",
            "100000000000000 is larger than 99999999999999.99",
        ),
        ({"status": "PENDING"}, "status", f"'PENDING' {STATUS}"),
        ({"status": "due"}, "status", f"'due' {STATUS}"),
        ({"currency": "XYZ"}, "currency", f"'XYZ' {CURRENCY}"),
        ({"currency": "eur"}, "currency", f"'eur' {CURRENCY}"),
        (
            {"due_date": "2025-05-31"},
            "due_date",
            "2025-05-31 is before issue_date 2025-06-01",
        ),
        ({"invoice_number": ""}, "invoice_number", REQUIRED),
        (
            {"invoice_number": "X" * 65},
            "invoice_number",
            "is longer than 64 characters",
        ),
        *[
            ({"invoice_number": bad}, "invoice_number", f"{bad!r} {NUMBER_CHARS}")
            for bad in ("INV/2025/1", "INV 1", "-1", "../x", "INV-1?x=1", "#1")
        ],
        *[
            ({"invoice_number": word}, "invoice_number", f"{word!r} {NUMBER_KEPT}")
            for word in ("new", "export", "Bulk", "INV-1.pdf")
        ],
        ({"client_name": "  "}, "client_name", REQUIRED),
        (
            {"client_email": "billing.acme.example"},
            "client_email",
            "'billing.acme.example' is not an e-mail address",
        ),
        ({"due_date": ""}, "due_date", REQUIRED),
        ({"usage_cost": ""}, "usage_cost", REQUIRED),
        ({"billing_period": "2025-13"}, "billing_period", f"'2025-13' {MONTH}"),
        ({"billing_period": "2025-05-01"}, "billing_period", f"'2025-05-01' {MONTH}"),
        ({"billing_period": "2025-5"}, "billing_period", f"'2025-5' {MONTH}"),
        ({"issue_date": ""}, "issue_date", "a value is required for a DUE invoice"),
        (
            {"status": "DRAFT"},
            "issue_date",
            "must be empty for a DRAFT (it is not issued yet)",
        ),
        ({"status": "PAID"}, "paid_date", "a value is required for a PAID invoice"),
        (
            {"paid_date": "2025-06-10"},
            "paid_date",
            "must be empty unless status is PAID, not DUE",
        ),
        (
            {"status": "PAID", "paid_date": "2025-05-10"},
            "paid_date",
            "2025-05-10 is before issue_date 2025-06-01",
        ),
    ],
)
def test_bad_cell_is_named_and_nothing_is_written(
    app, write, run, make_invoice, cells, column, message
):
    make_invoice(number="INV-EXISTING")
    before = counts()

    result = run(
        write(
            "invoices.csv", csv_text(row(), row(**{"invoice_number": "INV-2", **cells}))
        )
    )

    assert_rejected(result, f"invoices.csv: row 3, column {column}: {message}")
    assert counts() == before


@pytest.mark.parametrize(
    "cells",
    [
        {"status": "CANCEL", "issue_date": ""},
        {"status": "CANCEL"},
        {"status": "OVER_DUE"},
        {"status": "PAID", "paid_date": "2025-06-01"},
        {"status": "DRAFT", "issue_date": ""},
        # A credit note has nothing to pay: it is PAID from its issue.
        {
            "payable": "-140.00",
            "usage_cost": "+150",
            "status": "PAID",
            "paid_date": "2025-06-01",
        },  # fmt: skip
        {"currency": "KWD", "payable": "1.234", "usage_cost": "0.001"},
        {"due_date": "2025-06-01"},
        {"billing_period": "2024-02", "due_date": "2028-02-29"},
    ],
)
def test_edge_values_that_are_accepted(app, write, run, cells):
    result = run(write("invoices.csv", csv_text(row(**cells))))

    assert result.exit_code == 0, result.output
    assert counts()[0] == 1


def test_every_bad_row_is_reported_and_nothing_written(app, write, run, make_invoice):
    make_invoice(number="INV-EXISTING")
    before = counts()
    content = csv_text(
        row(),
        row(invoice_number="INV-2", due_date="2024-02-30"),
        row(invoice_number="INV-3", status="SENT", payable="1e3", client_email="x@y"),
        row(invoice_number="INV-4", client_email="new@client.example"),
    )

    result = run(write("invoices.csv", content))

    assert result.exit_code == 1
    assert error_lines(result) == [
        "invoices.csv: row 3, column due_date: '2024-02-30' is not a valid date "
        "(YYYY-MM-DD)",
        "invoices.csv: row 4, column payable: '1e3' is not a number like 1234.50",
        "invoices.csv: row 4, column status: 'SENT' is not a status "
        "(DRAFT, DUE, OVER_DUE, PAID, CANCEL)",
        "Error: 3 problem(s) found; nothing was imported.",
    ]
    # Neither the good rows nor their new clients were written.
    assert counts() == before


def test_duplicate_number_within_the_file(app, write, run):
    content = csv_text(row(), row(invoice_number="INV-2"), row())

    result = run(write("invoices.csv", content))

    assert_rejected(
        result,
        "invoices.csv: row 4, column invoice_number: 'INV-1' appears again "
        "(first on row 2)",
    )
    assert counts() == (0, 0, 0)


def test_wrong_number_of_cells(app, write, run):
    content = csv_text(row()) + "INV-2,Acme Analytics,too,few\n"

    result = run(write("invoices.csv", content))

    assert_rejected(result, "invoices.csv: row 3: has 4 cells where the header has 12")


def test_blank_lines_are_skipped_and_rows_keep_file_line_numbers(app, write, run):
    content = (
        csv_text(row())
        + "\n,,,,,,,,,,,\n"
        + csv_text(row(invoice_number="INV-2", status="NOPE")).split("\n", 1)[1]
    )

    result = run(write("invoices.csv", content))

    assert_rejected(
        result,
        "invoices.csv: row 5, column status: 'NOPE' is not a status "
        "(DRAFT, DUE, OVER_DUE, PAID, CANCEL)",
    )


def test_broken_csv_quoting_names_the_row(app, write, run):
    content = csv_text(row()) + 'INV-2,"Acme" Analytics,x\n'

    result = run(write("invoices.csv", content))

    assert_rejected(
        result, "invoices.csv: row 3: not valid CSV: ',' expected after '\"'"
    )


def test_nul_character_is_refused(app, write, run):
    result = run(write("invoices.csv", csv_text(row(notes="a\x00b"))))

    assert_rejected(
        result, "invoices.csv: row 2, column notes: contains a NUL character"
    )


# --- existing invoices and --update -----------------------------------------


def test_existing_number_is_a_conflict(app, write, run, make_invoice):
    make_invoice(number="INV-100", notes="keep me")
    before = counts()

    result = run(write("invoices.csv", GOOD_CSV))

    assert_rejected(
        result,
        "invoices.csv: row 2, column invoice_number: 'INV-100' exists already; "
        "use --update to replace it",
    )
    assert counts() == before
    assert invoice("INV-100").notes == "keep me"


def test_update_replaces_the_invoice_and_its_lines(app, write, run, make_invoice):
    old = make_invoice(
        number="INV-100",
        notes="old",
        lines=[("Old line A", "1", "1", "1.00"), ("Old line B", "1", "2", "2.00")],
    )
    old_id = old.id

    result = run(
        write("invoices.csv", GOOD_CSV),
        "--lines",
        write("lines.csv", GOOD_LINES),
        "--update",
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 2 new and 1 updated invoices.\n"
    inv = invoice("INV-100")
    assert inv.id == old_id
    assert (inv.notes, inv.currency, inv.payable) == (
        "PO 4711, reserved",
        "EUR",
        Decimal("140.00"),
    )
    assert inv.client.email == "billing@mueller.example"
    assert [line.description for line in inv.lines] == [
        "Compute (vCPU-hours)",
        "Object storage (GB-months)",
    ]
    assert "old line" not in inv.search_text
    assert counts()[2] == 3  # the old lines are gone


def test_update_without_lines_leaves_the_invoice_without_lines(
    app, write, run, make_invoice
):
    make_invoice(number="INV-1")

    result = run(write("invoices.csv", csv_text(row())), "--update")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 0 new and 1 updated invoices.\n"
    assert invoice("INV-1").lines == []


# --- whole-file problems ----------------------------------------------------


def test_bad_header_names_the_columns(app, write, run):
    header = HEADER.replace("invoice_number", "invoice_no").replace(",notes", "")

    result = run(write("invoices.csv", csv_text(row(), header=header)))

    assert result.exit_code == 1
    assert error_lines(result) == [
        "invoices.csv: header: missing column(s): invoice_number, notes",
        "invoices.csv: header: unknown column(s): 'invoice_no'; the columns are "
        + ", ".join(INVOICE_COLUMNS),
        "Error: 2 problem(s) found; nothing was imported.",
    ]


def test_repeated_column(app, write, run):
    result = run(write("invoices.csv", HEADER + ",notes\n"))

    assert_rejected(result, "invoices.csv: header: repeated column(s): notes")


def test_bad_lines_header(app, write, run):
    lines = "invoice_number,description,qty,unit_price,amount\n"

    result = run(write("invoices.csv", GOOD_CSV), "--lines", write("l.csv", lines))

    assert_rejected(
        result,
        "invoices.csv: lines header: missing column(s): quantity",
        "invoices.csv: lines header: unknown column(s): 'qty'; the columns are "
        + ", ".join(LINE_COLUMNS),
    )


def test_non_utf8_file_is_a_clean_error(app, write, run):
    content = GOOD_CSV.encode("latin-1", errors="replace")

    result = run(write("invoices.csv", content))

    assert_rejected(
        result,
        "invoices.csv: the file is not UTF-8 text (line 2 has a byte 0xfc that is "
        "not UTF-8); save it as UTF-8",
    )
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_non_utf8_lines_file(app, write, run):
    lines = GOOD_LINES.encode("cp1252", errors="replace")

    result = run(write("invoices.csv", GOOD_CSV), "--lines", write("l.csv", lines))

    assert_rejected(
        result,
        "invoices.csv: the lines file is not UTF-8 text (line 3 has a byte 0x97 "
        "that is not UTF-8); save it as UTF-8",
    )


def test_empty_file_is_an_error(app, write, run):
    result = run(write("invoices.csv", ""))

    assert_rejected(
        result,
        "invoices.csv: the file is empty; it needs a header row: " + HEADER,
    )


def test_unknown_file_type(app, write, run):
    result = run(write("invoices.txt", GOOD_CSV))

    assert_rejected(result, "invoices.txt: unknown file type '.txt': use .csv or .json")


# --- lines ------------------------------------------------------------------


def test_line_problems_name_the_lines_row(app, write, run):
    invoices = csv_text(
        row(),
        row(invoice_number="INV-2", currency="JPY", usage_cost="100", payable="100"),
    )
    lines = f"""{LINES_HEADER}
INV-1,Compute,10,1.5,15.00
INV-9,Orphan,1,1,1.00
INV-1,Storage,3,0.333333,0.99
INV-2,Yen,3,33.5,100.5
INV-1,Egress,1,0.0000001,0.00
INV-1,,1,1,1.00
INV-1,Big,1,1000000000000,1000000000000.00
"""

    result = run(write("invoices.csv", invoices), "--lines", write("l.csv", lines))

    assert result.exit_code == 1
    assert error_lines(result) == [
        "invoices.csv: lines row 3, column invoice_number: 'INV-9' is not in the "
        "invoices file",
        "invoices.csv: lines row 4, column amount: 0.99 is not quantity x "
        "unit_price (3 x 0.333333 = 1.00)",
        "invoices.csv: lines row 5, column amount: 100.5 has more decimal places "
        "than JPY allows (0)",
        "invoices.csv: lines row 6, column unit_price: 0.0000001 has more than 6 "
        "decimal places",
        "invoices.csv: lines row 7, column description: a value is required",
        "invoices.csv: lines row 8, column unit_price: 1000000000000 is larger than "
        "999999999999.999999",
        "Error: 6 problem(s) found; nothing was imported.",
    ]
    assert counts() == (0, 0, 0)


def test_usage_cost_must_be_the_sum_of_the_lines(app, write, run):
    lines = f"""{LINES_HEADER}
INV-1,Compute,10,1.5,15.00
INV-1,Storage,3,0.333333,1.00
"""

    result = run(
        write("invoices.csv", csv_text(row())), "--lines", write("l.csv", lines)
    )

    assert_rejected(
        result,
        "invoices.csv: row 2, column usage_cost: 150.00 is not the sum of the line "
        "amounts (16.00)",
    )


def test_jpy_amounts_with_decimals_are_refused(app, write, run):
    invoices = csv_text(
        row(currency="JPY", usage_cost="1500.5", payable="1500"),
    )

    result = run(write("invoices.csv", invoices))

    assert_rejected(
        result,
        "invoices.csv: row 2, column usage_cost: 1500.5 has more decimal places "
        "than JPY allows (0)",
    )


# --- JSON problems ----------------------------------------------------------


def json_item(**changes) -> dict:
    item = {k: v for k, v in BASE_ROW.items() if v}
    item.update(changes)
    return item


def test_json_problems_name_the_item_and_line(app, write, run):
    items = [
        json_item(),
        json_item(
            invoice_number="INV-2",
            due_date="2024-02-30",
            usage_cost=True,
            colour="red",
            lines=[
                {"description": "OK", "quantity": 1, "unit_price": 1, "amount": 1},
                {"description": "Bad", "quantity": 2, "unit_price": 1, "amount": 3},
            ],
        ),
        "not an object",
        json_item(invoice_number="INV-4", lines="none"),
    ]

    result = run(write("invoices.json", json.dumps(items)))

    assert result.exit_code == 1
    assert error_lines(result) == [
        "invoices.json: item 2: unknown key(s): 'colour'; the keys are "
        + ", ".join(INVOICE_COLUMNS)
        + ", lines",
        "invoices.json: item 2, column usage_cost: must be text or a number, "
        "not true/false",
        "invoices.json: item 2, column due_date: '2024-02-30' is not a valid date "
        "(YYYY-MM-DD)",
        "invoices.json: item 2, line 2, column amount: 3 is not quantity x "
        "unit_price (2 x 1 = 2.00)",
        "invoices.json: item 3: must be an object with named values",
        "invoices.json: item 4, column lines: must be a list of line objects",
        "Error: 6 problem(s) found; nothing was imported.",
    ]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1e3", f"'1E+3' {NUMBER}"),
        ("NaN", f"'NaN' {NUMBER}"),
        ("Infinity", f"'Infinity' {NUMBER}"),
        ("10.001", "10.001 has more decimal places than EUR allows (2)"),
    ],
)
def test_json_numbers_are_checked_like_csv_cells(app, write, run, number, message):
    content = json.dumps([json_item()]).replace('"140.00"', number)

    result = run(write("invoices.json", content))

    assert_rejected(result, f"invoices.json: item 1, column payable: {message}")


def test_invalid_json(app, write, run):
    result = run(write("invoices.json", '[{"invoice_number": "INV-1",}]'))

    assert_rejected(
        result,
        "invoices.json: not valid JSON (line 1, column 29): Expecting property name "
        "enclosed in double quotes",
    )


def test_json_must_be_a_list(app, write, run):
    result = run(write("invoices.json", json.dumps(json_item())))

    assert_rejected(result, "invoices.json: the JSON file must hold a list of invoices")


def test_json_with_a_lines_file_is_refused(app, write, run):
    result = run(
        write("invoices.json", json.dumps([json_item()])),
        "--lines",
        write("lines.csv", GOOD_LINES),
    )

    assert_rejected(
        result,
        "invoices.json: a lines file goes with CSV only; JSON invoices carry their "
        "lines",
    )


# --- size -------------------------------------------------------------------


def test_a_large_file_imports_in_one_go(app, write, run):
    rows = [
        row(
            invoice_number=f"INV-{n:05d}",
            client_email=f"c{n % 50}@example.test",
            client_name=f"Client {n % 50}",
            usage_cost="3.00",
        )
        for n in range(3000)
    ]
    lines = (
        LINES_HEADER
        + "\n"
        + "".join(f"INV-{n:05d},Compute,2,1.5,3.00\n" for n in range(3000))
    )

    result = run(
        write("invoices.csv", csv_text(*rows)), "--lines", write("l.csv", lines)
    )

    assert result.exit_code == 0, result.output
    assert counts() == (3000, 50, 3000)


def test_import_is_audited_and_sets_adjustment_and_paid_balance(
    app, write, run, make_invoice
):
    old = make_invoice(number="INV-100", notes="old")
    version = old.version
    paid = row(
        invoice_number="INV-P",
        status="PAID",
        usage_cost="100.00",
        payable="90.00",
        paid_date=BASE_ROW["due_date"],
    )
    result = run(write("invoices.csv", csv_text(paid)))
    assert result.exit_code == 0, result.output
    imported = invoice("INV-P")
    assert imported.adjustment == Decimal("-10.00")
    assert imported.balance_due == 0 and imported.amount_paid == Decimal("90.00")
    result = run(write("invoices.csv", GOOD_CSV), "--update")
    assert result.exit_code == 0, result.output
    assert invoice("INV-100").version == version + 1
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.invoice_number, e.action) for e in events][:2] == [
        ("INV-P", "import"),
        ("INV-100", "import-update"),
    ]
    assert events[0].actor == "cli (invoices import)"
    assert events[1].changes["payable"][1] == "140.00"


def test_reserved_numbers_are_every_word_the_invoice_addresses_use(app):
    """A route added under /billing/invoices/<word> must reserve its word."""
    prefix = "/billing/invoices/"
    words = {
        rule.rule[len(prefix) :].split("/")[0].split(".")[0]
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix)
    }
    assert {w for w in words if "<" not in w} == set(RESERVED)


def test_accepted_numbers_reach_their_page_and_download(app, write, run, auth, client):
    """Numbers at the edges of the rule work in every address they are part of."""
    numbers = ["INV-1", "2025.06_A-7", "a", "INV-1.PDFX", "x.xlsx"]
    content = csv_text(*(row(invoice_number=n) for n in numbers))
    result = run(write("invoices.csv", content))
    assert result.exit_code == 0, result.output
    auth.login("staff")
    for number in numbers:
        page = client.get(f"/billing/invoices/{number}")
        assert page.status_code == 200 and number in page.get_data(as_text=True)
        pdf = client.get(f"/billing/invoices/{number}.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_json_lone_surrogates_are_named_not_a_crash(app, write, run):
    """A \\u escape of half a surrogate pair is refused; a whole pair is an emoji."""
    item = {
        "invoice_number": "INV-S1",
        "client_name": "Bad \\ud800 Name",
        "client_email": "s@example.test",
        "billing_period": "2025-05",
        "currency": "USD",
        "usage_cost": "1",
        "payable": "1",
        "due_date": "2025-06-30",
        "status": "DRAFT",
        "notes": "receipt \\ud83e\\uddfe",
        "lines": [
            {"description": "x\\udfff", "quantity": 1, "unit_price": 1, "amount": 1}
        ],
    }
    # Written with the escapes as they are: json.dumps would refuse nothing.
    content = json.dumps([item]).replace("\\\\u", "\\u")
    result = run(write("invoices.json", content))

    assert_rejected(
        result,
        "invoices.json: item 1, column client_name: 'Bad \\ud800 Name' holds half "
        "of a UTF-16 surrogate pair, which is not a character",
        "invoices.json: item 1, line 1, column description: 'x\\udfff' holds half "
        "of a UTF-16 surrogate pair, which is not a character",
    )
    assert counts() == (0, 0, 0)

    item["client_name"], item["lines"] = "Good Name", []
    result = run(write("good.json", json.dumps([item]).replace("\\\\u", "\\u")))
    assert result.exit_code == 0, result.output
    assert invoice("INV-S1").notes == "receipt 🧾"


# --- final and paid invoices under --update ---------------------------------


def test_update_refuses_final_invoices_and_changes_nothing(
    app, write, run, make_invoice
):
    paid = make_invoice(
        number="INV-1",
        status="PAID",
        paid_date=date(2025, 6, 15),
        amount_paid=Decimal("15.00"),
    )
    db.session.add(
        Payment(invoice=paid, amount=Decimal("15.00"), received_on=date(2025, 6, 15))
    )
    make_invoice(number="INV-2", status="CANCEL", cancel_reason="Duplicate")
    db.session.commit()
    rows = [
        row(),
        row(invoice_number="INV-2", notes="revived"),
        row(invoice_number="INV-3"),
    ]

    result = run(write("invoices.csv", csv_text(*rows)), "--update")

    assert_rejected(
        result,
        "invoices.csv: row 2, column invoice_number: 'INV-1' is PAID, which is "
        "final; --update cannot change it",
        "invoices.csv: row 3, column invoice_number: 'INV-2' is CANCEL, which is "
        "final; --update cannot change it",
    )
    assert invoice("INV-1").status == "PAID"
    assert invoice("INV-1").amount_paid == Decimal("15.00")
    assert invoice("INV-2").notes == "" and invoice("INV-2").status == "CANCEL"
    assert invoice("INV-3") is None


def partly_paid(make_invoice, paid: str = "40.00") -> Invoice:
    """INV-1, DUE for 140.00 EUR, with one payment recorded."""
    inv = make_invoice(
        number="INV-1", currency="EUR", usage_cost=Decimal("140.00"),
        payable=Decimal("140.00"), amount_paid=Decimal(paid),
        lines=[("Compute", "1", "140", "140.00")],
    )  # fmt: skip
    db.session.add(
        Payment(invoice=inv, amount=Decimal(paid), received_on=date(2025, 6, 10))
    )
    db.session.commit()
    return inv


def test_update_of_a_partly_paid_invoice_keeps_what_was_paid(
    app, write, run, make_invoice
):
    partly_paid(make_invoice)

    result = run(
        write("invoices.csv", csv_text(row(payable="150.00", usage_cost="150.00"))),
        "--update",
    )

    assert result.exit_code == 0, result.output
    updated = invoice("INV-1")
    assert updated.payable == Decimal("150.00")
    assert updated.amount_paid == Decimal("40.00")
    assert updated.amount_paid == sum(p.amount for p in updated.payments)
    assert updated.balance_due == Decimal("110.00")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            {"payable": "30.00"},
            "column payable: 30.00 is below the 40.00 EUR already paid",
        ),
        (
            {"status": "DRAFT", "issue_date": ""},
            "column status: 40.00 EUR is paid already; it cannot become a DRAFT",
        ),
        (
            {"payable": "40.00"},
            "column status: the 40.00 EUR paid already covers payable 40.00; "
            "import it as PAID",
        ),
        (
            {"currency": "USD"},
            "column currency: cannot change from EUR once payments are recorded "
            "(40.00 EUR paid)",
        ),
    ],
)
def test_update_that_contradicts_the_payments_is_refused(
    app, write, run, make_invoice, cells, expected
):
    partly_paid(make_invoice)

    result = run(write("invoices.csv", csv_text(row(**cells))), "--update")

    assert_rejected(result, f"invoices.csv: row 2, {expected}")
    kept = invoice("INV-1")
    assert (kept.payable, kept.amount_paid, kept.currency) == (
        Decimal("140.00"),
        Decimal("40.00"),
        "EUR",
    )


@pytest.mark.parametrize("status", ["DUE", "OVER_DUE"])
def test_an_unpaid_invoice_with_nothing_to_pay_is_refused(app, write, run, status):
    result = run(write("invoices.csv", csv_text(row(status=status, payable="0.00"))))

    assert_rejected(
        result,
        "invoices.csv: row 2, column payable: 0.00 leaves nothing to pay, so the "
        f"invoice is PAID from its issue, not {status}: import it as PAID",
    )


def test_a_paid_credit_note_is_imported_with_nothing_paid(app, write, run):
    credit = row(status="PAID", payable="-20.00", paid_date="2025-06-01")

    result = run(write("invoices.csv", csv_text(credit)))

    assert result.exit_code == 0, result.output
    imported = invoice("INV-1")
    assert (imported.status, imported.amount_paid) == ("PAID", Decimal(0))
    assert imported.adjustment == Decimal("-170.00")
