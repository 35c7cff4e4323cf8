"""Reading: file bytes to records of stripped text cells (a CSV row, a JSON item).

File-level problems (not UTF-8, not CSV or JSON, a wrong header) are collected
here; the cells themselves are typed and checked later (cells.py, rules.py).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

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


@dataclass
class Record:
    """One CSV row or JSON object, as stripped text cells, and its problems."""

    where: str
    cells: dict[str, str]
    problems: list[ImportProblem] = field(default_factory=list)
    lines: list[Record] | None = None  # JSON only: the item's own lines
    failed: set[str] = field(default_factory=set)  # columns reported already

    def fail(self, column: str, message: str) -> None:
        self.problems.append(ImportProblem(message, self.where, column))
        self.failed.add(column)


def read_records(
    data: bytes, kind: str, lines: bytes | None
) -> tuple[list[Record], list[Record] | None]:
    """Records of the file (and of the lines CSV); ImportRejected if unreadable."""
    problems: list[ImportProblem] = []
    line_records: list[Record] | None = None
    if kind == "json":
        records = json_records(data, problems)
        if lines is not None:
            problems.append(
                ImportProblem(
                    "a lines file goes with CSV only; JSON invoices carry their lines"
                )
            )
    else:
        records = csv_records(data, INVOICE_COLUMNS, "", problems)
        if lines is not None:
            line_records = csv_records(lines, LINE_COLUMNS, "lines ", problems)
    if problems:
        raise ImportRejected(problems)
    return records, line_records


def read_bytes(path: Path) -> bytes:
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


def csv_records(
    data: bytes, columns: tuple[str, ...], label: str, problems: list[ImportProblem]
) -> list[Record]:
    """Rows of a CSV file as records; file-level problems go to `problems`."""
    text = _decode(data, label, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[Record] = []
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
            record = Record(where, cells)
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


def json_records(data: bytes, problems: list[ImportProblem]) -> list[Record]:
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
) -> Record:
    """One JSON object as a record of text cells; type problems go to `problems`."""
    record = Record(where, {}, problems)
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
