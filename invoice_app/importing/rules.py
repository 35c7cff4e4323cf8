"""Rules: each record's values checked on their own, across the file and against
the database (see the package docstring for the rules as decided)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_DOWN, Decimal, localcontext

from sqlalchemy import select

from ..extensions import db
from ..models import Invoice, Status
from ..money import UNIT_PRICE_MAX, line_amount, to_places
from .cells import Cells
from .read import Record

_ISSUED = {Status.DUE.value, Status.OVER_DUE.value, Status.PAID.value}
_QUANTITY_PLACES = 4
_UNIT_PRICE_PLACES = 6
_IN_CHUNK = 500  # values per IN (...) lookup, well inside every driver's limit


@dataclass
class CheckedLine:
    """One line's typed values (None where a cell was wrong); ok if none was."""

    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None
    ok: bool = True


@dataclass
class CheckedInvoice:
    """One invoice's typed values (None where a cell was wrong) and its lines."""

    record: Record
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
    lines: list[CheckedLine] = field(default_factory=list)


def check_invoice(record: Record) -> CheckedInvoice:
    """Typed values of one invoice record, with its single-row rules applied."""
    cells = Cells(record)
    currency = cells.currency("currency")
    invoice = CheckedInvoice(
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


def check_line(record: Record, currency: str | None) -> CheckedLine:
    """Typed values of one line; the amount is checked against its currency."""
    cells = Cells(record)
    known = len(record.problems)
    line = CheckedLine(
        description=cells.text("description", max_length=500),
        quantity=cells.decimal("quantity", _QUANTITY_PLACES),
        unit_price=cells.decimal("unit_price", _UNIT_PRICE_PLACES, UNIT_PRICE_MAX),
        amount=cells.amount("amount", currency),
    )
    quantity, price, amount = line.quantity, line.unit_price, line.amount
    if currency and None not in (quantity, price, amount):
        expected = line_amount(quantity, price, currency)
        # A half may have been rounded either way by whoever made the file.
        if amount not in {
            expected,
            line_amount(quantity, price, currency, rounding=ROUND_HALF_DOWN),
        }:
            cells.fail(
                "amount",
                f"{amount} is not quantity x unit_price "
                f"({quantity} x {price} = {expected})",
            )
    line.ok = len(record.problems) == known
    return line


def check_all(
    records: list[Record], line_records: list[Record] | None, *, update: bool
) -> list[CheckedInvoice]:
    """Check every record, across records and against the database."""
    invoices = [check_invoice(record) for record in records]
    by_number: dict[str, CheckedInvoice] = {}
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
                invoice.lines.append(check_line(line_record, invoice.currency))
    else:
        named = {r.cells.get("invoice_number") for r in records} - {None, ""}
        for line_record in line_records:
            number = Cells(line_record).text("invoice_number", max_length=64)
            owner = by_number.get(number or "")
            if number and number not in named:
                line_record.fail(
                    "invoice_number", f"{number!r} is not in the invoices file"
                )
            line = check_line(line_record, owner.currency if owner else None)
            if owner is not None:
                owner.lines.append(line)

    for invoice in invoices:
        _check_usage_cost(invoice)
    _check_existing(by_number, update=update)
    return invoices


def _check_client_names(invoices: list[CheckedInvoice]) -> None:
    """One file gives one name per client e-mail."""
    first: dict[str, CheckedInvoice] = {}
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


def _check_usage_cost(invoice: CheckedInvoice) -> None:
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


def in_chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _check_existing(by_number: dict[str, CheckedInvoice], *, update: bool) -> None:
    """Numbers already in the database conflict unless the import may update."""
    if update:
        _check_updates(by_number)
        return
    for chunk in in_chunks(list(by_number)):
        for number in db.session.scalars(
            select(Invoice.number).where(Invoice.number.in_(chunk))
        ):
            by_number[number].record.fail(
                "invoice_number",
                f"{number!r} exists already; use --update to replace it",
            )


_FINAL = {Status.PAID.value, Status.CANCEL.value}


def _check_updates(by_number: dict[str, CheckedInvoice]) -> None:
    """Replacing may not touch final invoices, nor undo what was paid."""
    for chunk in in_chunks(list(by_number)):
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
