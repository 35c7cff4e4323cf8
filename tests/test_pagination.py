"""Pages, counts and totals stay exact however they are computed.

A page comes from a deferred join (ids over an index, then rows), the counts and
totals of an unsearched list from the trigger-kept tally. The oracles here are
the plain queries: OFFSET over invoice_query(), GROUP BY over the invoices.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import delete, func, select, text, update
from test_seeding import tally_matches_invoices

from invoice_app import queries
from invoice_app.demo.load import seed_demo
from invoice_app.extensions import db
from invoice_app.filters import SORT_KEYS, InvoiceFilters
from invoice_app.lifecycle import mark_overdue
from invoice_app.models import Invoice, InvoiceLine
from invoice_app.queries import (
    effective_status,
    invoice_query,
    page_of,
    status_counts,
    totals,
)

TODAY = date(2025, 7, 15)


@pytest.fixture
def seeded(app, make_invoice):
    seed_demo(300, TODAY)
    # Ties on every sort key, so the id tie-breaker decides the order.
    for i in range(6):
        make_invoice(
            number=f"INV-TIE-{i}",
            client_name="Tie Breaker",
            billing_period=date(2025, 5, 1),
            payable=Decimal("15.00"),
            due_date=None if i % 2 else date(2025, 6, 30),
            issue_date=None if i % 3 else date(2025, 6, 1),
            status="DRAFT" if i % 2 else "DUE",
        )


def numbers(rows) -> list[str]:
    return [row.Invoice.number for row in rows]


def offset_page(filters: InvoiceFilters) -> list[str]:
    """The oracle: OFFSET straight over invoice_query()."""
    stmt = invoice_query(filters, TODAY)
    stmt = stmt.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)
    return numbers(db.session.execute(stmt))


FILTERS = [
    {},
    {"status": "OVER_DUE"},
    {"status": "DUE"},
    {"status": "PAID", "date_field": "due", "date_from": date(2024, 11, 1)},
    {"date_field": "issued", "date_to": date(2025, 3, 31)},
    {"q": "acme"},
    {"q": "a"},
]


@pytest.mark.parametrize("sort", [*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)])
@pytest.mark.parametrize("page", [1, 2, 7])
def test_every_sort_pages_like_offset(seeded, sort, page):
    filters = InvoiceFilters(sort=sort, page=page, per_page=13)
    assert numbers(page_of(filters, TODAY)) == offset_page(filters)


@pytest.mark.parametrize("changes", FILTERS)
@pytest.mark.parametrize("page", [1, 3, 40])
def test_filtered_pages_like_offset(seeded, changes, page):
    filters = InvoiceFilters(page=page, per_page=7, **changes)
    assert numbers(page_of(filters, TODAY)) == offset_page(filters)


def test_pages_tile_the_whole_list(seeded):
    everything = numbers(db.session.execute(invoice_query(InvoiceFilters(), TODAY)))
    pages = []
    for page in range(1, len(everything) // 25 + 2):
        pages += numbers(page_of(InvoiceFilters(page=page), TODAY))
    assert pages == everything


def test_a_pasted_page_url_shows_the_same_rows(seeded, client, auth):
    with time_machine.travel(TODAY, tick=False):
        auth.login("staff")
        url = "/api/invoices?sort=payable&per_page=10&page=12"
        first = client.get(url).json
        again = client.get(url).json
    assert first == again
    filters = InvoiceFilters(sort="payable", per_page=10, page=12)
    assert [i["number"] for i in first["items"]] == offset_page(filters)


def oracle_counts(filters: InvoiceFilters) -> tuple[dict, list]:
    """Counts per status and totals per currency by GROUP BY over invoice_query."""
    matching = invoice_query(filters.with_(status="ALL"), TODAY).subquery()
    status = matching.c.effective_status
    counts = dict(
        db.session.execute(select(status, func.count()).group_by(status)).all()
    )
    selected = invoice_query(filters, TODAY).subquery()
    rows = db.session.execute(
        select(
            selected.c.currency,
            func.count(),
            func.sum(selected.c.usage_cost),
            func.sum(selected.c.payable),
        )
        .group_by(selected.c.currency)
        .order_by(selected.c.currency)
    ).all()
    # sum() keeps the ScaledDecimal type: the sums come back as Decimal.
    return counts, [tuple(row) for row in rows]


def app_counts(filters: InvoiceFilters) -> tuple[dict, list]:
    counts = status_counts(filters, TODAY)
    shown = {s: n for s, n in counts.items() if n and s != "ALL"}
    assert counts["ALL"] == sum(shown.values())
    money = [
        (t.currency, t.count, t.usage_cost, t.payable) for t in totals(filters, TODAY)
    ]
    return shown, money


@pytest.mark.parametrize(
    "changes",
    [
        *FILTERS,
        {"date_from": date(2024, 9, 1), "date_to": date(2025, 2, 1)},
        {"status": "DRAFT", "date_field": "due", "date_to": date(2025, 8, 31)},
        {"status": "CANCEL", "date_field": "issued", "date_from": date(2024, 1, 1)},
    ],
)
def test_counts_and_totals_equal_a_group_by(seeded, changes):
    filters = InvoiceFilters(**changes)
    assert app_counts(filters) == oracle_counts(filters)


def test_tally_follows_every_kind_of_write(seeded):
    first = db.session.scalars(select(Invoice).order_by(Invoice.id).limit(4)).all()
    # ORM: status, amounts, dates (to and from NULL), currency.
    first[0].status = "PAID"
    first[1].payable = first[1].payable + Decimal("0.01")
    first[2].due_date = None
    first[2].issue_date = None
    first[3].currency = "CHF"
    db.session.commit()
    tally_matches_invoices()
    # Core: many rows in one statement, then deletes (lines first).
    db.session.execute(
        update(Invoice)
        .where(Invoice.status == "CANCEL")
        .values(status="DRAFT", usage_cost=Invoice.usage_cost * 2)
    )
    doomed = select(Invoice.id).where(Invoice.currency == "JPY").scalar_subquery()
    db.session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(doomed)))
    db.session.execute(delete(Invoice).where(Invoice.id.in_(doomed)))
    db.session.commit()
    tally_matches_invoices()
    # The lifecycle's own writes.
    assert mark_overdue(TODAY)
    tally_matches_invoices()
    # An update that changes nothing the tally keeps.
    db.session.execute(update(Invoice).values(notes="touched"))
    db.session.commit()
    tally_matches_invoices()


def test_emptied_groups_do_not_show_as_zero_totals(seeded):
    db.session.execute(
        update(Invoice).where(Invoice.currency == "GBP").values(currency="USD")
    )
    db.session.commit()
    currencies = [t.currency for t in totals(InvoiceFilters(), TODAY)]
    assert "GBP" not in currencies and "USD" in currencies


def test_effective_status_counts_move_with_the_day(seeded):
    before = status_counts(InvoiceFilters(), TODAY)
    later = status_counts(InvoiceFilters(), date(2026, 1, 1))
    assert later["OVER_DUE"] > before["OVER_DUE"]
    assert later["ALL"] == before["ALL"]
    status = effective_status(date(2026, 1, 1))
    counted = dict(
        db.session.execute(
            select(status, func.count()).select_from(Invoice).group_by(status)
        ).all()
    )
    assert {s: n for s, n in later.items() if n and s != "ALL"} == counted


@pytest.mark.parametrize("walk", [True, False])
@pytest.mark.parametrize(
    "changes",
    [
        {"status": "OVER_DUE"},
        {"status": "OVER_DUE", "date_from": date(2025, 1, 1)},
        {
            "date_field": "due",
            "date_from": date(2025, 2, 1),
            "date_to": date(2025, 5, 1),
        },
        {"date_field": "issued", "date_to": date(2025, 3, 31), "sort": "period"},
    ],
)
@pytest.mark.parametrize("page", [1, 4])
def test_both_sqlite_plans_page_alike(seeded, monkeypatch, walk, changes, page):
    """Walking the period index (unary + on the filters) or not: same rows."""
    if walk and db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's unary + only; PostgreSQL's planner chooses itself")
    monkeypatch.setattr(queries, "_walk_period_index", lambda *args: walk)
    filters = InvoiceFilters(page=page, per_page=9, **changes)
    assert numbers(page_of(filters, TODAY)) == offset_page(filters)


def test_truncate_empties_the_tally(seeded):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    db.session.execute(text("TRUNCATE invoice CASCADE"))
    db.session.commit()
    assert status_counts(InvoiceFilters(), TODAY)["ALL"] == 0
