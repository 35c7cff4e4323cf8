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
from sqlalchemy import (
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)

from .extensions import db
from .models import AuditEvent, Client, Invoice, Payment, Status
from .money import ScaledDecimal
from .sqlite_hints import unindexed

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


def owes_on(day: date):
    """SQL: the invoice's balance at the end of day is above zero.

    What was received by a day never exceeds amount_paid (the sum of every
    payment; the whole payable for a PAID import), so an invoice whose payable
    is above amount_paid owes on every day, and only the others need their
    payments looked up (the index has both columns; the payments have not).
    """
    return or_(Invoice.payable > Invoice.amount_paid, balance_on(day) > 0)


def _branches(day: date, *, overdue_only: bool = False) -> list[list]:
    """The three ways an invoice can be receivable on day, as disjoint WHEREs.

    Apart, each is a range of ix_invoice_receivable (status, paid date, due
    date first); one OR would read every row. Open invoices have no paid date
    (ck_invoice_paid_date_only_when_paid), which lets the due date be a range.
    """
    common = [_issue_date() <= day]
    if overdue_only:
        common.append(Invoice.due_date < day)
    return [
        [
            Invoice.status.in_([Status.DUE.value, Status.OVER_DUE.value]),
            Invoice.paid_date.is_(None),
            *common,
        ],
        [Invoice.status == Status.PAID.value, Invoice.paid_date > day, *common],
        [Invoice.status == Status.CANCEL.value, *common, _cancelled_after(day)],
    ]


def _issue_date():
    """Invoice.issue_date, which SQLite must not pick an index for here.

    "Issued on or before the day" holds for nearly every invoice, so its index
    is the worst way in; SQLite, with no histogram, took it anyway and read
    every row (393 ms at a million against 58 ms through ix_invoice_receivable,
    benchmarks/receivables.py). PostgreSQL plans by its statistics.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return unindexed(Invoice.issue_date)
    return Invoice.issue_date


def receivable_on(day: date):
    """SQL: the invoice counts as owed at the end of day (see the module's rule)."""
    return and_(or_(*(and_(*b) for b in _branches(day))), owes_on(day))


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


def _without_jit() -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction.

    The per-invoice payment lookups make the planner's estimate large enough to
    compile the statement, which took 300 ms of a 1 s aging at a million
    invoices (EXPLAIN ANALYZE) and saves nothing on index-only scans.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _grouped(day: date, *keys, overdue_only: bool = False, where=()) -> list:
    """(keys…, bucket, count, balance) of receivable invoices, per branch."""
    bucket, balance = bucket_of(day), balance_on(day)
    _without_jit()
    rows = []
    for branch in _branches(day, overdue_only=overdue_only):
        rows += db.session.execute(
            select(
                *keys,
                bucket,
                func.count(),
                type_coerce(func.sum(balance), ScaledDecimal()),
            )
            .where(*branch, *where, owes_on(day))
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


def aging(day: date, *, overdue_only: bool = False) -> list[Aging]:
    """Receivables on day per currency (sorted by code), bucket by bucket.

    overdue_only leaves out what is not yet due (its bucket stays empty).
    """
    found = _agings(
        _grouped(day, Invoice.currency, overdue_only=overdue_only),
        lambda keys: keys[0],
    )
    return [Aging(currency, found[currency]) for currency in sorted(found)]


@dataclass(frozen=True)
class ClientAging:
    """One client's receivables in one currency."""

    email: str
    name: str
    aging: Aging


def _ranked_clients(day: date, limit: int) -> list[tuple[str, int]]:
    """(currency, client id) of each currency's `limit` largest overdue balances."""
    owed = union_all(
        *(
            select(
                Invoice.currency.label("currency"),
                Invoice.client_id.label("client_id"),
                balance_on(day).label("balance"),
            ).where(*branch, owes_on(day))
            for branch in _branches(day, overdue_only=True)
        )
    ).subquery("owed")
    total = func.sum(owed.c.balance)
    _without_jit()
    ranked = (
        select(
            owed.c.currency,
            owed.c.client_id,
            func.row_number()
            .over(
                partition_by=owed.c.currency,
                order_by=(total.desc(), owed.c.client_id),
            )
            .label("rank"),
        )
        .group_by(owed.c.currency, owed.c.client_id)
        .subquery("ranked")
    )
    return [
        (currency, client_id)
        for currency, client_id in db.session.execute(
            select(ranked.c.currency, ranked.c.client_id)
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.currency, ranked.c.rank)
        )
    ]


def top_overdue_clients(day: date, limit: int = 10) -> list[ClientAging]:
    """Per currency, the `limit` clients with the largest overdue balance on day."""
    chosen = _ranked_clients(day, limit)
    if not chosen:
        return []
    ids = sorted({client_id for _, client_id in chosen})
    found = _agings(
        _grouped(
            day,
            Invoice.currency,
            Invoice.client_id,
            where=[Invoice.client_id.in_(ids)],
        ),
        lambda keys: tuple(keys),
    )
    clients = {
        c.id: c for c in db.session.scalars(select(Client).where(Client.id.in_(ids)))
    }
    return [
        ClientAging(clients[cid].email, clients[cid].name, Aging(currency, found[key]))
        for currency, cid in chosen
        if (key := (currency, cid)) in found and cid in clients
    ]
