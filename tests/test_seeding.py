"""Bulk seeding writes realistic invoices that search, counts and the ORM all see."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from invoice_app.demo import load as seeding
from invoice_app.demo.data import client_count, demo_invoices
from invoice_app.demo.load import seed_demo
from invoice_app.extensions import db
from invoice_app.filters import InvoiceFilters
from invoice_app.models import Client, Invoice, InvoiceLine, Payment, Status
from invoice_app.queries import effective_status, status_counts, totals
from tests.test_search import fts_consistent

TODAY = date(2025, 7, 15)
COUNT = 600


@pytest.fixture
def seeded(app):
    assert seed_demo(COUNT, TODAY) == COUNT
    return COUNT


def tally_matches_invoices() -> None:
    """The maintained tally equals a fresh GROUP BY over the invoices."""
    key = "status, currency, billing_period, due_date, issue_date"
    fresh = db.session.execute(
        text(
            f"SELECT {key}, count(*), sum(usage_cost), sum(payable)"
            f" FROM invoice GROUP BY {key}"
        )
    ).all()
    kept = db.session.execute(
        text(
            f"SELECT {key}, invoices, usage_cost, payable FROM invoice_tally"
            " WHERE invoices <> 0"
        )
    ).all()
    assert sorted(map(tuple, kept), key=repr) == sorted(map(tuple, fresh), key=repr)


def test_seeded_invoices_cover_every_status_period_and_currency(seeded):
    day = TODAY
    shown = Counter(
        db.session.scalars(select(effective_status(day)).select_from(Invoice))
    )
    assert set(shown) == {s.value for s in Status}
    assert sum(shown.values()) == COUNT
    periods = db.session.scalar(select(func.count(Invoice.billing_period.distinct())))
    assert periods == 24
    currencies = db.session.scalar(select(func.count(Invoice.currency.distinct())))
    assert currencies >= 4
    assert db.session.scalar(select(func.count()).select_from(Client)) == (
        client_count(COUNT)
    )


def test_counts_and_totals_match_the_rows(seeded):
    filters = InvoiceFilters()
    counts = status_counts(filters, TODAY)
    status = effective_status(TODAY)
    rows = db.session.execute(
        select(status, func.count()).select_from(Invoice).group_by(status)
    ).all()
    assert dict(rows) == {s: n for s, n in counts.items() if n and s != "ALL"}
    assert counts["ALL"] == COUNT
    assert sum(t.count for t in totals(filters, TODAY)) == COUNT
    tally_matches_invoices()


def test_lines_amounts_and_payments_add_up(seeded):
    per_invoice = db.session.execute(
        select(Invoice.id, func.count(InvoiceLine.id), func.sum(InvoiceLine.amount))
        .join(InvoiceLine)
        .group_by(Invoice.id)
    ).all()
    assert len(per_invoice) == COUNT
    assert {n for _, n, _ in per_invoice} == {1, 2, 3, 4}
    usage = dict(db.session.execute(select(Invoice.id, Invoice.usage_cost)).all())
    assert all(usage[i] == total for i, _, total in per_invoice)

    paid = db.session.scalars(select(Invoice).where(Invoice.status == "PAID")).all()
    assert paid
    for invoice in paid:
        assert invoice.amount_paid == invoice.payable
        assert [p.amount for p in invoice.payments] == [invoice.payable]
        assert invoice.balance_due == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == len(paid)


def test_rows_equal_what_the_orm_would_write(seeded):
    """Same search text the flush hook computes, same Decimals the generator made."""
    made = {i.number: i for i in demo_invoices(COUNT, TODAY)}
    for invoice in db.session.scalars(select(Invoice).limit(50)):
        columns = (invoice.search_number, invoice.search_text)
        assert columns == invoice.compute_search_columns()
        assert invoice.client.search_text == invoice.client.compute_search_text()
        demo = made[invoice.number]
        assert invoice.usage_cost == invoice.payable == demo.usage_cost
        assert [
            (line.description, line.quantity, line.unit_price, line.amount)
            for line in invoice.lines
        ] == [tuple(line) for line in demo.lines]
        assert (invoice.status, invoice.due_date) == (demo.status, demo.due_date)


@pytest.mark.parametrize("q", ["müller maschinenbau", "ŻABKA", "зелёный", "さくら"])
def test_search_finds_seeded_clients(seeded, client, auth, q):
    auth.login("staff")
    body = client.get("/api/invoices", query_string={"q": q, "per_page": 5}).json
    names = db.session.scalars(select(Client.name).join(Invoice)).all()
    assert body["total"] == sum(q.casefold() in n.casefold() for n in names) > 0
    assert all(q.casefold() in item["client_name"].casefold() for item in body["items"])


def test_seeding_twice_adds_nothing_and_keeps_indexes_in_step(seeded):
    assert seed_demo(COUNT, TODAY) == 0
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == COUNT
    assert seed_demo(COUNT + 100, TODAY) == 100
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == COUNT + 100
    tally_matches_invoices()
    fts_consistent()


def test_seeding_next_to_existing_invoices_keeps_ids_and_triggers(
    app, make_invoice, client, auth
):
    make_invoice(number="INV-REAL-1", notes="hand made")
    seed_demo(50, TODAY)
    later = make_invoice(number="INV-REAL-2", notes="after the seed")
    assert later.id == db.session.scalar(select(func.max(Invoice.id)))
    auth.login("staff")
    for q, number in [("hand made", "INV-REAL-1"), ("after the seed", "INV-REAL-2")]:
        items = client.get("/api/invoices", query_string={"q": q}).json["items"]
        assert [item["number"] for item in items] == [number]
    tally_matches_invoices()
    if db.engine.dialect.name == "sqlite":
        names = db.session.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        assert {
            n for n in names if n.startswith(("invoice_search", "invoice_tally"))
        } == {
            f"invoice_{kind}_{event}"
            for kind in ("search", "tally")
            for event in ("insert", "update", "delete")
        }


def test_a_big_load_rebuilds_postgresql_indexes(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the index rebuild is PostgreSQL's bulk path")
    indexes = "SELECT indexname, indexdef FROM pg_indexes ORDER BY indexname"
    before = db.session.execute(text(indexes)).all()
    db.session.rollback()
    monkeypatch.setattr(seeding, "REBUILD_AT", 100)
    assert seed_demo(200, TODAY) == 200
    assert db.session.execute(text(indexes)).all() == before
    tally_matches_invoices()
    found = db.session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(Invoice.search_text.like("%compute instances%"))
    )
    assert found > 0


def test_demo_amounts_are_exact_decimals():
    for invoice in demo_invoices(200, TODAY):
        assert invoice.usage_cost == sum(line.amount for line in invoice.lines)
        for line in invoice.lines:
            assert line.amount == (line.quantity * line.unit_price).quantize(
                Decimal(1) if invoice.currency == "JPY" else Decimal("0.01")
            )
