"""Draft numbers: PostgreSQL finds a month's numbers by prefix through an index.

A new draft takes the month's next INV-YYYYMM-NNNNNN (drafts._next_number),
which reads that month's numbers. On SQLite the (tenant, number) unique index
serves the prefix as a range (BINARY collation is byte order). On PostgreSQL a
range is a prefix only under the C collation, and LIKE uses a b-tree only with
text_pattern_ops: this index gives both, whatever the database's collation, so
a draft reads one month's numbers instead of every number of the tenant.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_invoice_number_pattern",
            "invoice",
            ["tenant_id", "number"],
            postgresql_ops={"number": "text_pattern_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_invoice_number_pattern", table_name="invoice")
