"""CHECK constraints: what can never be true of an invoice, a payment or a user.

Rows the old code could leave behind are settled first, so the constraints hold:
an issued invoice with nothing to pay (payable 0 or less) that sat DUE for ever
becomes PAID on its issue date, as issuing one does now (audited), and an
imported PAID credit note gets nothing paid instead of a negative amount.

SQLite cannot add a constraint to a table: batch mode rebuilds the table, which
drops its triggers (0002's search and tally triggers on invoice), so they are
read first and created again on the new table.

Revision ID: 0004
Revises: 0002
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

# A copy, not an import: a migration keeps the schema of its day (models.py).
CHECKS = {
    "invoice": {
        "ck_invoice_status": (
            "status IN ('DRAFT', 'DUE', 'OVER_DUE', 'PAID', 'CANCEL')"
        ),
        "ck_invoice_amount_paid_not_negative": "amount_paid >= 0",
        "ck_invoice_amount_paid_within_payable": (
            "amount_paid = 0 OR amount_paid <= payable"
        ),
        "ck_invoice_draft_unpaid": "status <> 'DRAFT' OR amount_paid = 0",
        "ck_invoice_paid_date_only_when_paid": "paid_date IS NULL OR status = 'PAID'",
        "ck_invoice_version_positive": "version >= 1",
        "ck_invoice_payment_terms_not_negative": (
            "payment_terms_days IS NULL OR payment_terms_days >= 0"
        ),
    },
    "payment": {"ck_payment_amount_positive": "amount > 0"},
    "app_user": {"ck_app_user_role": "role IN ('admin', 'staff')"},
}

_invoice = sa.table(
    "invoice",
    sa.column("id", sa.Integer),
    sa.column("number", sa.String),
    sa.column("status", sa.String),
    sa.column("issue_date", sa.Date),
    sa.column("paid_date", sa.Date),
    sa.column("payable", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("amount_paid", sa.BigInteger),
    sa.column("version", sa.Integer),
)
_audit = sa.table(
    "audit_event",
    sa.column("invoice_id", sa.Integer),
    sa.column("invoice_number", sa.String),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("changes", sa.JSON),
    sa.column("note", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
ACTOR = "migration 0004"


def _settle_nothing_to_pay() -> None:
    bind = op.get_bind()
    inv = _invoice.c
    stuck = bind.execute(
        sa.select(inv.id, inv.number, inv.status, inv.issue_date).where(
            inv.status.in_(("DUE", "OVER_DUE")), inv.payable <= 0
        )
    ).all()
    now = datetime.now(UTC)
    for invoice_id, number, status, issued in stuck:
        bind.execute(
            sa.update(_invoice)
            .where(inv.id == invoice_id)
            .values(status="PAID", paid_date=issued, version=inv.version + 1)
        )
        changes = {
            "status": [status, "PAID"],
            "paid_date": [None, issued.isoformat() if issued else None],
        }
        bind.execute(
            sa.insert(_audit).values(
                invoice_id=invoice_id, invoice_number=number, actor=ACTOR,
                action="settle", changes=changes,
                note="Nothing to pay: PAID from its issue.", created_at=now,
            )
        )  # fmt: skip
    # Imported PAID credit notes were given the negative payable as paid.
    bind.execute(sa.update(_invoice).where(inv.amount_paid < 0).values(amount_paid=0))


def _sqlite_rebuild(table: str, change) -> None:
    """Rebuild a table in batch mode, keeping the triggers the rebuild drops."""
    triggers = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
            (table,),
        )
        .scalars()
        .all()
    )
    with op.batch_alter_table(table, recreate="always") as batch_op:
        change(batch_op)
    for sql in triggers:
        op.execute(sql)


def upgrade():
    _settle_nothing_to_pay()
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, checks in CHECKS.items():
        if sqlite:

            def add(batch_op, checks=checks):
                for name, condition in checks.items():
                    batch_op.create_check_constraint(name, condition)

            _sqlite_rebuild(table, add)
        else:
            for name, condition in checks.items():
                op.create_check_constraint(name, table, condition)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, checks in CHECKS.items():
        if sqlite:

            def drop(batch_op, checks=checks):
                for name in checks:
                    batch_op.drop_constraint(name, type_="check")

            _sqlite_rebuild(table, drop)
        else:
            for name in checks:
                op.drop_constraint(name, table, type_="check")
