"""All-or-nothing import of invoices from CSV (plus a lines CSV) or JSON.

Every record is checked before anything is written, one problem is reported per
bad cell, and a single problem anywhere means nothing is imported: the writes run
in one transaction that is committed only when all of them succeed.

The rules, as decided for this importer:

* Files are UTF-8, with or without a BOM. Other encodings are refused, not guessed.
* A CSV header holds exactly the columns of INVOICE_COLUMNS (or LINE_COLUMNS for
  the lines file), in any order; a missing, unknown or repeated column is an error
  that names it. Blank lines and rows of empty cells are skipped. A header without
  rows imports nothing; a file without even a header is an error.
* A JSON file is a list of objects with the same keys, plus an optional "lines"
  list of objects (description, quantity, unit_price, amount). Optional keys may
  be left out or null. Numbers may be JSON numbers or strings; they are read as
  Decimal, never float. A JSON file carries its own lines, so no lines file.
* Positions in messages: CSV rows are the file's line numbers (header = row 1,
  "lines row 4" in the lines file); JSON items count from 1 ("item 2", and
  "item 2, line 1" for its first line).
* issue_date must be empty for DRAFT (a draft has not been issued), is required
  for DUE, OVER_DUE and PAID, and optional for CANCEL (a draft may be cancelled).
  paid_date is required for PAID and must be empty otherwise. due_date is always
  required; neither due_date nor paid_date may be before issue_date.
* usage_cost, payable and line amounts have at most the currency's decimal places
  (JPY 0, USD 2, KWD 3) and may be negative (credits). quantity has at most 4
  decimal places and unit_price at most 6, as stored.
* A line's amount is quantity x unit_price rounded to the currency's places; any
  amount within half a minor unit of the exact product is accepted, so either way
  of rounding a half passes. An invoice with lines must have a usage_cost equal
  to the sum of their amounts. Lines keep the order of the file (position 0, 1..).
* Clients are matched by e-mail, case-insensitively; new clients are stored with
  a lower-case e-mail. An existing client keeps its id and takes the name the file
  gives (the file is the newer source). One file may not give one e-mail two names.
* An invoice number already in the database is a conflict, unless update=True:
  then that invoice is replaced in place (same id), lines included; when the file
  gives it no lines it ends up with none. PAID and CANCEL invoices are final and
  are never replaced. What was paid on a DUE or OVER_DUE invoice stays paid: the
  update may not lower payable below it, change its currency, make it a DRAFT,
  or leave it DUE with the payments already covering it.
* A DUE or OVER_DUE invoice needs something to pay: with payable 0 or less it is
  PAID from its issue (as issuing such a draft makes it), and a PAID one has
  nothing received.
* The stored status is the file's status, OVER_DUE included.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import begin_write
from ..extensions import db
from ..invoice_numbers import invoice_number_problem
from ..models import Client, Invoice, InvoiceLine, Status
from ..money import (
    UNIT_PRICE_MAX,
    currency_places,
    is_currency,
    parse_amount,
    to_places,
)

INVOICE_COLUMNS = (
    "invoice_number",
    "client_name",
    "client_email",
    "billing_period",
    "currency",
    "usage_cost",
    "payable",
    "issue_date",
    "due_date",
    "status",
    "paid_date",
    "notes",
)
LINE_COLUMNS = ("invoice_number", "description", "quantity", "unit_price", "amount")
_JSON_LINE_KEYS = LINE_COLUMNS[1:]
_STATUSES = tuple(s.value for s in Status)
_ISSUED = {Status.DUE.value, Status.OVER_DUE.value, Status.PAID.value}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_QUANTITY_PLACES = 4
_UNIT_PRICE_PLACES = 6
_BATCH = 5000  # invoices per flush: bounds the unit of work on very large files
_IN_CHUNK = 500  # values per IN (...) lookup, well inside every driver's limit


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with the input, placed as precisely as possible."""

    message: str
    where: str = ""
    column: str = ""

    def __str__(self) -> str:
        column = f"column {self.column}" if self.column else ""
        place = ", ".join(part for part in (self.where, column) if part)
        return f"{place}: {self.message}" if place else self.message


class ImportRejected(Exception):
    """The input has problems; nothing was written."""

    def __init__(self, errors: Iterable[ImportProblem]):
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} problem(s) found; nothing was imported")


@dataclass(frozen=True)
class ImportResult:
    """How many invoices an import created and how many it replaced."""

    created: int
    updated: int


@dataclass
class _Record:
    """One CSV row or JSON object, as stripped text cells, and its problems."""

    where: str
    cells: dict[str, str]
    problems: list[ImportProblem] = field(default_factory=list)
    lines: list[_Record] | None = None  # JSON only: the item's own lines
    failed: set[str] = field(default_factory=set)  # columns reported already

    def fail(self, column: str, message: str) -> None:
        self.problems.append(ImportProblem(message, self.where, column))
        self.failed.add(column)


@dataclass
class _Line:
    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None
    ok: bool = True


@dataclass
class _Invoice:
    record: _Record
    number: str | None
    client_name: str | None
    client_email: str | None
    billing_period: date | None
    currency: str | None
    usage_cost: Decimal | None
    payable: Decimal | None
    issue_date: date | None
    due_date: date | None
    status: str | None
    paid_date: date | None
    notes: str
    lines: list[_Line] = field(default_factory=list)


def import_file(
    path: Path | str, lines_path: Path | str | None = None, *, update: bool = False
) -> ImportResult:
    """Import invoices from a .csv (with an optional lines CSV) or .json file."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in {"csv", "json"}:
        raise ImportRejected(
            [ImportProblem(f"unknown file type {path.suffix!r}: use .csv or .json")]
        )
    data = _read_bytes(path)
    lines = _read_bytes(Path(lines_path)) if lines_path is not None else None
    return import_bytes(data, kind, lines, update=update)


def import_bytes(
    data: bytes, kind: str, lines: bytes | None = None, *, update: bool = False
) -> ImportResult:
    """Import invoices from file contents: kind is "csv" or "json"."""
    if kind not in {"csv", "json"}:
        raise ValueError(f"kind must be 'csv' or 'json', not {kind!r}")
    problems: list[ImportProblem] = []
    line_records: list[_Record] | None = None
    if kind == "json":
        records = _json_records(data, problems)
        if lines is not None:
            problems.append(
                ImportProblem(
                    "a lines file goes with CSV only; JSON invoices carry their lines"
                )
            )
    else:
        records = _csv_records(data, INVOICE_COLUMNS, "", problems)
        if lines is not None:
            line_records = _csv_records(lines, LINE_COLUMNS, "lines ", problems)
    if problems:
        raise ImportRejected(problems)

    try:
        invoices = _check_all(records, line_records, update=update)
        problems = [p for r in records for p in r.problems]
        problems += [p for r in line_records or () for p in r.problems]
        if problems:
            raise ImportRejected(problems)
        return _write(invoices, update=update)
    except IntegrityError as exc:
        db.session.rollback()
        # Another writer got in between the checks and the commit.
        raise ImportRejected(
            [ImportProblem(f"the database refused the import: {exc.orig}")]
        ) from None
    except BaseException:
        db.session.rollback()
        raise


# --- reading ----------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportRejected(
            [ImportProblem(f"cannot read {path.name}: {exc.strerror}")]
        ) from None


def _decode(data: bytes, label: str, problems: list[ImportProblem]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(
            ImportProblem(
                f"the {label}file is not UTF-8 text (line {line} has a byte "
                f"0x{data[exc.start]:02x} that is not UTF-8); save it as UTF-8"
            )
        )
        return None


def _csv_records(
    data: bytes, columns: tuple[str, ...], label: str, problems: list[ImportProblem]
) -> list[_Record]:
    """Rows of a CSV file as records; file-level problems go to `problems`."""
    text = _decode(data, label, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[_Record] = []
    start = 1
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            problems.append(
                ImportProblem(
                    f"the {label}file is empty; it needs a header row: "
                    + ",".join(columns)
                )
            )
            return []
        header = [cell.strip() for cell in header]
        if not _header_ok(header, columns, label, problems):
            return []
        start = reader.line_num + 1
        for row in reader:
            where = f"{label}row {start}"
            start = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            cells = dict(zip(header, (c.strip() for c in row), strict=False))
            record = _Record(where, cells)
            if len(row) != len(header):
                record.fail(
                    "", f"has {len(row)} cells where the header has {len(header)}"
                )
                # Cells may have shifted: only the number is worth reading.
                record.failed.update(set(columns) - {"invoice_number"})
            records.append(record)
    except csv.Error as exc:
        problems.append(ImportProblem(f"not valid CSV: {exc}", f"{label}row {start}"))
    return records


def _header_ok(
    header: list[str], columns: tuple[str, ...], label: str, problems: list
) -> bool:
    where = f"{label}header"
    missing = [c for c in columns if c not in header]
    unknown = [c for c in header if c not in columns]
    repeated = sorted({c for c in header if c in columns and header.count(c) > 1})
    if missing:
        problems.append(
            ImportProblem(f"missing column(s): {', '.join(missing)}", where)
        )
    if unknown:
        problems.append(
            ImportProblem(
                f"unknown column(s): {', '.join(map(repr, unknown))}; "
                f"the columns are {', '.join(columns)}",
                where,
            )
        )
    if repeated:
        problems.append(
            ImportProblem(f"repeated column(s): {', '.join(repeated)}", where)
        )
    return not (missing or unknown or repeated)


def _json_records(data: bytes, problems: list[ImportProblem]) -> list[_Record]:
    """Items of a JSON file as records, numbers kept as exact Decimal text."""
    text = _decode(data, "", problems)
    if text is None:
        return []
    try:
        # Every number becomes an exact Decimal; NaN and Infinity stay text, so
        # they are refused like any other non-number.
        items = json.loads(
            text, parse_float=Decimal, parse_int=Decimal, parse_constant=str
        )
    except json.JSONDecodeError as exc:
        problems.append(
            ImportProblem(
                f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            )
        )
        return []
    except RecursionError:
        problems.append(ImportProblem("not valid JSON: nested too deeply"))
        return []
    if not isinstance(items, list):
        problems.append(ImportProblem("the JSON file must hold a list of invoices"))
        return []
    records = []
    for index, item in enumerate(items, start=1):
        record = _json_record(f"item {index}", item, INVOICE_COLUMNS + ("lines",), [])
        lines = item.get("lines") if isinstance(item, dict) else None
        if isinstance(lines, list):
            # A line's problems are listed with its item, in file order.
            record.lines = [
                _json_record(
                    f"{record.where}, line {n}", line, _JSON_LINE_KEYS, record.problems
                )
                for n, line in enumerate(lines, start=1)
            ]
        elif lines is not None:
            record.fail("lines", "must be a list of line objects")
        records.append(record)
    return records


def _json_record(
    where: str, item: object, keys: tuple[str, ...], problems: list[ImportProblem]
) -> _Record:
    """One JSON object as a record of text cells; type problems go to `problems`."""
    record = _Record(where, {}, problems)
    if not isinstance(item, dict):
        record.fail("", "must be an object with named values")
        record.failed.update(keys)
        return record
    unknown = [key for key in item if key not in keys]
    if unknown:
        record.fail(
            "",
            f"unknown key(s): {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(keys)}",
        )
    for key in keys:
        value = item.get(key)
        if key == "lines" or value is None:
            continue
        if not isinstance(value, str | Decimal):
            kind = {dict: "an object", list: "a list"}.get(type(value), "true/false")
            record.fail(key, f"must be text or a number, not {kind}")
            continue
        record.cells[key] = str(value).strip()
    return record


# --- checking ---------------------------------------------------------------


class _Cells:
    """Reads typed values from a record's cells, one problem per bad cell."""

    def __init__(self, record: _Record):
        self.record = record

    def fail(self, column: str, message: str) -> None:
        self.record.fail(column, message)

    def text(
        self, column: str, *, required: bool = True, max_length: int | None = None
    ) -> str | None:
        """The cell's text; "" when empty and optional, None when it is wrong."""
        if column in self.record.failed:
            return None
        value = self.record.cells.get(column, "")
        if not value:
            if required:
                self.fail(column, "a value is required")
                return None
            return ""
        if "\x00" in value:
            self.fail(column, "contains a NUL character")
            return None
        if _SURROGATE.search(value):
            # Only a JSON \u escape can make one; no database can store it.
            self.fail(
                column,
                f"{value!r} holds half of a UTF-16 surrogate pair, which is not "
                "a character",
            )
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(column, f"is longer than {max_length} characters")
            return None
        return value

    def invoice_number(self, column: str) -> str | None:
        value = self.text(column, max_length=64)
        if not value:
            return None
        if problem := invoice_number_problem(value):
            self.fail(column, problem)
            return None
        return value

    def date(self, column: str, *, required: bool = True) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a valid date (YYYY-MM-DD)")
            return None

    def month(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        match = _MONTH.fullmatch(value)
        try:
            if not match:
                raise ValueError(value)
            return date(int(match[1]), int(match[2]), 1)
        except ValueError:
            self.fail(column, f"{value!r} is not a valid month (YYYY-MM)")
            return None

    def email(self, column: str) -> str | None:
        value = self.text(column, max_length=254)
        if not value:
            return None
        if not _EMAIL.fullmatch(value):
            self.fail(column, f"{value!r} is not an e-mail address")
            return None
        return value.lower()

    def currency(self, column: str) -> str | None:
        value = self.text(column)
        if not value:
            return None
        if not is_currency(value):
            self.fail(
                column, f"{value!r} is not an ISO 4217 currency code (upper-case, USD)"
            )
            return None
        return value

    def status(self, column: str) -> str | None:
        value = self.text(column)
        if not value:
            return None
        if value not in _STATUSES:
            self.fail(column, f"{value!r} is not a status ({', '.join(_STATUSES)})")
            return None
        return value

    def amount(self, column: str, currency: str | None) -> Decimal | None:
        """A money amount, with at most the currency's places when it is known."""
        value = self.text(column)
        if not value:
            return None
        try:
            return parse_amount(value, currency)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def decimal(
        self, column: str, places: int, maximum: Decimal | None = None
    ) -> Decimal | None:
        """A plain decimal number with at most `places` decimal places."""
        value = self.text(column)
        if not value:
            return None
        try:
            number = parse_amount(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None
        if number.scaleb(places) != number.scaleb(places).to_integral_value():
            self.fail(column, f"{value} has more than {places} decimal places")
            return None
        if maximum is not None and abs(number) > maximum:
            self.fail(column, f"{value} is larger than {maximum}")
            return None
        return number


def _check_invoice(record: _Record) -> _Invoice:
    """Typed values of one invoice record, with its single-row rules applied."""
    cells = _Cells(record)
    currency = cells.currency("currency")
    invoice = _Invoice(
        record=record,
        number=cells.invoice_number("invoice_number"),
        client_name=cells.text("client_name", max_length=200),
        client_email=cells.email("client_email"),
        billing_period=cells.month("billing_period"),
        currency=currency,
        usage_cost=cells.amount("usage_cost", currency),
        payable=cells.amount("payable", currency),
        issue_date=cells.date("issue_date", required=False),
        due_date=cells.date("due_date"),
        status=cells.status("status"),
        paid_date=cells.date("paid_date", required=False),
        notes=cells.text("notes", required=False) or "",
    )
    status, issued = invoice.status, invoice.issue_date

    def fail_once(column: str, message: str) -> None:
        if column not in record.failed:
            cells.fail(column, message)

    if status == Status.DRAFT and record.cells.get("issue_date"):
        fail_once("issue_date", "must be empty for a DRAFT (it is not issued yet)")
    elif status in _ISSUED and not record.cells.get("issue_date"):
        fail_once("issue_date", f"a value is required for a {status} invoice")
    if status == Status.PAID and not record.cells.get("paid_date"):
        fail_once("paid_date", "a value is required for a PAID invoice")
    elif status and status != Status.PAID and record.cells.get("paid_date"):
        fail_once("paid_date", f"must be empty unless status is PAID, not {status}")
    for column in ("due_date", "paid_date"):
        value = getattr(invoice, column)
        if issued and value and value < issued:
            fail_once(column, f"{value} is before issue_date {issued}")
    unpaid = {Status.DUE.value, Status.OVER_DUE.value}
    if status in unpaid and invoice.payable is not None and invoice.payable <= 0:
        fail_once(
            "payable",
            f"{invoice.payable} leaves nothing to pay, so the invoice is PAID from "
            f"its issue, not {status}: import it as PAID",
        )
    return invoice


def _check_line(record: _Record, currency: str | None) -> _Line:
    """Typed values of one line; the amount is checked against its currency."""
    cells = _Cells(record)
    known = len(record.problems)
    line = _Line(
        description=cells.text("description", max_length=500),
        quantity=cells.decimal("quantity", _QUANTITY_PLACES),
        unit_price=cells.decimal("unit_price", _UNIT_PRICE_PLACES, UNIT_PRICE_MAX),
        amount=cells.amount("amount", currency),
    )
    quantity, price, amount = line.quantity, line.unit_price, line.amount
    if currency and None not in (quantity, price, amount):
        places = currency_places(currency)
        with localcontext(prec=60):  # the exact product, however many digits
            exact = quantity * price
            if abs(amount - exact) > Decimal(5).scaleb(-places - 1):
                rounded = exact.quantize(Decimal(1).scaleb(-places))
                cells.fail(
                    "amount",
                    f"{amount} is not quantity x unit_price "
                    f"({quantity} x {price} = {rounded})",
                )
    line.ok = len(record.problems) == known
    return line


def _check_all(
    records: list[_Record], line_records: list[_Record] | None, *, update: bool
) -> list[_Invoice]:
    """Check every record, across records and against the database."""
    invoices = [_check_invoice(record) for record in records]
    by_number: dict[str, _Invoice] = {}
    for invoice in invoices:
        number = invoice.number
        if number is None:
            continue
        if number in by_number:
            first = by_number[number].record.where
            invoice.record.fail(
                "invoice_number", f"{number!r} appears again (first on {first})"
            )
        else:
            by_number[number] = invoice
    _check_client_names(invoices)

    if line_records is None:
        for invoice in invoices:
            for line_record in invoice.record.lines or ():
                invoice.lines.append(_check_line(line_record, invoice.currency))
    else:
        named = {r.cells.get("invoice_number") for r in records} - {None, ""}
        for line_record in line_records:
            number = _Cells(line_record).text("invoice_number", max_length=64)
            owner = by_number.get(number or "")
            if number and number not in named:
                line_record.fail(
                    "invoice_number", f"{number!r} is not in the invoices file"
                )
            line = _check_line(line_record, owner.currency if owner else None)
            if owner is not None:
                owner.lines.append(line)

    for invoice in invoices:
        _check_usage_cost(invoice)
    _check_existing(by_number, update=update)
    return invoices


def _check_client_names(invoices: list[_Invoice]) -> None:
    """One file gives one name per client e-mail."""
    first: dict[str, _Invoice] = {}
    for invoice in invoices:
        email, name = invoice.client_email, invoice.client_name
        if email is None or name is None:
            continue
        other = first.setdefault(email, invoice)
        if other.client_name != name:
            invoice.record.fail(
                "client_name",
                f"{name!r} differs from {other.client_name!r}, the name given for "
                f"{email} on {other.record.where}",
            )


def _check_usage_cost(invoice: _Invoice) -> None:
    """An invoice with lines costs what its lines add up to."""
    amounts = [line.amount for line in invoice.lines]
    if not amounts or invoice.usage_cost is None:
        return
    if not all(line.ok for line in invoice.lines):
        return  # the line problems say more than a wrong sum would
    with localcontext(prec=60):
        total = sum(amounts, Decimal(0))
    if total != invoice.usage_cost:
        invoice.record.fail(
            "usage_cost",
            f"{invoice.usage_cost} is not the sum of the line amounts ({total})",
        )


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _check_existing(by_number: dict[str, _Invoice], *, update: bool) -> None:
    """Numbers already in the database conflict unless the import may update."""
    if update:
        _check_updates(by_number)
        return
    for chunk in _chunks(list(by_number)):
        for number in db.session.scalars(
            select(Invoice.number).where(Invoice.number.in_(chunk))
        ):
            by_number[number].record.fail(
                "invoice_number",
                f"{number!r} exists already; use --update to replace it",
            )


_FINAL = {Status.PAID.value, Status.CANCEL.value}


def _check_updates(by_number: dict[str, _Invoice]) -> None:
    """Replacing may not touch final invoices, nor undo what was paid."""
    for chunk in _chunks(list(by_number)):
        rows = db.session.execute(
            select(
                Invoice.number, Invoice.status, Invoice.amount_paid, Invoice.currency
            ).where(Invoice.number.in_(chunk))
        )
        for number, status, paid, currency in rows:
            data = by_number[number]
            record = data.record
            if status in _FINAL:
                record.fail(
                    "invoice_number",
                    f"{number!r} is {status}, which is final; --update cannot "
                    "change it",
                )
                continue
            if not paid:
                continue
            shown = f"{to_places(paid, currency)} {currency}"
            if data.currency is not None and data.currency != currency:
                record.fail(
                    "currency",
                    f"cannot change from {currency} once payments are recorded "
                    f"({shown} paid)",
                )
            elif data.payable is not None and data.payable < paid:
                record.fail(
                    "payable", f"{data.payable} is below the {shown} already paid"
                )
            elif data.status == Status.DRAFT:
                record.fail(
                    "status", f"{shown} is paid already; it cannot become a DRAFT"
                )
            elif data.status in _ISSUED - _FINAL and data.payable == paid:
                record.fail(
                    "status",
                    f"the {shown} paid already covers payable {data.payable}; "
                    "import it as PAID",
                )


def _existing_clients(invoices: list[_Invoice]) -> dict[str, Client]:
    """Clients the file names, by lower-case e-mail."""
    emails = sorted({i.client_email for i in invoices if i.client_email})
    found: dict[str, Client] = {}
    for chunk in _chunks(emails):
        for client in db.session.scalars(
            select(Client).where(func.lower(Client.email).in_(chunk))
        ):
            found.setdefault(client.email.lower(), client)
    return found


# --- writing ----------------------------------------------------------------


def _write(invoices: list[_Invoice], *, update: bool) -> ImportResult:
    """Write checked invoices in one transaction; nothing stays on failure."""
    begin_write()  # SQLite: take the write lock before the checks read
    clients = _existing_clients(invoices)
    existing: dict[str, Invoice] = {}
    if update:
        numbers = [i.number for i in invoices if i.number]
        for chunk in _chunks(numbers):
            for invoice in db.session.scalars(
                select(Invoice)
                .where(Invoice.number.in_(chunk))
                .options(selectinload(Invoice.lines))
            ):
                existing[invoice.number] = invoice
    created = updated = 0
    written: list[tuple[Invoice, str, dict]] = []
    with db.session.no_autoflush:
        for count, data in enumerate(invoices, start=1):
            client = clients.get(data.client_email)
            if client is None:
                client = Client(name=data.client_name, email=data.client_email)
                clients[data.client_email] = client
                db.session.add(client)
            elif client.name != data.client_name:
                client.name = data.client_name
            invoice = existing.get(data.number)
            if invoice is None:
                invoice = Invoice(number=data.number)
                db.session.add(invoice)
                created += 1
                written.append((invoice, "import", {}))
            else:
                updated += 1
                # A replaced invoice is a new version: open edit forms go stale.
                invoice.version = (invoice.version or 1) + 1
                written.append((invoice, "import-update", _audited(invoice)))
            invoice.client = client
            invoice.billing_period = data.billing_period
            invoice.currency = data.currency
            invoice.usage_cost = data.usage_cost
            invoice.payable = data.payable
            invoice.issue_date = data.issue_date
            invoice.due_date = data.due_date
            invoice.status = data.status
            invoice.paid_date = data.paid_date
            invoice.notes = data.notes
            # The file gives usage and payable; the difference is the adjustment.
            invoice.adjustment = data.payable - data.usage_cost
            # What was paid on a replaced DUE invoice stays paid (its payment rows
            # stay too); a PAID one is settled in full, and a credit needs nothing.
            paid_before = invoice.amount_paid or Decimal(0)
            invoice.amount_paid = (
                max(data.payable, Decimal(0))
                if data.status == Status.PAID
                else paid_before
            )
            invoice.lines = [
                InvoiceLine(
                    position=position,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
                for position, line in enumerate(data.lines)
            ]
            if count % _BATCH == 0:
                db.session.flush()
    db.session.flush()
    for invoice, action, before in written:
        audit.record(
            invoice.id, invoice.number, IMPORT_ACTOR, action,
            audit.diff(before, _audited(invoice)),
        )  # fmt: skip
    db.session.commit()
    return ImportResult(created=created, updated=updated)


IMPORT_ACTOR = "cli (invoices import)"


def _audited(invoice: Invoice) -> dict:
    """The imported fields, as the audit trail shows them."""
    return {
        "status": invoice.status,
        "payable": invoice.payable,
        "usage_cost": invoice.usage_cost,
        "due_date": invoice.due_date,
        "issue_date": invoice.issue_date,
        "paid_date": invoice.paid_date,
        "client": invoice.client.email if invoice.client else None,
    }
