"""A search finds clients apart from invoices, with the same answers as before.

Since migration 0006 a search is "the invoice's own text matches, or its client's
does" (search.py), and its counts and totals come in two disjoint parts. The
oracle is the literal substring test over all of an invoice's searchable fields
in one text (test_search.full_text), the search the app did before: rows, the
API's total, the status counts and the currency totals must all agree with it,
on a varied data set (demo clients and invoices, plus invoices whose notes or
lines name another client), under other filters too.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from invoice_app import queries
from invoice_app.demo.load import seed_demo
from invoice_app.extensions import db
from invoice_app.filters import InvoiceFilters, parse_filters
from invoice_app.models import Client, Invoice, InvoiceLine, Status
from invoice_app.queries import invoice_query, summary
from tests.test_search import oracle_invoices

TODAY = date(2025, 7, 15)

NEEDLES = [
    "Blue Harbor L",  # half a client name: every Blue Harbor client
    "blue harbor logistics #3",  # one client, and #30… with more of them
    "harbo",  # Blue Harbor and Harbour Bridge both
    "harbour bridge",
    "@example.com",  # every client's e-mail domain
    "billing+tanaka",  # an e-mail prefix
    "müller",
    "MÜLLER MASCHINENBAU",
    "straße",  # casefold: matches "strasse" too
    "quarterly",  # a word in demo notes
    "po 4711",
    "compute instances",  # a line description
    "support plan — business",
    "INV-2",  # an invoice number prefix
    "-0001",
    "#1",
    "oc",  # two characters: the scan
    "é",
    "%",
    "no such text anywhere",
]


@pytest.fixture
def varied(app, make_invoice):
    """Demo data, and invoices whose own text names clients they do not belong to."""
    seed_demo(400, TODAY)
    make_invoice(number="INV-X1", client_name="Acme Analytics", notes="Blue Harbor L")
    make_invoice(
        number="INV-X2",
        client_name="Straße Cloud GmbH",
        notes="Forwarded to Müller Maschinenbau",
        status="PAID",
        currency="EUR",
        usage_cost=Decimal("7.25"),
        payable=Decimal("7.25"),
    )
    make_invoice(
        number="INV-X3",
        client_name="Blue Harbor Logistics",
        client_email="ap@blueharbor.example",
        lines=[("Harbour Bridge transfer", "1", "3", "3.00")],
        due_date=date(2025, 8, 30),
    )
    make_invoice(number="INV-X4", client_name="Quarterly Ltd", notes="quarterly")


def effective(invoice: Invoice) -> str:
    if invoice.status == Status.DUE and invoice.due_date < TODAY:
        return Status.OVER_DUE.value
    return invoice.status


def expected_summary(invoices: list[Invoice], status: str = "ALL"):
    """Status counts and per-currency totals, worked out in Python."""
    counts = Counter(effective(i) for i in invoices)
    totals: dict[str, list] = {}
    for invoice in invoices:
        if status in ("ALL", effective(invoice)):
            total = totals.setdefault(invoice.currency, [0, Decimal(0), Decimal(0)])
            total[0] += 1
            total[1] += invoice.usage_cost
            total[2] += invoice.payable
    return (
        {s.value: counts.get(s.value, 0) for s in Status} | {"ALL": len(invoices)},
        [(c, *totals[c]) for c in sorted(totals)],
    )


def listed(client, args: dict) -> tuple[list[str], int]:
    """Every invoice number the API lists for args (all pages), and its total."""
    numbers, page = [], 1
    while True:
        response = client.get(
            "/api/invoices", query_string={**args, "per_page": 200, "page": page}
        )
        assert response.status_code == 200, response.json
        numbers += [item["number"] for item in response.json["items"]]
        if page * 200 >= response.json["total"]:
            return numbers, response.json["total"]
        page += 1


@pytest.mark.parametrize("q", NEEDLES)
def test_rows_counts_and_totals_agree_with_the_literal_search(
    frozen_day, varied, client, auth, q
):
    auth.login("staff")
    found = oracle_invoices(q)
    numbers, total = listed(client, {"q": q})
    assert sorted(numbers) == sorted(i.number for i in found)
    assert len(numbers) == len(set(numbers)) == total

    counted = summary(InvoiceFilters(q=q), TODAY)
    counts, totals = expected_summary(found)
    assert counted.counts == counts
    assert [(t.currency, t.count, t.usage_cost, t.payable) for t in counted.totals] == (
        totals
    )


def test_the_needles_cover_both_parts_and_their_overlap(varied):
    """The data set is not trivial: clients, own text, and both at once match."""
    by_client = set(
        db.session.scalars(
            select(Invoice.number)
            .join(Client)
            .where(Client.search_text.like("%blue harbor l%"))
        )
    )
    own = set(
        db.session.scalars(
            select(Invoice.number).where(Invoice.search_text.like("%blue harbor l%"))
        )
    )
    assert len(by_client) > 10 and own == {"INV-X1"}
    assert len(oracle_invoices("quarterly")) > 50
    both = oracle_invoices("harbour bridge")
    assert "INV-X3" in {i.number for i in both} and len(both) > 10


@pytest.mark.parametrize(
    "args",
    [
        {"status": "OVER_DUE"},
        {"status": "PAID"},
        {"date_field": "due", "date_from": "2025-05-01", "date_to": "2025-07-31"},
        {"date_field": "period", "date_from": "2024-12", "date_to": "2025-03"},
        {"status": "DUE", "date_field": "issued", "date_from": "2025-06-01"},
    ],
)
@pytest.mark.parametrize("q", ["blue harbor l", "quarterly", "harbour", "inv-2"])
def test_search_under_other_filters(frozen_day, varied, client, auth, q, args):
    auth.login("staff")
    numbers, total = listed(client, {"q": q, **args})
    filters = parse_filters(MultiDict({"q": q, **args}))
    # The oracle for the other filters is the app's own list without a search.
    unsearched = {row.Invoice.number for row in _all_rows(filters.with_(q=""))}
    found = [i for i in oracle_invoices(q) if i.number in unsearched]
    assert sorted(numbers) == sorted(i.number for i in found)
    assert total == len(found)
    everything = {
        row.Invoice.number for row in _all_rows(filters.with_(q="", status="ALL"))
    }
    in_range = [i for i in oracle_invoices(q) if i.number in everything]
    counted = summary(filters, TODAY)
    counts, totals = expected_summary(in_range, filters.status)
    assert counted.counts == counts
    assert [(t.currency, t.count, t.usage_cost, t.payable) for t in counted.totals] == (
        totals
    )


def _all_rows(filters: InvoiceFilters) -> list:
    return db.session.execute(invoice_query(filters, TODAY)).all()


def test_renaming_a_client_rewrites_no_invoice(frozen_day, make_invoice, client, auth):
    """The client's text lives on the client: its invoices keep their own."""
    invoice = make_invoice(number="INV-R1", client_name="Before Ltd", notes="kept")
    own = invoice.search_text
    invoice.client.name = "After Ltd"
    db.session.commit()
    assert invoice.client.search_text == "after ltd\nbeforeltd@example.test"
    assert invoice.search_text == own == "nv-r1\nkept\ncompute"
    auth.login("staff")
    assert listed(client, {"q": "before ltd"}) == ([], 0)
    assert listed(client, {"q": "after ltd"}) == (["INV-R1"], 1)


def test_a_new_line_is_searched_with_its_invoice(make_invoice, client, auth):
    invoice = make_invoice(number="INV-L1")
    invoice.lines.append(
        InvoiceLine(
            position=1,
            description="Quantum Annealer",
            quantity=1,
            unit_price=1,
            amount=1,
        )
    )
    db.session.commit()
    auth.login("staff")
    assert listed(client, {"q": "quantum anneal"}) == (["INV-L1"], 1)


def offset_page(filters: InvoiceFilters) -> list[str]:
    """The plain OFFSET over invoice_query(), whose set the tests above check."""
    stmt = invoice_query(filters, TODAY)
    stmt = stmt.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)
    return [row.Invoice.number for row in db.session.execute(stmt)]


# (WALK_MIN, WALK_PER_ROW): walks that fill every page, some pages, or none.
WALKS = [(10_000, 40), (30, 2), (1, 1)]


@pytest.mark.parametrize("walk", WALKS)
@pytest.mark.parametrize("sort", ["-period", "client", "-payable", "number", "status"])
@pytest.mark.parametrize("q", ["quarterly", "blue harbor l", "harbour", "inv-2", "oc"])
def test_search_pages_equal_offset_pages(varied, monkeypatch, walk, sort, q):
    monkeypatch.setattr(queries, "WALK_MIN", walk[0])
    monkeypatch.setattr(queries, "WALK_PER_ROW", walk[1])
    for page in (1, 2, 5):
        filters = InvoiceFilters(q=q, sort=sort, page=page, per_page=7)
        rows = [row.Invoice.number for row in queries.page_of(filters, TODAY)]
        assert rows == offset_page(filters)


def test_a_walk_that_does_not_fill_the_page_is_not_the_answer(varied):
    """Within the first rows of the list the text is too rare for a page."""
    filters = InvoiceFilters(q="blue harbor logistics #3", per_page=25)
    walked = db.session.execute(queries.walked_page_query(filters, TODAY, 20)).all()
    assert len(walked) < 25
    assert [row.Invoice.number for row in queries.page_of(filters, TODAY)] == (
        offset_page(filters)
    )


def test_0006_splits_the_search_texts_and_its_downgrade_joins_them(app, make_invoice):
    """Down to 0005 the invoice holds its client's text again; up, they split."""
    from flask_migrate import downgrade, upgrade

    invoice_id = make_invoice(
        number="INV-OLD-1",
        client_name="Größe Werft AG",
        notes="Ölhafen",
        lines=[("Compute", "1", "1", "1.00"), ("Straße", "1", "1", "1.00")],
    ).id
    db.session.remove()
    text_of = select(Invoice.search_text).where(Invoice.id == invoice_id)
    downgrade(revision="0005")
    try:
        full = db.session.execute(text_of.with_only_columns(text("search_text")))
        full = full.scalar()
        db.session.remove()
    finally:
        upgrade()
    assert full == (
        "inv-old-1\nölhafen\ngrösse werft ag\ngrössewerftag@example.test"
        "\ncompute\nstrasse"
    )
    invoice = db.session.get(Invoice, invoice_id)
    assert invoice.search_text == "nv-old-1\nölhafen\ncompute\nstrasse"  # 0016
    assert invoice.client.search_text == "grösse werft ag\ngrössewerftag@example.test"
    found = db.session.execute(
        invoice_query(InvoiceFilters(q="GRÖSSE WERFT"), TODAY)
    ).all()
    assert [row.Invoice.number for row in found] == ["INV-OLD-1"]
