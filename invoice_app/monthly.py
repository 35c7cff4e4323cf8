"""The overview chart's figures: per currency and month, invoiced, collected, overdue.

Overdue at a month's end is receivables.aging() on that day (the one rule);
invoiced and collected are grouped sums over the twelve months at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, type_coerce

from .extensions import db
from .models import Invoice, Payment, Status
from .money import ScaledDecimal
from .queries import invoice_tally
from .receivables import aging
from .tenancy import current as current_scope
from .tenancy import tally_criteria

KINDS = ("invoiced", "collected", "overdue")


@dataclass(frozen=True)
class Month:
    """One month of a currency's chart: what was billed, received and late."""

    start: date
    end: date  # the month's last day, or the overview's day in its own month
    invoiced: Decimal
    collected: Decimal
    overdue: Decimal


def last_months(day: date, count: int = 12) -> list[tuple[date, date]]:
    """(first day, last day) of the `count` months up to day's, day ending the last."""
    months = []
    start = day.replace(day=1)
    for _ in range(count):
        following = (start + timedelta(days=32)).replace(day=1)
        months.append((start, min(following - timedelta(days=1), day)))
        start = (start - timedelta(days=1)).replace(day=1)
    return months[::-1]


def _per_month(months, column, value) -> list:
    return [
        type_coerce(
            func.sum(case((column.between(start, end), value), else_=0)),
            ScaledDecimal(),
        )
        for start, end in months
    ]


def _invoiced(months):
    """Payable of the invoices issued in each month, cancelled ones left out."""
    first, last = months[0][0], months[-1][1]
    scope = current_scope()
    if scope is not None and scope.limited_to_clients:
        # The tally knows tenants, not clients: the rows, through the index.
        source, where = Invoice, []
    else:
        source, where = invoice_tally.c, tally_criteria(invoice_tally.c)
        # A group whose invoices all moved on (cancelled, deleted) stays at
        # zero: its currency has nothing invoiced and no place in the chart.
        where.append(invoice_tally.c.invoices > 0)
    return db.session.execute(
        select(source.currency, *_per_month(months, source.issue_date, source.payable))
        .where(
            *where,
            source.issue_date.between(first, last),
            source.status.not_in([Status.DRAFT.value, Status.CANCEL.value]),
        )
        .group_by(source.currency)
    )


def _collected(months) -> list:
    """Payments received in each month, and imported PAID invoices in their month.

    An imported PAID invoice has no payment rows: it was paid in full on its
    paid date (receivables.py).
    """
    first, last = months[0][0], months[-1][1]
    received = db.session.execute(
        select(
            Invoice.currency, *_per_month(months, Payment.received_on, Payment.amount)
        )
        .join(Invoice, Payment.invoice_id == Invoice.id)
        .where(Payment.received_on.between(first, last))
        .group_by(Invoice.currency)
    ).all()
    unrecorded = ~select(Payment.id).where(Payment.invoice_id == Invoice.id).exists()
    settled = _per_month(months, Invoice.paid_date, Invoice.payable)
    imported = db.session.execute(
        select(Invoice.currency, *settled)
        .where(
            Invoice.status == Status.PAID.value,
            Invoice.paid_date.between(first, last),
            Invoice.payable > 0,
            unrecorded,
        )
        .group_by(Invoice.currency)
    ).all()
    return received + imported


def monthly(day: date, count: int = 12) -> dict[str, list[Month]]:
    """Per currency, the last `count` months up to day: invoiced, collected, overdue."""
    months = last_months(day, count)
    sums: dict[str, dict[str, list[Decimal]]] = {}

    def cell(currency: str, kind: str) -> list[Decimal]:
        kinds = sums.setdefault(currency, {})
        return kinds.setdefault(kind, [Decimal(0)] * len(months))

    grouped = {"invoiced": _invoiced(months), "collected": _collected(months)}
    for kind, rows in grouped.items():
        for currency, *values in rows:
            figures = cell(currency, kind)
            for i, value in enumerate(values):
                figures[i] += Decimal(value or 0)
    for i, (_, end) in enumerate(months):
        for found in aging(end, overdue_only=True):
            cell(found.currency, "overdue")[i] = found.overdue.amount
    return {
        currency: [
            Month(start, end, *(cell(currency, k)[i] for k in KINDS))
            for i, (start, end) in enumerate(months)
        ]
        for currency in sorted(sums)
    }
