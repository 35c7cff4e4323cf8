"""Tenant scoping: clients, invoices and the audit trail belong to a tenant.

- client, invoice, audit_event get tenant_id (NOT NULL); every existing row
  moves into the default tenant of 0005.
- A client's e-mail and an invoice's number are unique per tenant, not
  overall: two tenants may both have INV-1.
- The sort indexes start with tenant_id, so one tenant's list is still an
  index range; the trail is looked up by (tenant_id, invoice_number).
- invoice_tally is keyed by tenant too: it is rebuilt, with its triggers.

SQLite cannot change a table's constraints in place: batch mode rebuilds the
table, which drops its triggers, so they are read first and created again (as
in 0004); the tally triggers are replaced rather than kept.

Downgrading refuses while two tenants share an invoice number or client e-mail
(the old unique constraints could not hold); it keeps every row.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Names SQLite's batch mode gives the unnamed unique constraints of 0001.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
# A copy, not an import: a migration keeps the schema of its day (models.py).
INVOICE_INDEXES = {
    "ix_invoice_status_due_date": ["status", "due_date"],
    "ix_invoice_status_period": ["status", "billing_period", "id", "due_date"],
    "ix_invoice_billing_period": [
        "billing_period",
        "id",
        "status",
        "due_date",
        "issue_date",
    ],
    "ix_invoice_due_date": ["due_date", "id", "billing_period", "status"],
    "ix_invoice_issue_date": ["issue_date", "id", "billing_period", "status"],
    "ix_invoice_usage_cost": ["usage_cost", "id"],
    "ix_invoice_payable": ["payable", "id"],
}
TABLES = ("client", "invoice", "audit_event")
TALLY_KEY = "status, currency, billing_period, due_date, issue_date"
TALLY_SUMS = "invoices, usage_cost, payable"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _null_date() -> str:
    return "''" if _sqlite() else "'-infinity'::date"


# The tally of 0002, keyed by `key` (with or without tenant_id).


def _tally_upsert(key: str, rows_sql: str) -> str:
    null = _null_date()
    conflict = key.replace(
        "due_date, issue_date",
        f"coalesce(due_date, {null}), coalesce(issue_date, {null})",
    )
    return f"""
        INSERT INTO invoice_tally ({key}, {TALLY_SUMS})
        {rows_sql}
        ON CONFLICT ({conflict})
        DO UPDATE SET invoices = invoice_tally.invoices + excluded.invoices,
                      usage_cost = invoice_tally.usage_cost + excluded.usage_cost,
                      payable = invoice_tally.payable + excluded.payable
    """


def _drop_tally() -> None:
    if _sqlite():
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS invoice_tally_{event}")
    else:
        for event in ("insert", "delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS invoice_tally_{event} ON invoice")
        op.execute("DROP FUNCTION IF EXISTS invoice_tally_apply()")
    op.drop_table("invoice_tally")


def _create_tally(key: str) -> None:
    columns = [
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_period", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("invoices", sa.BigInteger(), nullable=False),
        sa.Column("usage_cost", sa.BigInteger(), nullable=False),
        sa.Column("payable", sa.BigInteger(), nullable=False),
    ]
    if key.startswith("tenant_id"):
        columns.insert(0, sa.Column("tenant_id", sa.Integer(), nullable=False))
    op.create_table("invoice_tally", *columns)
    null = _null_date()
    index_key = key.replace(
        "due_date, issue_date",
        f"coalesce(due_date, {null}), coalesce(issue_date, {null})",
    )
    op.execute(f"CREATE UNIQUE INDEX ux_invoice_tally_key ON invoice_tally ({index_key})")
    op.execute(
        _tally_upsert(
            key,
            f"SELECT {key}, count(*), sum(usage_cost), sum(payable)"
            f" FROM invoice GROUP BY {key}",
        )
    )
    if _sqlite():
        _sqlite_tally_triggers(key)
    else:
        op.execute("ALTER TABLE invoice_tally SET (fillfactor = 50)")
        _postgresql_tally_triggers(key)


def _sqlite_tally_triggers(key: str) -> None:
    def add(row: str, sign: str) -> str:
        values = ", ".join(f"{row}.{c}" for c in key.split(", "))
        values += f", {sign}1, {sign}{row}.usage_cost, {sign}{row}.payable"
        # "WHERE true" tells SQLite's parser the ON CONFLICT belongs to the upsert.
        return _tally_upsert(key, f"SELECT {values} WHERE true") + ";"

    op.execute(
        f"CREATE TRIGGER invoice_tally_insert AFTER INSERT ON invoice BEGIN"
        f" {add('new', '')} END"
    )
    op.execute(
        f"CREATE TRIGGER invoice_tally_delete AFTER DELETE ON invoice BEGIN"
        f" {add('old', '-')} END"
    )
    changed = " OR ".join(
        f"old.{c} IS NOT new.{c}" for c in (*key.split(", "), "usage_cost", "payable")
    )
    op.execute(
        f"CREATE TRIGGER invoice_tally_update AFTER UPDATE OF {key},"
        f" usage_cost, payable ON invoice WHEN {changed} BEGIN"
        f" {add('old', '-')} {add('new', '')} END"
    )


def _postgresql_tally_triggers(key: str) -> None:
    def upsert(rows: str) -> str:
        # Grouped and ordered, so one statement touches each tally row once, and
        # concurrent statements lock tally rows in the same order.
        return _tally_upsert(
            key,
            f"SELECT {key}, sum(n), sum(usage_cost), sum(payable)"
            f" FROM ({rows}) AS delta GROUP BY {key} ORDER BY {key}",
        )

    plus = f"SELECT {key}, 1 AS n, usage_cost, payable FROM new_rows"
    minus = (
        f"SELECT {key}, -1 AS n, -usage_cost AS usage_cost,"
        " -payable AS payable FROM old_rows"
    )
    columns = (*key.split(", "), "usage_cost", "payable")
    old_key = ", ".join(f"o.{c}" for c in columns)
    new_key = ", ".join(f"n.{c}" for c in columns)
    moved = f"""
        SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE ({old_key}) IS DISTINCT FROM ({new_key})
    """
    updated = upsert(
        f"{plus} WHERE id IN ({moved}) UNION ALL {minus} WHERE id IN ({moved})"
    )
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


def _alter(table: str, change) -> None:
    """Change a table's constraints; on SQLite a rebuild that keeps its triggers."""
    if not _sqlite():
        with op.batch_alter_table(table, recreate="never") as batch_op:
            change(batch_op, postgresql=True)
        return
    triggers = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
            (table,),
        )
        .scalars()
        .all()
    )
    with op.batch_alter_table(
        table, recreate="always", naming_convention=NAMING
    ) as batch_op:
        change(batch_op, postgresql=False)
    for sql in triggers:
        op.execute(sql)


def _unique_name(table: str, column: str, postgresql: bool) -> str:
    # PostgreSQL named 0001's unnamed constraints itself.
    return f"{table}_{column}_key" if postgresql else f"uq_{table}_{column}"


def upgrade():
    _drop_tally()
    for table in TABLES:
        with op.batch_alter_table(table, recreate="never") as batch_op:
            batch_op.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
        op.execute(
            f"UPDATE {table} SET tenant_id = "
            "(SELECT id FROM tenant WHERE slug = 'default')"
        )

    def client(batch_op, postgresql):
        batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_client_tenant_id", "tenant", ["tenant_id"], ["id"]
        )
        batch_op.drop_constraint(
            _unique_name("client", "email", postgresql), type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_client_tenant_email", ["tenant_id", "email"]
        )
        batch_op.drop_index("ix_client_name")
        batch_op.create_index("ix_client_name", ["tenant_id", "name"])

    def invoice(batch_op, postgresql):
        batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_invoice_tenant_id", "tenant", ["tenant_id"], ["id"]
        )
        batch_op.drop_constraint(
            _unique_name("invoice", "number", postgresql), type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_invoice_tenant_number", ["tenant_id", "number"]
        )
        for name, columns in INVOICE_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, ["tenant_id", *columns])

    def audit_event(batch_op, postgresql):
        batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_audit_event_tenant_id", "tenant", ["tenant_id"], ["id"]
        )
        batch_op.drop_index("ix_audit_event_invoice_number")
        batch_op.create_index(
            "ix_audit_event_tenant_number", ["tenant_id", "invoice_number"]
        )

    for table, change in (
        ("client", client),
        ("invoice", invoice),
        ("audit_event", audit_event),
    ):
        _alter(table, change)
    _create_tally(f"tenant_id, {TALLY_KEY}")


def _refuse_shared_keys() -> None:
    bind = op.get_bind()
    for table, column in (("invoice", "number"), ("client", "email")):
        shared = bind.execute(
            sa.text(
                f"SELECT {column} FROM {table} GROUP BY {column}"
                " HAVING count(*) > 1 LIMIT 5"
            )
        ).scalars()
        shared = list(shared)
        if shared:
            raise RuntimeError(
                f"Cannot downgrade below 0007: tenants share {table} {column}s "
                f"({', '.join(map(str, shared))}); before 0007 each had to be unique."
            )


def downgrade():
    _refuse_shared_keys()
    _drop_tally()

    def client(batch_op, postgresql):
        batch_op.drop_index("ix_client_name")
        batch_op.create_index("ix_client_name", ["name"])
        batch_op.drop_constraint("uq_client_tenant_email", type_="unique")
        batch_op.create_unique_constraint(
            _unique_name("client", "email", postgresql), ["email"]
        )
        batch_op.drop_constraint("fk_client_tenant_id", type_="foreignkey")
        batch_op.drop_column("tenant_id")

    def invoice(batch_op, postgresql):
        for name, columns in INVOICE_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns)
        batch_op.drop_constraint("uq_invoice_tenant_number", type_="unique")
        batch_op.create_unique_constraint(
            _unique_name("invoice", "number", postgresql), ["number"]
        )
        batch_op.drop_constraint("fk_invoice_tenant_id", type_="foreignkey")
        batch_op.drop_column("tenant_id")

    def audit_event(batch_op, postgresql):
        batch_op.drop_index("ix_audit_event_tenant_number")
        batch_op.create_index("ix_audit_event_invoice_number", ["invoice_number"])
        batch_op.drop_constraint("fk_audit_event_tenant_id", type_="foreignkey")
        batch_op.drop_column("tenant_id")

    for table, change in (
        ("audit_event", audit_event),
        ("invoice", invoice),
        ("client", client),
    ):
        _alter(table, change)
    _create_tally(TALLY_KEY)
