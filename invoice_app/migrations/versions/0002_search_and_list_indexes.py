"""Scale: indexes for every filter and sort, trigram search, maintained tallies.

- Sort indexes end in id, the list's tie-breaker, so a page is an index range
  (PostgreSQL needs the id spelled out; SQLite would append the rowid anyway).
- Quick search: SQLite gets an FTS5 trigram index over invoice.search_text
  (external content, kept in sync by triggers); PostgreSQL a pg_trgm GIN index.
- invoice_tally holds counts and sums per (status, currency, billing period, due
  date, issue date), kept exact by triggers on every write to invoice, so the
  status counts and totals of an unsearched list read a few hundred rows instead
  of scanning every invoice.

Comes after 0003 although numbered 0002: 0003 rebuilds the invoice table on
SQLite (batch mode), which would drop the triggers created here.

Revision ID: 0002
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0003"
branch_labels = None
depends_on = None

# (name, columns) replacing the single-column indexes of 0001.
REPLACED = [
    ("ix_invoice_billing_period", ["billing_period"]),
    ("ix_invoice_due_date", ["due_date"]),
    ("ix_invoice_issue_date", ["issue_date"]),
    ("ix_invoice_client_id", ["client_id"]),
]
SORT_INDEXES = [
    # The default order; the filtered columns ride along, so walking this index
    # for a status or date filter needs no table lookups.
    (
        "ix_invoice_billing_period",
        ["billing_period", "id", "status", "due_date", "issue_date"],
    ),
    # A date range sorted by period reads these alone (no table lookups).
    ("ix_invoice_due_date", ["due_date", "id", "billing_period", "status"]),
    ("ix_invoice_issue_date", ["issue_date", "id", "billing_period", "status"]),
    ("ix_invoice_client_id", ["client_id", "id"]),
    ("ix_invoice_usage_cost", ["usage_cost", "id"]),
    ("ix_invoice_payable", ["payable", "id"]),
    ("ix_invoice_status_period", ["status", "billing_period", "id", "due_date"]),
]
TALLY_KEY = "status, currency, billing_period, due_date, issue_date"
TALLY_SUMS = "invoices, usage_cost, payable"


def _tally_upsert(rows_sql: str, null_date: str) -> str:
    """INSERT … ON CONFLICT that adds (key, invoices, usage_cost, payable) rows."""
    # NULL dates are distinct in a unique index; the conflict target folds them
    # to a sentinel so a draft without dates still has exactly one tally row.
    return f"""
        INSERT INTO invoice_tally ({TALLY_KEY}, {TALLY_SUMS})
        {rows_sql}
        ON CONFLICT (status, currency, billing_period,
                     coalesce(due_date, {null_date}), coalesce(issue_date, {null_date}))
        DO UPDATE SET invoices = invoice_tally.invoices + excluded.invoices,
                      usage_cost = invoice_tally.usage_cost + excluded.usage_cost,
                      payable = invoice_tally.payable + excluded.payable
    """


def _create_tally(null_date: str) -> None:
    op.create_table(
        "invoice_tally",
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_period", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("invoices", sa.BigInteger(), nullable=False),
        sa.Column("usage_cost", sa.BigInteger(), nullable=False),
        sa.Column("payable", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_invoice_tally_key ON invoice_tally (status, currency,"
        f" billing_period, coalesce(due_date, {null_date}),"
        f" coalesce(issue_date, {null_date}))"
    )


def _fill_tally(null_date: str) -> None:
    op.execute(
        _tally_upsert(
            f"SELECT {TALLY_KEY}, count(*), sum(usage_cost), sum(payable)"
            f" FROM invoice GROUP BY {TALLY_KEY}",
            null_date,
        )
    )


def _sqlite_upgrade() -> None:
    null_date = "''"
    # external content: the index only, the text stays in invoice.search_text;
    # columnsize=0 drops the per-row sizes that only ranking would use.
    op.execute(
        "CREATE VIRTUAL TABLE invoice_search USING fts5(search_text,"
        " content='invoice', content_rowid='id', tokenize='trigram', columnsize=0)"
    )
    op.execute("INSERT INTO invoice_search(invoice_search) VALUES ('rebuild')")
    op.execute(
        """CREATE TRIGGER invoice_search_insert AFTER INSERT ON invoice BEGIN
            INSERT INTO invoice_search(rowid, search_text)
            VALUES (new.id, new.search_text);
        END"""
    )
    op.execute(
        """CREATE TRIGGER invoice_search_delete AFTER DELETE ON invoice BEGIN
            INSERT INTO invoice_search(invoice_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END"""
    )
    op.execute(
        """CREATE TRIGGER invoice_search_update AFTER UPDATE OF search_text ON invoice
        BEGIN
            INSERT INTO invoice_search(invoice_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO invoice_search(rowid, search_text)
            VALUES (new.id, new.search_text);
        END"""
    )

    _create_tally(null_date)
    _fill_tally(null_date)

    def add(row: str, sign: str) -> str:
        values = (
            f"{row}.status, {row}.currency, {row}.billing_period, {row}.due_date,"
            f" {row}.issue_date, {sign}1, {sign}{row}.usage_cost, {sign}{row}.payable"
        )
        # "WHERE true" tells SQLite's parser the ON CONFLICT belongs to the upsert.
        return _tally_upsert(f"SELECT {values} WHERE true", null_date) + ";"

    op.execute(
        f"CREATE TRIGGER invoice_tally_insert AFTER INSERT ON invoice BEGIN"
        f" {add('new', '')} END"
    )
    op.execute(
        f"CREATE TRIGGER invoice_tally_delete AFTER DELETE ON invoice BEGIN"
        f" {add('old', '-')} END"
    )
    changed = " OR ".join(
        f"old.{c} IS NOT new.{c}"
        for c in (*TALLY_KEY.split(", "), "usage_cost", "payable")
    )
    op.execute(
        f"CREATE TRIGGER invoice_tally_update AFTER UPDATE OF {TALLY_KEY},"
        f" usage_cost, payable ON invoice WHEN {changed} BEGIN"
        f" {add('old', '-')} {add('new', '')} END"
    )


def _postgresql_upgrade() -> None:
    null_date = "'-infinity'::date"
    # pg_trgm is a trusted extension: the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_invoice_search_trgm ON invoice"
        " USING gin (search_text gin_trgm_ops)"
    )

    _create_tally(null_date)
    # Every invoice write updates a tally row: room on each page lets the new
    # row version stay there (HOT), so the small table does not bloat.
    op.execute("ALTER TABLE invoice_tally SET (fillfactor = 50)")
    _fill_tally(null_date)

    def upsert(rows: str) -> str:
        # Grouped and ordered, so one statement touches each tally row once, and
        # concurrent statements lock tally rows in the same order.
        return _tally_upsert(
            f"SELECT {TALLY_KEY}, sum(n), sum(usage_cost), sum(payable)"
            f" FROM ({rows}) AS delta GROUP BY {TALLY_KEY} ORDER BY {TALLY_KEY}",
            null_date,
        )

    plus = f"SELECT {TALLY_KEY}, 1 AS n, usage_cost, payable FROM new_rows"
    minus = (
        f"SELECT {TALLY_KEY}, -1 AS n, -usage_cost AS usage_cost,"
        " -payable AS payable FROM old_rows"
    )
    columns = (*TALLY_KEY.split(", "), "usage_cost", "payable")
    old_key = ", ".join(f"o.{c}" for c in columns)
    new_key = ", ".join(f"n.{c}" for c in columns)
    moved = f"""
        SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE ({old_key}) IS DISTINCT FROM ({new_key})
    """
    # Only rows whose tally key or amounts changed move between tally rows.
    updated = upsert(
        f"{plus} WHERE id IN ({moved}) UNION ALL {minus} WHERE id IN ({moved})"
    )
    # Statement-level triggers with transition tables: a COPY or a bulk UPDATE
    # of many invoices applies one grouped change instead of one per row.
    op.execute(
        f"""CREATE OR REPLACE FUNCTION invoice_tally_apply() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM invoice_tally;
            ELSIF TG_OP = 'INSERT' THEN
                {upsert(plus)};
            ELSIF TG_OP = 'DELETE' THEN
                {upsert(minus)};
            ELSE
                {updated};
            END IF;
            RETURN NULL;
        END $$"""
    )
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER invoice_tally_{event.lower()} AFTER {event} ON invoice"
            f" REFERENCING {tables} FOR EACH STATEMENT"
            " EXECUTE FUNCTION invoice_tally_apply()"
        )
    op.execute(
        "CREATE TRIGGER invoice_tally_truncate AFTER TRUNCATE ON invoice"
        " FOR EACH STATEMENT EXECUTE FUNCTION invoice_tally_apply()"
    )


def upgrade():
    with op.batch_alter_table("invoice", recreate="never") as batch_op:
        for name, _ in REPLACED:
            batch_op.drop_index(name)
        for name, columns in SORT_INDEXES:
            batch_op.create_index(name, columns)
    op.create_index("ix_client_name", "client", ["name"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER invoice_tally_{event} ON invoice")
        op.execute("DROP FUNCTION invoice_tally_apply()")
        op.execute("DROP INDEX ix_invoice_search_trgm")
        # pg_trgm stays: other objects in the database may use it.
    else:
        for trigger in ("search_insert", "search_delete", "search_update"):
            op.execute(f"DROP TRIGGER invoice_{trigger}")
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER invoice_tally_{event}")
        op.execute("DROP TABLE invoice_search")
    op.drop_table("invoice_tally")
    op.drop_index("ix_client_name", "client")
    with op.batch_alter_table("invoice", recreate="never") as batch_op:
        for name, _ in SORT_INDEXES:
            batch_op.drop_index(name)
        for name, columns in REPLACED:
            batch_op.create_index(name, columns)
