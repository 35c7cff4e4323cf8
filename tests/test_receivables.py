"""The aging rule (receivables.py) on hand-made invoices, and against an oracle.

Each case builds invoices the way the app leaves them (payments as rows and in
amount_paid, a cancel through lifecycle.cancel with its audit event at that
moment, imports with a status and no trail) and reads aging() on chosen days.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from invoice_app import lifecycle
from invoice_app.extensions import db
from invoice_app.models import Payment
from invoice_app.receivables import BUCKETS, aging, top_overdue_clients

D = date(2025, 7, 15)


def pay(invoice, amount: str, on: date, *, settle: bool = False) -> None:
    """A payment row and its amount_paid, as lifecycle.record_payment leaves them."""
    amount = Decimal(amount)
    invoice.payments.append(Payment(amount=amount, received_on=on))
    invoice.amount_paid += amount
    if settle or invoice.amount_paid == invoice.payable:
        invoice.status, invoice.paid_date = "PAID", on
    db.session.commit()


def by_currency(day: date) -> dict:
    return {a.currency: a for a in aging(day)}


def figures(day: date, currency: str = "USD") -> dict:
    """{bucket: (amount, count)} plus the outstanding total, for one currency."""
    found = by_currency(day).get(currency)
    if found is None:
        return {}
    result = {b: (found.buckets[b].amount, found.buckets[b].count) for b in BUCKETS}
    result["outstanding"] = (found.outstanding.amount, found.outstanding.count)
    return result


def test_partial_payments_count_only_when_received_by_the_day(make_invoice):
    invoice = make_invoice(payable=Decimal("100.00"), due_date=D + timedelta(days=5))
    pay(invoice, "30.00", D - timedelta(days=3))
    pay(invoice, "20.00", D + timedelta(days=1))  # after D: still owed on D

    assert figures(D)["not_due"] == (Decimal("70.00"), 1)
    assert figures(D + timedelta(days=1))["not_due"] == (Decimal("50.00"), 1)
    assert figures(D - timedelta(days=4))["not_due"] == (Decimal("100.00"), 1)


def test_paid_in_full_leaves_the_day_it_is_paid(make_invoice):
    invoice = make_invoice(payable=Decimal("40.00"), due_date=D - timedelta(days=10))
    pay(invoice, "40.00", D)

    assert figures(D) == {}
    assert figures(D - timedelta(days=1))["1_30"] == (Decimal("40.00"), 1)


def test_an_imported_paid_invoice_is_paid_in_full_on_its_paid_date(make_invoice):
    make_invoice(
        payable=Decimal("25.00"),
        amount_paid=Decimal("25.00"),
        status="PAID",
        paid_date=D,
        due_date=D - timedelta(days=45),
    )
    assert figures(D - timedelta(days=1))["31_60"] == (Decimal("25.00"), 1)
    assert figures(D) == {}


def test_drafts_and_invoices_issued_after_the_day_do_not_count(make_invoice):
    make_invoice(status="DRAFT", issue_date=None)
    make_invoice(issue_date=D + timedelta(days=1), due_date=D + timedelta(days=30))
    assert figures(D) == {}
    assert figures(D + timedelta(days=1))["outstanding"] == (Decimal("15.00"), 1)


def test_imported_cancel_never_counts(make_invoice):
    make_invoice(status="CANCEL", issue_date=D - timedelta(days=90))
    for day in (D - timedelta(days=60), D, D + timedelta(days=60)):
        assert figures(day) == {}


def test_a_cancel_in_the_app_counts_until_that_day_ends(make_invoice):
    invoice = make_invoice(due_date=D - timedelta(days=2))
    cancelled_at = datetime(2025, 7, 20, 16, 30, tzinfo=UTC)
    with time_machine.travel(cancelled_at, tick=False):
        lifecycle.cancel(invoice, invoice.version, "a@example.test", "Wrong", D)

    assert figures(date(2025, 7, 19))["1_30"] == (Decimal("15.00"), 1)
    assert figures(date(2025, 7, 20)) == {}
    assert figures(D)["1_30"] == (Decimal("15.00"), 1)


@pytest.mark.parametrize(
    "days_late, bucket",
    [
        (-30, "not_due"),
        (0, "not_due"),  # due exactly on D: not late yet
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "over_90"),
        (400, "over_90"),
    ],
)
def test_age_is_the_day_minus_the_due_date(make_invoice, days_late, bucket):
    make_invoice(
        issue_date=D - timedelta(days=500), due_date=D - timedelta(days=days_late)
    )
    found = figures(D)
    assert found[bucket] == (Decimal("15.00"), 1)
    assert sum(count for _, count in (found[b] for b in BUCKETS)) == 1


def test_currencies_are_never_added_together(make_invoice):
    make_invoice(currency="USD", payable=Decimal("10.00"))
    make_invoice(currency="EUR", payable=Decimal("7.50"))
    make_invoice(currency="JPY", payable=Decimal("1200"))
    found = by_currency(D)
    assert sorted(found) == ["EUR", "JPY", "USD"]
    assert found["EUR"].outstanding.amount == Decimal("7.50")
    assert found["JPY"].outstanding.amount == Decimal("1200")
    assert found["USD"].outstanding.amount == Decimal("10.00")


def test_overdue_is_every_bucket_but_not_due(make_invoice):
    make_invoice(payable=Decimal("5.00"), due_date=D)
    make_invoice(payable=Decimal("6.00"), due_date=D - timedelta(days=1))
    make_invoice(payable=Decimal("7.00"), due_date=D - timedelta(days=100))
    usd = by_currency(D)["USD"]
    assert (usd.overdue.amount, usd.overdue.count) == (Decimal("13.00"), 2)
    assert (usd.outstanding.amount, usd.outstanding.count) == (Decimal("18.00"), 3)


def _oracle(invoices, day: date) -> dict:
    """The rule in plain Python over loaded invoices: {currency: {bucket: [amt, n]}}."""
    found: dict = {}
    for inv in invoices:
        if inv.status == "DRAFT" or inv.issue_date is None or inv.issue_date > day:
            continue
        if inv.status == "CANCEL" and getattr(inv, "_cancelled_on", None) is None:
            continue
        if inv.status == "CANCEL" and inv._cancelled_on <= day:
            continue
        if inv.status == "PAID" and inv.paid_date <= day:
            continue
        balance = inv.payable - sum(
            (p.amount for p in inv.payments if p.received_on <= day), Decimal(0)
        )
        if balance <= 0:
            continue
        late = (day - inv.due_date).days
        bucket = (
            "not_due"
            if late <= 0
            else "1_30"
            if late <= 30
            else "31_60"
            if late <= 60
            else "61_90"
            if late <= 90
            else "over_90"
        )
        cell = found.setdefault(inv.currency, {}).setdefault(bucket, [Decimal(0), 0])
        cell[0] += balance
        cell[1] += 1
    return found


def test_buckets_add_up_to_the_outstanding_total_and_match_an_oracle(make_invoice):
    rng = random.Random(12)
    start = date(2025, 1, 1)
    invoices = []
    for i in range(60):
        issued = start + timedelta(days=rng.randrange(150))
        payable = Decimal(rng.randrange(100, 50_000)) / 100
        currency = rng.choice(["USD", "EUR"])
        invoice = make_invoice(
            client_name=f"Client {i % 7}",
            currency=currency,
            payable=payable,
            usage_cost=payable,
            issue_date=issued,
            due_date=issued + timedelta(days=rng.choice([0, 14, 30, 45])),
            status=rng.choice(["DUE", "DUE", "DUE", "DRAFT", "CANCEL"]),
        )
        if invoice.status == "DRAFT":
            invoice.issue_date = None
            db.session.commit()
        elif invoice.status == "DUE" and rng.random() < 0.6:
            part = (payable * Decimal(rng.choice(["0.25", "0.5", "1"]))).quantize(
                Decimal("0.01")
            )
            pay(invoice, str(part), issued + timedelta(days=rng.randrange(60)))
        if invoice.status == "DUE" and rng.random() < 0.2:
            on = issued + timedelta(days=rng.randrange(90))
            moment = datetime.combine(on, datetime.min.time(), tzinfo=UTC)
            with time_machine.travel(moment + timedelta(hours=12), tick=False):
                lifecycle.cancel(invoice, invoice.version, "a@example.test", "x", on)
            invoice._cancelled_on = on
        invoices.append(invoice)

    for day in [start + timedelta(days=d) for d in range(0, 240, 17)]:
        expected = _oracle(invoices, day)
        found = by_currency(day)
        assert sorted(found) == sorted(expected), day
        for currency, agg in found.items():
            got = {
                b: [agg.buckets[b].amount, agg.buckets[b].count]
                for b in BUCKETS
                if agg.buckets[b].count
            }
            assert got == expected[currency], (day, currency)
            total = sum((agg.buckets[b].amount for b in BUCKETS), Decimal(0))
            assert total == agg.outstanding.amount


def test_top_overdue_clients_rank_by_overdue_balance_per_currency(make_invoice):
    for i, amount in enumerate(["10.00", "30.00", "20.00"]):
        make_invoice(
            client_name=f"Late {i}",
            payable=Decimal(amount),
            due_date=D - timedelta(days=40),
        )
    make_invoice(client_name="Not late", payable=Decimal("999.00"), due_date=D)
    make_invoice(client_name="Late 0", currency="EUR", due_date=D - timedelta(days=5))

    ranked = [(c.name, c.aging.currency) for c in top_overdue_clients(D, limit=2)]
    assert ranked == [("Late 0", "EUR"), ("Late 1", "USD"), ("Late 2", "USD")]
    late1 = top_overdue_clients(D)[1]
    assert late1.aging.buckets["31_60"].amount == Decimal("30.00")
    assert late1.email == "late1@example.test"


def test_monthly_invoiced_collected_and_overdue_at_each_month_end(make_invoice):
    from invoice_app.monthly import monthly

    # Issued in May, due 31 May, 40.00 paid on 10 June, the rest still owed.
    partly = make_invoice(
        payable=Decimal("100.00"),
        issue_date=date(2025, 5, 2),
        due_date=date(2025, 5, 31),
    )
    pay(partly, "40.00", date(2025, 6, 10))
    # Imported PAID in June (no payment rows): collected in full in June.
    make_invoice(
        payable=Decimal("30.00"),
        status="PAID",
        amount_paid=Decimal("30.00"),
        issue_date=date(2025, 6, 1),
        due_date=date(2025, 6, 20),
        paid_date=date(2025, 6, 25),
    )
    make_invoice(status="CANCEL", issue_date=date(2025, 6, 3))  # never invoiced
    months = {m.start: m for m in monthly(D)["USD"]}
    assert len(months) == 12 and min(months) == date(2024, 8, 1)
    may, june, july = (months[date(2025, m, 1)] for m in (5, 6, 7))
    assert (may.invoiced, may.collected, may.overdue) == (Decimal("100.00"), 0, 0)
    assert june.invoiced == Decimal("30.00")
    assert june.collected == Decimal("70.00")  # 40 received + 30 imported PAID
    assert june.overdue == Decimal("60.00")  # at 30 June: the partly paid one
    assert july.end == D and july.overdue == Decimal("60.00")
