"""Quick search finds the numbers a search starts with through a b-tree.

Every number starts alike ("INV-2025…"), so a search for the start of one
(`INV-202507`, a month) was looked up in the trigram index under trigrams that
list nearly every invoice: hundreds of milliseconds at a million, however few
invoices it matched. Now invoice.search_number holds the case-folded number, and
its index (with the period and id, so a page of them in period order needs no
table row) finds the numbers starting with a search as one range; search_text
keeps the number from its second character on, for a search found anywhere
else in it (models.invoice_search_columns).

Both columns are derived in SQL from what search_text held (its first line was
the case-folded number), so the migration needs no Python pass over the rows.
On SQLite the FTS5 index is rebuilt once instead of row by row through its
update trigger, which is dropped for the update and made again as 0002 made it.
A plain ADD COLUMN, not a batch rebuild of the table, which would drop every
trigger on it (README, "Known limits").

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SEARCH_UPDATE_TRIGGER = """CREATE TRIGGER invoice_search_update AFTER UPDATE OF search_text ON invoice
        BEGIN
            INSERT INTO invoice_search(invoice_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO invoice_search(rowid, search_text)
            VALUES (new.id, new.search_text);
        END"""


def _rewrite(set_clause: str) -> None:
    """UPDATE every invoice with set_clause, keeping SQLite's FTS5 index in step."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER invoice_search_update")
    op.execute(f"UPDATE invoice SET {set_clause}")  # noqa: S608 (constant SQL)
    if sqlite:
        op.execute("INSERT INTO invoice_search(invoice_search) VALUES ('rebuild')")
        op.execute(SEARCH_UPDATE_TRIGGER)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "invoice",
        sa.Column(
            "search_number",
            sa.String(64, collation="C") if postgresql else sa.String(64),
            nullable=False,
            server_default="",
        ),
    )
    first_line = (
        "split_part(search_text, E'\\n', 1)"
        if postgresql
        else "substr(search_text, 1, instr(search_text || char(10), char(10)) - 1)"
    )
    _rewrite(
        f"search_number = {first_line}, search_text = substr(search_text, 2)"
    )
    op.create_index(
        "ix_invoice_search_number",
        "invoice",
        ["tenant_id", "search_number", "billing_period", "id"],
    )
    _analyze()


def _analyze() -> None:
    """Statistics for the new index, where the database keeps them.

    PostgreSQL: a vacuum too, outside the migration's transaction. The rewrite
    leaves every row's old version in the trigram index (each search rechecks
    them) and clears the visibility map, without which the new index is never
    read alone.
    SQLite: a database whose other indexes have statistics (seeded ones do) but
    this one has none takes it for the most selective on tenant_id alone, and
    reads a whole tenant through it for searches other indexes serve.
    """
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("VACUUM ANALYZE invoice")
        return
    has_statistics = bind.execute(
        sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    ).first()
    if has_statistics:
        op.execute("PRAGMA analysis_limit = 1000")  # sampled, as seeding does
        op.execute("ANALYZE ix_invoice_search_number")


def downgrade() -> None:
    op.drop_index("ix_invoice_search_number", table_name="invoice")
    _rewrite("search_text = substr(search_number, 1, 1) || search_text")
    op.drop_column("invoice", "search_number")
