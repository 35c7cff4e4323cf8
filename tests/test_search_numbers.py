"""Quick search in invoice numbers: the start through search_number's b-tree, the
rest through search_text, and a search's page made of each part's first rows.

The oracle is the one of test_search.py: the case-folded needle is in the
case-folded text of every searchable field. Numbers here share their start as
real ones do, differ in case, and hold characters whose case folding changes
their length (ß, ſ, the Kelvin sign), where a prefix of the number and a prefix
of its folded form part ways.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from invoice_app.extensions import db
from invoice_app.filters import InvoiceFilters
from invoice_app.models import Invoice
from invoice_app.queries import invoice_query, page_of, page_query, summary
from invoice_app.search import after_prefix
from tests.test_search import fts_consistent, oracle, oracle_invoices

TODAY = date(2025, 8, 15)

NUMBERS = [
    "INV-202507-000001",
    "INV-202507-000002",
    "inv-202507-000003",
    "INV-202508-000001",
    "XINV-202507-1",  # the search found after the first character
    "STRAßE-1",  # folds to "strasse-1"
    "ſTAR-1",  # long s: folds to "star-1"
    "\u212aELVIN-1",  # Kelvin sign: folds to "kelvin-1"
    "BILL-07/2025",
]


@pytest.fixture
def numbered(make_invoice):
    for i, number in enumerate(NUMBERS):
        make_invoice(
            number=number,
            billing_period=date(2025, 1 + i % 7, 1),
            payable=Decimal(100 + 7 * (i % 4)),
        )


@pytest.mark.parametrize(
    "q",
    [
        "INV-202507",
        "inv-2025",
        "NV-202507",  # inside every INV- number, at the start of XINV-
        "i",
        "in",
        "202507-00000",
        "-000001",
        "strasse",
        "STRASSE-1",
        "straß",
        "star",
        "ſt",
        "st",
        "kelvin",
        "\u212aelvin",
        "07/2025",
        "BILL-07/2025",
        "INV-202507-000001X",
        "x",
        "xinv",
    ],
)
def test_number_searches_agree_with_a_substring_test(numbered, search, q):
    assert search(q) == oracle(q)


def test_the_number_oracle_is_not_trivial(numbered, search):
    assert search("INV-202507") == [
        "INV-202507-000001",
        "INV-202507-000002",
        "XINV-202507-1",
        "inv-202507-000003",
    ]
    assert search("strasse") == ["STRAßE-1"]
    assert search("kelvin") == ["\u212aELVIN-1"]
    assert search("INV-202507-000001X") == []


def test_a_number_is_found_by_its_start_after_an_update(make_invoice, search):
    invoice = make_invoice(number="DRAFT-9")
    invoice.number = "INV-202509-000042"
    db.session.commit()
    assert search("draft") == []
    assert search("INV-202509") == ["INV-202509-000042"]
    assert invoice.search_number == "inv-202509-000042"
    fts_consistent()


def test_after_prefix_is_the_end_of_the_prefix_range():
    assert after_prefix("inv-2025") == "inv-2026"
    assert after_prefix("a\U0010ffff") == "b"
    assert after_prefix("\U0010ffff") is None
    assert after_prefix("\ud7ff") == "\ue000"  # no surrogate in between


@pytest.mark.parametrize(
    "sort", ["-period", "period", "number", "-number", "client", "-payable", "status"]
)
def test_a_search_page_is_the_list_in_order(app, numbered, make_invoice, sort):
    """Each part's first rows, united and sorted, are the list's own page."""
    for i in range(12):
        make_invoice(
            number=f"INV-202507-1{i:05d}",
            client_name=f"Inv Holdings {i % 3}",
            billing_period=date(2025, 1 + i % 5, 1),
            notes="see inv-202507 too" if i % 4 == 0 else "",
        )
    filters = InvoiceFilters(q="inv-2025", sort=sort, per_page=4)
    everything = [
        r.Invoice.number for r in db.session.execute(invoice_query(filters, TODAY))
    ]
    assert len(everything) > 12
    pages = []
    for page in range(1, len(everything) // 4 + 2):
        rows = db.session.execute(page_query(filters.with_(page=page), TODAY)).all()
        pages += [row.Invoice.number for row in rows]
    assert pages == everything


def test_0016_moves_the_start_of_the_number_and_its_downgrade_puts_it_back(
    app, make_invoice
):
    from flask_migrate import downgrade, upgrade

    invoice_id = make_invoice(number="INV-202507-9", notes="Ölhafen").id
    db.session.remove()
    downgrade(revision="0015")
    try:
        old = db.session.execute(
            text("SELECT search_text FROM invoice WHERE id = :id"), {"id": invoice_id}
        ).scalar()
        db.session.remove()
    finally:
        upgrade()
    assert old == "inv-202507-9\nölhafen\ncompute"
    invoice = db.session.get(Invoice, invoice_id)
    assert (invoice.search_number, invoice.search_text) == (
        "inv-202507-9",
        "nv-202507-9\nölhafen\ncompute",
    )
    assert (invoice.search_number, invoice.search_text) == (
        invoice.compute_search_columns()
    )
    fts_consistent()
    found = db.session.scalars(
        select(Invoice.number).where(Invoice.id.in_(_ids("INV-2025")))
    ).all()
    assert found == ["INV-202507-9"]


def _ids(q: str) -> list[int]:
    rows = db.session.execute(invoice_query(InvoiceFilters(q=q), TODAY)).all()
    return [row.Invoice.id for row in rows]


@pytest.mark.parametrize("q", ["inv-2025", "inv", "holdings", "nv-2025", "i"])
def test_counts_and_totals_count_each_match_once(
    app, numbered, make_invoice, client, auth, q
):
    """The number's start, the rest of the text and the client are counted apart,
    disjointly: an invoice found by all three is one invoice."""
    for i in range(6):
        make_invoice(
            number=f"INV-202507-2{i:05d}",
            client_name="Inv Holdings" if i % 2 else "Acme Analytics",
            notes="re inv-202507" if i % 3 == 0 else "",
            payable=Decimal("10.50"),
        )
    expected = oracle_invoices(q)
    auth.login("staff")
    answer = client.get("/api/invoices", query_string={"q": q}).json
    assert answer["total"] == len(expected) > 0
    counted = summary(InvoiceFilters(q=q), TODAY)
    assert counted.counts["ALL"] == len(expected)
    assert sum(t.payable for t in counted.totals) == sum(i.payable for i in expected)


@pytest.mark.parametrize("sort", ["-period", "client", "-client", "number"])
def test_every_page_of_a_search_is_the_list_in_order(app, make_invoice, sort):
    """page_of(): the walk fills the pages it can (each walked row's client text
    tested where it is), the indexes the others; together, the list's order."""
    for i in range(30):
        make_invoice(
            number=f"INV-202507-3{i:05d}",
            client_name=f"Walker {i % 7}",
            notes="walk me" if i % 2 else "",
            billing_period=date(2025, 1 + i % 6, 1),
        )
    filters = InvoiceFilters(q="walk", sort=sort, per_page=5)
    everything = [
        r.Invoice.number for r in db.session.execute(invoice_query(filters, TODAY))
    ]
    assert len(everything) == 30
    pages = []
    for page in range(1, 8):
        pages += [r.Invoice.number for r in page_of(filters.with_(page=page), TODAY)]
    assert pages == everything
