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
from invoice_app.models import AuditEvent, Client, Invoice, Payment, User
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


def test_0004_keeps_every_row_and_settles_what_nothing_can_pay(app, make_invoice):
    """Downgrade to 0002, write what the old code could, upgrade again."""
    # The client first: the models write client.search_text, which 0002 lacks.
    db.session.add(Client(name="Acme Analytics", email="acmeanalytics@example.test"))
    db.session.commit()
    downgrade(revision="0002")
    try:
        kept = make_invoice(
            number="INV-KEEP", notes="findme", amount_paid=Decimal("5.00"),
            lines=[("Compute", "1", "15", "15.00"), ("Disk", "0", "1", "0.00")],
        )  # fmt: skip
        db.session.add(
            Payment(invoice=kept, amount=Decimal(5), received_on=date(2025, 6, 2))
        )
        stuck = make_invoice(number="INV-ZERO", payable=Decimal(0), status="DUE")
        credit = make_invoice(
            number="INV-CREDIT", status="PAID", paid_date=date(2025, 6, 1),
            payable=Decimal("-20.00"), amount_paid=Decimal("-20.00"),
        )  # fmt: skip
        db.session.commit()
        ids = (kept.id, stuck.id, credit.id)
        db.session.remove()
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
