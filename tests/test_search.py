"""Quick search through the trigram index: same answers as a plain substring test.

The oracle is Python: an invoice matches when the case-folded needle is in the
case-folded text of all its searchable fields (number, notes, client name and
e-mail, line descriptions), the one search_text the app kept before clients were
searched apart. Whatever the database does (FTS5 on SQLite, pg_trgm on
PostgreSQL, the scan for 1–2 characters, clients first), the API must agree.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from invoice_app.extensions import db
from invoice_app.importing import import_bytes
from invoice_app.models import Client, Invoice, InvoiceLine
from invoice_app.search import fts_phrase, like_pattern

NOTES = [
    'say "hi" there',
    "NEAR(alpha beta)",
    "glob*star",
    "this OR that",
    "salt AND pepper",
    "NOT this one",
    "col: value",
    "^caret -minus +plus",
    "100% sure_thing",
    "a/b slash",
    "Straße 5",
    "ÆØÅ ørsted",
    "日本語のメモ",
]


@pytest.fixture
def noted(make_invoice):
    """One invoice per note above, numbered INV-S00 …"""
    for i, note in enumerate(NOTES):
        make_invoice(number=f"INV-S{i:02d}", notes=note)


def full_text(invoice: Invoice) -> str:
    """Every searchable field of invoice in one case-folded text."""
    parts = [invoice.number, invoice.notes, invoice.client.name, invoice.client.email]
    parts += [line.description for line in invoice.lines]
    return "\n".join(parts).casefold()


def oracle_invoices(q: str) -> list[Invoice]:
    """The invoices a plain substring test over every searchable field finds."""
    needle = q.casefold()
    db.session.expire_all()
    return [i for i in db.session.scalars(select(Invoice)) if needle in full_text(i)]


def oracle(q: str) -> list[str]:
    """The numbers of oracle_invoices(q), sorted."""
    return sorted(invoice.number for invoice in oracle_invoices(q))


@pytest.mark.parametrize(
    "q",
    [
        '"hi"',
        '"',
        '""',
        "NEAR(",
        "near(alpha",
        "*",
        "glob*",
        "OR",
        "or that",
        "AND",
        "salt and",
        "NOT",
        "not this",
        "col:",
        "^caret",
        "-minus",
        "+plus",
        "100%",
        "%",
        "_",
        "e_t",
        "a/b",
        "/",
        "strasse",
        "STRASSE 5",
        "æøå",
        "ØRSTED",
        "日本語",
        "メモ",
        "no such text",
    ],
)
def test_search_agrees_with_a_substring_test(noted, search, q):
    assert search(q) == oracle(q)


def test_the_oracle_is_not_trivial(noted, search):
    assert search('"hi"') == ["INV-S00"]
    assert search("NEAR(") == ["INV-S01"]
    assert search("100%") == ["INV-S08"]
    assert search("strasse") == ["INV-S10"]
    assert len(search("inv-s")) == len(NOTES)


@pytest.mark.parametrize("q", ["a", "ß", "Ø", "%", "_", "日", "s0", "x%"])
def test_one_and_two_characters_fall_back_to_the_scan(noted, search, q):
    assert search(q) == oracle(q)
    assert search(q) or q in {"x%"}


def test_fts_phrase_quotes_everything():
    assert fts_phrase('say "hi"') == '"say ""hi"""'
    assert fts_phrase("NEAR(a b) OR c*") == '"NEAR(a b) OR c*"'


def test_like_pattern_escapes_wildcards():
    assert like_pattern("100%_a/b") == "%100/%/_a//b%"


def fts_consistent() -> None:
    """SQLite: the FTS indexes match the search_text columns exactly (else raise)."""
    if db.engine.dialect.name == "sqlite":
        for fts in ("invoice_search", "client_search"):
            db.session.execute(
                text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')")
            )


def test_search_follows_updates(make_invoice, search):
    invoice = make_invoice(number="INV-U1", client_name="Old Name", notes="first")
    assert search("old name") == ["INV-U1"]

    invoice.notes = "second thoughts"
    db.session.commit()
    assert search("first") == []
    assert search("second thoughts") == ["INV-U1"]

    invoice.client.name = "Renamed Ltd"
    db.session.commit()
    assert search("old name") == []
    assert search("renamed") == ["INV-U1"]

    invoice.lines.append(
        InvoiceLine(
            position=1, description="GPU cluster", quantity=1, unit_price=1, amount=1
        )
    )
    db.session.commit()
    assert search("gpu clu") == ["INV-U1"]
    fts_consistent()


def test_search_follows_core_updates_and_deletes(make_invoice, search):
    make_invoice(number="INV-C1", notes="before")
    make_invoice(number="INV-C2", notes="doomed")
    db.session.execute(
        update(Invoice).where(Invoice.number == "INV-C1").values(search_text="after")
    )
    db.session.execute(delete(Invoice).where(Invoice.number == "INV-C2"))
    db.session.commit()
    assert search("before") == []
    assert search("after") == ["INV-C1"]
    assert search("doomed") == []
    fts_consistent()


def test_search_finds_imported_and_reimported_invoices(app, search):
    header = (
        "invoice_number,client_name,client_email,billing_period,currency,"
        "usage_cost,payable,issue_date,due_date,status,paid_date,notes"
    )
    row = "INV-I1,Zürich Wolken AG,ap@zuerich.example,2025-05,CHF,10.00,10.00,"
    first = f"{header}\n{row}2025-06-01,2025-06-30,DUE,,Erste Lieferung\n"
    import_bytes(first.encode(), "csv")
    assert search("ZÜRICH WOLKEN") == ["INV-I1"]
    assert search("erste lief") == ["INV-I1"]

    second = f"{header}\n{row}2025-06-01,2025-06-30,DUE,,Zweite Lieferung\n"
    import_bytes(second.encode(), "csv", update=True)
    assert search("erste lief") == []
    assert search("zweite lief") == ["INV-I1"]
    assert db.session.scalar(select(Client.name).where(Client.email.like("ap@z%")))
    fts_consistent()


def plan(q: str) -> str:
    """The query plan of counting the invoices a search finds."""
    from invoice_app.search import search_predicate

    stmt = select(Invoice.id).where(search_predicate(q))
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "postgresql":
        # Tiny tables are cheaper to scan; make the planner show its index path.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = db.session.execute(text(f"EXPLAIN {compiled}"))
    else:
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("q", ["müller", "100%_x", 'a "b" NEAR('])
def test_three_or_more_characters_use_the_trigram_index(app, q):
    used = plan(q)
    if db.engine.dialect.name == "postgresql":
        assert "ix_invoice_search_trgm" in used
    else:
        assert "VIRTUAL TABLE INDEX" in used and "invoice_search" in used


def test_shorter_needles_scan_instead_of_reading_the_whole_index(app):
    # Neither the FTS table nor ix_invoice_search_trgm, even with scans "off".
    assert "invoice_search" not in plan("ab")
