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

from pathlib import Path

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .read import (
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    ImportProblem,
    ImportRejected,
    read_bytes,
    read_records,
)
from .rules import check_all
from .write import ImportResult, write_invoices

__all__ = [
    "INVOICE_COLUMNS",
    "LINE_COLUMNS",
    "ImportProblem",
    "ImportRejected",
    "ImportResult",
    "import_bytes",
    "import_file",
]


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
    data = read_bytes(path)
    lines = read_bytes(Path(lines_path)) if lines_path is not None else None
    return import_bytes(data, kind, lines, update=update)


def import_bytes(
    data: bytes, kind: str, lines: bytes | None = None, *, update: bool = False
) -> ImportResult:
    """Import invoices from file contents: kind is "csv" or "json"."""
    if kind not in {"csv", "json"}:
        raise ValueError(f"kind must be 'csv' or 'json', not {kind!r}")
    records, line_records = read_records(data, kind, lines)
    try:
        invoices = check_all(records, line_records, update=update)
        problems = [p for r in records for p in r.problems]
        problems += [p for r in line_records or () for p in r.problems]
        if problems:
            raise ImportRejected(problems)
        return write_invoices(invoices, update=update)
    except IntegrityError as exc:
        db.session.rollback()
        # Another writer got in between the checks and the write (write.py).
        raise ImportRejected(
            [ImportProblem(f"the database refused the import: {exc.orig}")]
        ) from None
    except BaseException:
        db.session.rollback()
        raise
