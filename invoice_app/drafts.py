"""Draft invoices: their input, their amounts, and the fields creating or editing
one writes (lifecycle.create and lifecycle.edit apply them).

Amounts are computed here, on the server, with Decimal: each line's amount is
quantity × unit price rounded half-up to the currency's places, usage cost is
their sum, and payable is usage cost plus the adjustment (negative for a credit
or discount).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext

from sqlalchemy import BigInteger, cast, func, select

from .extensions import db
from .models import Client, Invoice, InvoiceLine, Status
from .money import AMOUNT_MAX, line_amount


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class DraftInput:
    """A validated draft, as the form hands it over."""

    client_name: str
    client_email: str
    billing_period: date
    currency: str
    due_date: date | None
    payment_terms_days: int | None
    notes: str
    adjustment: Decimal
    adjustment_reason: str
    lines: tuple[LineInput, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Totals:
    line_amounts: tuple[Decimal, ...]
    usage_cost: Decimal
    adjustment: Decimal
    payable: Decimal


def compute_totals(
    lines: tuple[LineInput, ...] | list[LineInput], currency: str, adjustment: Decimal
) -> Totals:
    """Line amounts, usage cost and payable, rounded to the currency's places."""
    # Exact however large: totals_problems() then says what does not fit.
    with localcontext(prec=80):
        amounts = tuple(
            line_amount(line.quantity, line.unit_price, currency) for line in lines
        )
        usage = sum(amounts, Decimal(0))
        return Totals(amounts, usage, adjustment, usage + adjustment)


def totals_problems(totals: Totals) -> dict[str, str]:
    """The computed amounts that would not fit an amount column, and why.

    Keys: "lines-<i>" for a line's amount, "usage_cost", "payable".
    """
    limit = f"{AMOUNT_MAX:,}"
    problems = {}
    for i, amount in enumerate(totals.line_amounts):
        if abs(amount) > AMOUNT_MAX:
            problems[f"lines-{i}"] = (
                f"The line amount (quantity × unit price) would be {amount:,}, "
                f"more than the largest amount ({limit})."
            )
    if abs(totals.usage_cost) > AMOUNT_MAX and not problems:
        problems["usage_cost"] = (
            f"The lines add up to {totals.usage_cost:,}, more than the largest "
            f"amount ({limit}); split them over several invoices."
        )
    if abs(totals.payable) > AMOUNT_MAX and not problems:
        problems["payable"] = (
            f"The payable amount (usage cost + adjustment) would be "
            f"{totals.payable:,}, more than the largest amount ({limit})."
        )
    return problems


def known_client_name(email: str) -> str | None:
    """The name of the client with this e-mail (any case), if there is one."""
    return db.session.scalar(
        select(Client.name).where(func.lower(Client.email) == email.strip().lower())
    )


def _client_for(data: DraftInput) -> Client:
    email = data.client_email.strip().lower()
    client = db.session.scalar(select(Client).where(func.lower(Client.email) == email))
    if client is None:
        client = Client(name=data.client_name.strip(), email=email)
        db.session.add(client)
    return client


def _next_number(period: date) -> str:
    """The month's next INV-YYYYMM-NNNNNN, after the highest of the app's own."""
    prefix = f"INV-{period:%Y%m}-"
    # Imported numbers may share the prefix (INV-202505-A1): only all-digit
    # suffixes count, compared as numbers, so an odd one never stalls the
    # sequence. 18 digits at most keep the cast inside a BIGINT.
    digits = func.substr(Invoice.number, len(prefix) + 1)
    last = db.session.scalar(
        select(func.max(cast(digits, BigInteger))).where(*_numbered(prefix, digits))
    )
    return f"{prefix}{(last or 0) + 1:06d}"


def _numbered(prefix: str, digits) -> list:
    """WHERE: the number is prefix then digits (what follows it), 1 to 18 of
    them, read as an index range.

    Only the month's numbers are read, and the digits are tested with the
    database's cheapest test (no anchored regular expression, which PostgreSQL
    runs five times slower; SQLite's REGEXP calls back into Python for every
    row): benchmarks/draft_numbers.py.
    """
    shape = [func.length(digits).between(1, 18)]
    if db.session.get_bind().dialect.name == "sqlite":
        # BINARY collation is byte order: the prefix is a range of the
        # (tenant, number) unique index.
        after_prefix = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return [
            Invoice.number >= prefix,
            Invoice.number < after_prefix,
            *shape,
            ~digits.op("GLOB")("*[^0-9]*"),
        ]
    # ix_invoice_number_pattern (text_pattern_ops) serves the LIKE (0012).
    return [Invoice.number.like(f"{prefix}%"), *shape, ~digits.regexp_match("[^0-9]")]


def _apply(invoice: Invoice, data: DraftInput, totals: Totals) -> None:
    invoice.billing_period = data.billing_period
    invoice.currency = data.currency
    invoice.due_date = data.due_date
    invoice.payment_terms_days = data.payment_terms_days
    invoice.notes = data.notes
    invoice.adjustment = data.adjustment
    invoice.adjustment_reason = data.adjustment_reason
    invoice.usage_cost = totals.usage_cost
    invoice.payable = totals.payable
    invoice.lines = [
        InvoiceLine(
            position=i,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=amount,
        )
        for i, (line, amount) in enumerate(
            zip(data.lines, totals.line_amounts, strict=True)
        )
    ]


def draft_fields(invoice: Invoice) -> dict:
    """A draft's fields as its audit trail shows them."""
    return {
        "client": invoice.client.email if invoice.client else None,
        "billing_period": invoice.billing_period,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "payment_terms_days": invoice.payment_terms_days,
        "notes": invoice.notes,
        "adjustment": invoice.adjustment,
        "adjustment_reason": invoice.adjustment_reason,
        "usage_cost": invoice.usage_cost,
        "payable": invoice.payable,
        "lines": "; ".join(
            f"{line.description} × {line.quantity} @ {line.unit_price}"
            for line in invoice.lines
        ),
    }


def fill_draft(invoice: Invoice, data: DraftInput) -> None:
    """Set a draft's client, fields and lines from data, amounts computed here."""
    invoice.client = _client_for(data)
    _apply(invoice, data, compute_totals(data.lines, data.currency, data.adjustment))


def new_draft(data: DraftInput, number: str | None = None) -> Invoice:
    """A DRAFT numbered `number`, or with the billing period's next number (not
    yet in the session)."""
    invoice = Invoice(
        number=number or _next_number(data.billing_period),
        status=Status.DRAFT.value,
        amount_paid=Decimal(0),
    )
    fill_draft(invoice, data)
    return invoice
