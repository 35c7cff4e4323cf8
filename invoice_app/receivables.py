"""What is owed on a given day, and how late: the aging rule, once, in SQL.

On day D an invoice is *receivable* when it was issued on or before D, is not
a DRAFT, was not cancelled on or before D, and was not paid in full on or
before D. Its balance on D is its payable minus the payments received on or
before D; an imported PAID invoice (no payment rows) counts as paid in full on
its paid date. Its age is D minus its due date in days; 0 or less is
`not_due`. Everything here groups in SQL per currency (amounts of two
currencies are never added) and goes through the Session, so the tenant scope
(tenancy.py) confines it like the list.

When was an invoice cancelled? One cancelled in the app has a `cancel` event
in its audit trail, written in the same transaction as the change: it counts
until the end of the day (in the app's TIMEZONE) of that event. One imported
as CANCEL has no such event and counts as cancelled from its issue date, so it
is never receivable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, literal, or_, select, type_coerce

from .extensions import db
from .models import AuditEvent, Client, Invoice, Payment, Status
from .money import ScaledDecimal

BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")
BUCKET_LABELS = {
    "not_due": "Not yet due",
    "1_30": "1–30 days",
    "31_60": "31–60 days",
    "61_90": "61–90 days",
    "over_90": "Over 90 days",
}
OVERDUE_BUCKETS = BUCKETS[1:]
# What the list's `aging` filter accepts: a bucket, or all of them, or the late ones.
AGING_CHOICES = {
    "outstanding": "Outstanding (any age)",
    "overdue": "Overdue (past due)",
    **BUCKET_LABELS,
}
# A bucket's oldest day past due (over_90 has none).
_BUCKET_DAYS = {"1_30": 30, "31_60": 60, "61_90": 90}


def day_end(day: date) -> datetime:
    """The first moment after day in the app's TIMEZONE, in UTC (as stored)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start_of_next = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start_of_next.astimezone(UTC)


def paid_by(day: date):
    """SQL: what had been received on an invoice by the end of day.

    amount_paid is the sum of its payments (a PAID import sets it without any),
    so an invoice with none paid needs no look at the payment table, which is
    most open invoices.
    """
    received = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.invoice_id == Invoice.id, Payment.received_on <= day)
        .scalar_subquery()
    )
    return case((Invoice.amount_paid == 0, literal(0)), else_=received)


def balance_on(day: date):
    """SQL: the invoice's balance at the end of day (payable minus payments)."""
    # Scaled integers in SQL; read back through ScaledDecimal, sums included.
    return type_coerce(Invoice.payable - paid_by(day), ScaledDecimal())


def bucket_of(day: date):
    """SQL: the aging bucket of the invoice on day, from its due date."""
    return case(
        (Invoice.due_date < day - timedelta(days=90), literal("over_90")),
        (Invoice.due_date < day - timedelta(days=60), literal("61_90")),
        (Invoice.due_date < day - timedelta(days=30), literal("31_60")),
        (Invoice.due_date < day, literal("1_30")),
        else_=literal("not_due"),
    )


def _cancelled_after(day: date):
    return Invoice.id.in_(
        select(AuditEvent.invoice_id).where(
            AuditEvent.action == "cancel", AuditEvent.created_at >= day_end(day)
        )
    )


def _branches(day: date) -> list[list]:
    """The three ways an invoice can be receivable on day, as disjoint WHEREs.

    Apart, each is an index range (status first); one OR would read every row.
    """
    common = [Invoice.issue_date <= day]
    return [
        [*common, Invoice.status.in_([Status.DUE.value, Status.OVER_DUE.value])],
        [*common, Invoice.status == Status.PAID.value, Invoice.paid_date > day],
        [*common, Invoice.status == Status.CANCEL.value, _cancelled_after(day)],
    ]


def receivable_on(day: date):
    """SQL: the invoice counts as owed at the end of day (see the module's rule)."""
    return and_(or_(*(and_(*b) for b in _branches(day))), balance_on(day) > 0)


def bucket_predicate(bucket: str, day: date):
    """SQL: receivable on day and in this AGING_CHOICES bucket (the list's filter)."""
    return and_(receivable_on(day), _bucket_range(bucket, day))


def _bucket_range(bucket: str, day: date):
    # The bucket as a due-date range, which an index can use (bucket_of() is
    # the same ranges as a CASE).
    if bucket == "outstanding":
        return literal(True)
    if bucket == "overdue":
        return Invoice.due_date < day
    if bucket == "not_due":
        return or_(Invoice.due_date >= day, Invoice.due_date.is_(None))
    if bucket == "over_90":
        return Invoice.due_date < day - timedelta(days=90)
    newest = {"1_30": 0, "31_60": 30, "61_90": 60}[bucket]
    return and_(
        Invoice.due_date < day - timedelta(days=newest),
        Invoice.due_date >= day - timedelta(days=_BUCKET_DAYS[bucket]),
    )


@dataclass(frozen=True)
class Bucket:
    amount: Decimal = Decimal(0)
    count: int = 0

    def __add__(self, other: Bucket) -> Bucket:
        return Bucket(self.amount + other.amount, self.count + other.count)


@dataclass(frozen=True)
class Aging:
    """One currency's receivables on a day, split into the five buckets."""

    currency: str
    buckets: dict[str, Bucket] = field(default_factory=dict)

    @property
    def outstanding(self) -> Bucket:
        return _total(self.buckets[b] for b in BUCKETS)

    @property
    def overdue(self) -> Bucket:
        return _total(self.buckets[b] for b in OVERDUE_BUCKETS)


def _total(buckets: Iterable[Bucket]) -> Bucket:
    return sum(buckets, Bucket())


def _grouped(day: date, *keys) -> list:
    """(keys…, bucket, count, balance) of receivable invoices, per branch."""
    bucket, balance = bucket_of(day), balance_on(day)
    rows = []
    for where in _branches(day):
        rows += db.session.execute(
            select(
                *keys,
                bucket,
                func.count(),
                type_coerce(func.sum(balance), ScaledDecimal()),
            )
            .where(*where, balance > 0)
            .group_by(*keys, bucket)
        ).all()
    return rows


def _agings(rows, key) -> dict:
    """{key: {bucket: Bucket}} from grouped rows (a group may come per branch)."""
    found: dict = {}
    for row in rows:
        *keys, bucket, count, amount = row
        buckets = found.setdefault(key(keys), {b: Bucket() for b in BUCKETS})
        buckets[bucket] += Bucket(Decimal(amount), int(count))
    return found


def aging(day: date) -> list[Aging]:
    """Receivables on day per currency (sorted by code), bucket by bucket."""
    found = _agings(_grouped(day, Invoice.currency), lambda keys: keys[0])
    return [Aging(currency, found[currency]) for currency in sorted(found)]


@dataclass(frozen=True)
class ClientAging:
    """One client's receivables in one currency."""

    email: str
    name: str
    aging: Aging


def top_overdue_clients(day: date, limit: int = 10) -> list[ClientAging]:
    """Per currency, the `limit` clients with the largest overdue balance on day."""
    found = _agings(
        _grouped(day, Invoice.currency, Invoice.client_id), lambda keys: tuple(keys)
    )
    by_currency: dict[str, list[Aging]] = {}
    for (currency, client_id), buckets in found.items():
        entry = (client_id, Aging(currency, buckets))
        if entry[1].overdue.count:
            by_currency.setdefault(currency, []).append(entry)
    chosen = []
    for currency in sorted(by_currency):
        ranked = sorted(
            by_currency[currency], key=lambda e: (-e[1].overdue.amount, e[0])
        )
        chosen += ranked[:limit]
    clients = {
        c.id: c
        for c in db.session.scalars(
            select(Client).where(Client.id.in_({cid for cid, _ in chosen}))
        )
    }
    return [
        ClientAging(clients[cid].email, clients[cid].name, agg)
        for cid, agg in chosen
        if cid in clients
    ]


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


def monthly(day: date, count: int = 12) -> dict[str, list[Month]]:
    """Per currency, the last `count` months up to day: invoiced, collected, overdue.

    Invoiced: the payable of invoices issued in the month, less those cancelled
    (an imported CANCEL never was owed). Collected: the payments received in
    the month, and an imported PAID invoice's payable in its paid month.
    Overdue: aging() at the month's end, past due buckets only.
    """
    months = last_months(day, count)
    first, last = months[0][0], months[-1][1]
    sums: dict[str, dict[str, list[Decimal]]] = {}

    def add(kind: str, rows) -> None:
        for currency, *values in rows:
            cell = sums.setdefault(currency, {}).setdefault(
                kind, [Decimal(0)] * len(months)
            )
            for i, value in enumerate(values):
                cell[i] += Decimal(value or 0)

    add(
        "invoiced",
        db.session.execute(
            select(
                Invoice.currency,
                *_per_month(months, Invoice.issue_date, Invoice.payable),
            )
            .where(
                Invoice.issue_date.between(first, last),
                Invoice.status.not_in([Status.DRAFT.value, Status.CANCEL.value]),
            )
            .group_by(Invoice.currency)
        ),
    )
    add(
        "collected",
        db.session.execute(
            select(
                Invoice.currency,
                *_per_month(months, Payment.received_on, Payment.amount),
            )
            .join(Invoice, Payment.invoice_id == Invoice.id)
            .where(Payment.received_on.between(first, last))
            .group_by(Invoice.currency)
        ),
    )
    unrecorded = ~select(Payment.id).where(Payment.invoice_id == Invoice.id).exists()
    add(
        "collected",
        db.session.execute(
            select(
                Invoice.currency,
                *_per_month(months, Invoice.paid_date, Invoice.payable),
            )
            .where(
                Invoice.status == Status.PAID.value,
                Invoice.paid_date.between(first, last),
                Invoice.payable > 0,
                unrecorded,
            )
            .group_by(Invoice.currency)
        ),
    )
    for i, (_, end) in enumerate(months):
        for found in aging(end):
            cell = sums.setdefault(found.currency, {}).setdefault(
                "overdue", [Decimal(0)] * len(months)
            )
            cell[i] = found.overdue.amount
    zero = [Decimal(0)] * len(months)
    return {
        currency: [
            Month(
                start,
                end,
                *(kinds.get(k, zero)[i] for k in ("invoiced", "collected", "overdue")),
            )
            for i, (start, end) in enumerate(months)
        ]
        for currency, kinds in sorted(sums.items())
    }
