"""Every invoice list starts here: invoice_query(filters) and its companions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, literal, or_, select

from .extensions import db
from .filters import InvoiceFilters
from .models import Client, Invoice, Status


def effective_status(today: date):
    """SQL for the status users see: DUE past its due date reads as OVER_DUE."""
    return case(
        (
            and_(Invoice.status == Status.DUE.value, Invoice.due_date < today),
            literal(Status.OVER_DUE.value),
        ),
        else_=Invoice.status,
    )


def status_predicate(status: str, today: date):
    """A WHERE clause for one effective status that can use the status index."""
    if status == Status.DUE:
        return and_(Invoice.status == Status.DUE.value, Invoice.due_date >= today)
    if status == Status.OVER_DUE:
        return or_(
            Invoice.status == Status.OVER_DUE.value,
            and_(Invoice.status == Status.DUE.value, Invoice.due_date < today),
        )
    return Invoice.status == status


def _date_predicates(filters: InvoiceFilters) -> list:
    column = {
        "period": Invoice.billing_period,
        "due": Invoice.due_date,
        "issued": Invoice.issue_date,
    }[filters.date_field]
    start, end = filters.date_from, filters.date_to
    if filters.date_field == "period":
        # A billing period is a month: it matches when that month is in the range.
        start = start.replace(day=1) if start else None
        end = end.replace(day=1) if end else None
    predicates = []
    if start:
        predicates.append(column >= start)
    if end:
        predicates.append(column <= end)
    return predicates


def _search_predicate(text: str):
    # search_text is case-folded on write; folding the needle the same way makes
    # the match Unicode-aware, and autoescape keeps % and _ literal.
    return Invoice.search_text.contains(text.casefold(), autoescape=True)


def _where(filters: InvoiceFilters, today: date, *, with_status: bool = True) -> list:
    where = _date_predicates(filters)
    if filters.q:
        where.append(_search_predicate(filters.q))
    if with_status and filters.status != "ALL":
        where.append(status_predicate(filters.status, today))
    return where


def _order_by(filters: InvoiceFilters, today: date) -> list:
    column = {
        "number": Invoice.number,
        "client": Client.name,
        "period": Invoice.billing_period,
        "usage_cost": Invoice.usage_cost,
        "payable": Invoice.payable,
        "issue_date": Invoice.issue_date,
        "due_date": Invoice.due_date,
        "status": effective_status(today),
    }[filters.sort_key]
    if filters.sort_descending:
        return [column.desc(), Invoice.id.desc()]
    return [column.asc(), Invoice.id.asc()]


def invoice_query(filters: InvoiceFilters, today: date) -> Select:
    """Invoices (with client and effective status) matching filters, in sort order."""
    return (
        select(Invoice, Client, effective_status(today).label("effective_status"))
        .join(Client, Invoice.client_id == Client.id)
        .where(*_where(filters, today))
        .order_by(*_order_by(filters, today))
    )


def page_of(filters: InvoiceFilters, today: date) -> list:
    """One page of invoice_query() rows."""
    stmt = invoice_query(filters, today)
    stmt = stmt.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)
    return db.session.execute(stmt).all()


def status_counts(filters: InvoiceFilters, today: date) -> dict[str, int]:
    """How many invoices each status would show under the other filters."""
    status = effective_status(today)
    stmt = select(status, func.count()).select_from(Invoice).group_by(status)
    stmt = stmt.where(*_where(filters, today, with_status=False))
    counts = {s.value: 0 for s in Status}
    for name, count in db.session.execute(stmt):
        counts[name] = count
    counts["ALL"] = sum(counts.values())
    return counts


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    usage_cost: Decimal
    payable: Decimal


def totals(filters: InvoiceFilters, today: date) -> list[CurrencyTotal]:
    """Count and sums per currency of everything that matches (never mixed)."""
    stmt = (
        select(
            Invoice.currency,
            func.count(),
            # sum() keeps the column type, so the scaled integers come back Decimal.
            func.sum(Invoice.usage_cost),
            func.sum(Invoice.payable),
        )
        .where(*_where(filters, today))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    )
    return [
        CurrencyTotal(currency, count, usage or Decimal(0), payable or Decimal(0))
        for currency, count, usage, payable in db.session.execute(stmt)
    ]
