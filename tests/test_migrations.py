"""The migrations build exactly the schema the models describe, on both databases."""

import warnings
from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, SAWarning

from invoice_app.database import UNMODELLED_TABLES, include_object
from invoice_app.extensions import db
from invoice_app.filters import InvoiceFilters
from invoice_app.models import AuditEvent, Invoice, Payment, User
from invoice_app.queries import invoice_query


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn, warnings.catch_warnings():
        # The tally's expression index cannot be reflected; the tally is skipped.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, db.metadata) == []


def test_the_database_has_the_models_check_constraints(app):
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        modelled = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        if table.name in UNMODELLED_TABLES:
            continue
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert found == modelled, table.name


# (statement run on the one invoice, or its payment, or a user; constraint)
IMPOSSIBLE = [
    ("UPDATE invoice SET status = 'LOST'", "ck_invoice_status"),
    ("UPDATE invoice SET amount_paid = -1", "ck_invoice_amount_paid_not_negative"),
    (
        "UPDATE invoice SET amount_paid = payable + 1",
        "ck_invoice_amount_paid_within_payable",
    ),
    (
        "UPDATE invoice SET payable = -10000, amount_paid = 10000",
        "ck_invoice_amount_paid_within_payable",
    ),
    (
        "UPDATE invoice SET status = 'DRAFT', amount_paid = 1",
        "ck_invoice_draft_unpaid",
    ),
    (
        "UPDATE invoice SET paid_date = issue_date",
        "ck_invoice_paid_date_only_when_paid",
    ),
    ("UPDATE invoice SET version = 0", "ck_invoice_version_positive"),
    (
        "UPDATE invoice SET payment_terms_days = -1",
        "ck_invoice_payment_terms_not_negative",
    ),
    ("UPDATE payment SET amount = 0", "ck_payment_amount_positive"),
    ("UPDATE app_user SET role = 'root'", "ck_app_user_role"),
]


@pytest.mark.parametrize(("statement", "constraint"), IMPOSSIBLE)
def test_the_database_refuses_impossible_rows(app, make_invoice, statement, constraint):
    invoice = make_invoice(amount_paid=Decimal("5.00"))
    db.session.add(
        Payment(invoice=invoice, amount=Decimal("5.00"), received_on=date(2025, 6, 2))
    )
    db.session.add(User(email="u@example.test", password_hash="x", role="staff"))
    db.session.commit()
    with pytest.raises(IntegrityError) as refused:
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert constraint in str(refused.value.orig)
    assert db.session.get(Invoice, invoice.id).amount_paid == Decimal("5.00")


def test_what_the_lifecycle_allows_passes_every_constraint(app, make_invoice):
    # A credit note settled at issue: PAID, negative payable, nothing paid.
    make_invoice(
        status="PAID", payable=Decimal("-20.00"), paid_date=date(2025, 6, 1),
        amount_paid=Decimal(0),
    )  # fmt: skip
    make_invoice(status="PAID", paid_date=date(2025, 6, 1), amount_paid=Decimal(15))
    make_invoice(status="CANCEL", amount_paid=Decimal("5.00"))
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3


def _old_invoice(conn, number: str, **values) -> int:
    """An invoice row as the code of 0002 wrote it (no tenant, no CHECKs)."""
    row = {
        "number": number, "billing_period": "2025-05-01", "currency": "USD",
        "usage_cost": 150000, "payable": 150000, "issue_date": "2025-06-01",
        "due_date": "2025-06-30", "status": "DUE", "paid_date": None, "notes": "",
        "adjustment": 0, "adjustment_reason": "", "amount_paid": 0,
        "cancel_reason": "", "version": 1, "search_text": number.casefold(),
        **values,
    }  # fmt: skip
    row["search_text"] = "\n".join([number, row["notes"]]).casefold()
    names = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    return conn.execute(
        text(
            f"INSERT INTO invoice (client_id, created_at, updated_at, {names})"
            " SELECT id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
            f"{marks} FROM client RETURNING id"
        ),
        row,
    ).scalar_one()


def test_0004_keeps_every_row_and_settles_what_nothing_can_pay(app, make_invoice):
    """Downgrade to 0002, write what the old code could, upgrade again."""
    db.session.remove()
    downgrade(revision="0002")
    try:
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO client (name, email) VALUES"
                    " ('Acme Analytics', 'acmeanalytics@example.test')"
                )
            )
            kept = _old_invoice(conn, "INV-KEEP", notes="findme", amount_paid=50000)
            for position, (description, amount) in enumerate(
                [("Compute", 150000), ("Disk", 0)]
            ):
                conn.execute(
                    text(
                        "INSERT INTO invoice_line (invoice_id, position,"
                        " description, quantity, unit_price, amount)"
                        " VALUES (:id, :p, :d, 10000, 15000000, :a)"
                    ),
                    {"id": kept, "p": position, "d": description, "a": amount},
                )
            conn.execute(
                text(
                    "INSERT INTO payment (invoice_id, amount, received_on,"
                    " reference, created_at)"
                    " VALUES (:id, 50000, '2025-06-02', '', CURRENT_TIMESTAMP)"
                ),
                {"id": kept},
            )
            stuck = _old_invoice(conn, "INV-ZERO", payable=0)
            credit = _old_invoice(
                conn, "INV-CREDIT", status="PAID", paid_date="2025-06-01",
                payable=-200000, amount_paid=-200000,
            )  # fmt: skip
        ids = (kept, stuck, credit)
    finally:
        upgrade()
    kept, stuck, credit = (db.session.get(Invoice, i) for i in ids)
    assert [line.description for line in kept.lines] == ["Compute", "Disk"]
    assert [p.amount for p in kept.payments] == [Decimal(5)]
    assert (stuck.status, stuck.paid_date) == ("PAID", stuck.issue_date)
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.invoice_number == "INV-ZERO")
    ).all()
    assert event.changes["status"] == ["DUE", "PAID"]
    assert (credit.status, credit.amount_paid) == ("PAID", Decimal(0))
    # The triggers 0002 made on invoice work on the rebuilt table: quick search
    # finds old and new invoices, and the tally counts them.
    make_invoice(number="INV-NEW", notes="findme too")
    found = db.session.scalars(
        invoice_query(InvoiceFilters(q="findme"), date(2025, 7, 15)).with_only_columns(
            Invoice.number
        )
    ).all()
    assert sorted(found) == ["INV-KEEP", "INV-NEW"]
    tallied = db.session.scalar(text("SELECT sum(invoices) FROM invoice_tally"))
    assert tallied == 4
