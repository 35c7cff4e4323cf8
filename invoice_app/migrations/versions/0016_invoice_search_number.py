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
The trigram indexes are rebuilt once, not row by row (_rewrite). A plain ADD COLUMN, not a batch rebuild of the table, which would drop every
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
    """UPDATE every invoice with set_clause (search columns only), its indexes
    rebuilt once instead of row by row.

    SQLite: the FTS5 index, whose update trigger is dropped meanwhile.
    PostgreSQL: the trigram index, dropped and made again; and the tally's
    update trigger is off meanwhile, since no tallied column changes and its
    transition tables would hold every row twice.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER invoice_search_update")
        op.execute(f"UPDATE invoice SET {set_clause}")  # noqa: S608 (constant SQL)
        op.execute("INSERT INTO invoice_search(invoice_search) VALUES ('rebuild')")
        op.execute(SEARCH_UPDATE_TRIGGER)
        return
    op.execute("DROP INDEX ix_invoice_search_trgm")
    op.execute("ALTER TABLE invoice DISABLE TRIGGER invoice_tally_update")
    op.execute(f"UPDATE invoice SET {set_clause}")  # noqa: S608 (constant SQL)
    op.execute("ALTER TABLE invoice ENABLE TRIGGER invoice_tally_update")
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.execute(
        "CREATE INDEX ix_invoice_search_trgm ON invoice"
        " USING gin (search_text gin_trgm_ops)"
    )


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
    _after_rewrite()


def _after_rewrite() -> None:
    """What the rewrite leaves to do: statistics, and on PostgreSQL a tidy-up.

    PostgreSQL, after the migration's transaction: a vacuum, since the rewrite
    clears the visibility map, without which the new index is never read
    alone; then the trigram index is built again. Made inside the transaction
    it also lists every old row version, which keep it about eight times
    slower to search (113 against 11 ms for `INV-202507` at a million) even
    once vacuumed away; it is made there all the same so that no moment is
    without it. The block commits the rewrite before Alembic records 0016:
    should the process die inside it, the schema is 0016's while the database
    still says 0015, and `flask db upgrade` cannot add the column again. Then
    run the block's statements by hand and `flask db stamp 0016`.
    SQLite: a database whose other indexes have statistics (seeded ones do) but
    this one has none takes it for the most selective on tenant_id alone, and
    reads a whole tenant through it for searches other indexes serve.
    """
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("VACUUM ANALYZE invoice")
            op.execute("SET maintenance_work_mem = '512MB'")
            op.execute("REINDEX INDEX ix_invoice_search_trgm")
            op.execute("RESET maintenance_work_mem")
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
