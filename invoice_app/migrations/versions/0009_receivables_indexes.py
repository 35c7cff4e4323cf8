"""Receivables: covering indexes for the aging overview, cancel times, payments.

receivables.aging() reads, per status, the invoices that could be owed on a
day: the open ones (no paid date) and those paid after the day. This index
holds every column it filters, groups or sums, so the overview of a million
invoices reads index entries only (benchmarks/README.md, "Receivables"). The
audit index finds the invoices cancelled in the app after a day without
reading the whole trail; the payment indexes answer "received by a day" per
invoice and "received in a month" without reading payment rows.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RECEIVABLE_COLUMNS = [
    "tenant_id",
    "status",
    "paid_date",
    "due_date",
    "issue_date",
    "currency",
    "payable",
    "amount_paid",
    "client_id",
    # PostgreSQL reads an index alone only when it holds the id too (the
    # payments are looked up by it); SQLite keeps the rowid in every index.
    "id",
]
CANCEL_COLUMNS = ["tenant_id", "action", "created_at", "invoice_id"]
# What an invoice had received by a day, and what came in during a month,
# read from the index alone.
PAYMENT_INDEXES = {
    "ix_payment_invoice_received": ["invoice_id", "received_on", "amount"],
    "ix_payment_received": ["received_on", "invoice_id", "amount"],
}


def upgrade() -> None:
    op.create_index("ix_invoice_receivable", "invoice", RECEIVABLE_COLUMNS)
    op.create_index("ix_audit_event_action_time", "audit_event", CANCEL_COLUMNS)
    for name, columns in PAYMENT_INDEXES.items():
        op.create_index(name, "payment", columns)


def downgrade() -> None:
    for name in PAYMENT_INDEXES:
        op.drop_index(name, table_name="payment")
    op.drop_index("ix_audit_event_action_time", table_name="audit_event")
    op.drop_index("ix_invoice_receivable", table_name="invoice")
