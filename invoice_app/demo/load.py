"""Bulk seeding: demo invoices by the hundred thousand, straight into the tables.

Rows are written in blocks with executemany (SQLite) or COPY (PostgreSQL), ids
assigned here, not one ORM object at a time, all in one transaction. Quick
search and the tally stay exact as for rows the app writes: PostgreSQL's GIN
index and statement-level tally trigger see every COPY (a big load rebuilds the
indexes once instead); on SQLite the FTS and tally triggers step aside and their
work is done in a few statements at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from ..database import begin_write
from ..extensions import db
from ..models import (
    DEFAULT_TENANT_SLUG,
    Client,
    Invoice,
    InvoiceLine,
    Payment,
    Role,
    Status,
    Tenant,
    User,
    default_tenant,
    invoice_search_columns,
    searchable_text,
)
from ..tenancy import ALL_TENANTS, current
from .data import BLOCK, DemoInvoice, client_count, demo_block, demo_clients

INVOICE_COLUMNS = (
    "id", "tenant_id", "number", "client_id", "billing_period", "currency",
    "usage_cost", "payable", "issue_date", "due_date", "status", "paid_date", "notes",
    "adjustment", "adjustment_reason", "payment_terms_days", "amount_paid",
    "cancel_reason", "version", "search_number", "search_text", "created_at",
    "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "id", "invoice_id", "position", "description", "quantity", "unit_price", "amount"
)  # fmt: skip
PAYMENT_COLUMNS = (
    "id", "invoice_id", "amount", "received_on", "reference", "created_at"
)  # fmt: skip
CLIENT_COLUMNS = ("id", "tenant_id", "name", "email", "search_text")
TABLES = ("client", "invoice", "invoice_line", "payment")
# PostgreSQL: a load this big (and at least doubling the table) rebuilds indexes.
REBUILD_AT = 10_000


def _units(column) -> Callable:
    """Decimal -> the scaled integer a ScaledDecimal column stores."""
    scale = column.type.scale
    return lambda value: int(value.scaleb(scale))


_amount = _units(Invoice.__table__.c.usage_cost)
_quantity = _units(InvoiceLine.__table__.c.quantity)
_unit_price = _units(InvoiceLine.__table__.c.unit_price)


class _Writer:
    """Appends rows to tables over the session's connection, in its transaction."""

    def __init__(self):
        connection = db.session.connection()
        self.dialect = connection.dialect
        self.driver = connection.connection.driver_connection
        self._cache: dict = {}

    @property
    def postgresql(self) -> bool:
        return self.dialect.name == "postgresql"

    def value(self, column, value):
        """value as the driver should get it (SQLite stores dates as text)."""
        if self.postgresql or value is None:
            return value
        key = (column.type.__class__, value)
        if key not in self._cache:
            bind = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
            self._cache[key] = bind(value) if bind else value
        return self._cache[key]

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        names = ", ".join(columns)
        cursor = self.driver.cursor()
        try:
            if self.postgresql:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
        finally:
            cursor.close()


def _next_id(model) -> int:
    # Ids are shared by every tenant: the largest of all.
    largest = select(func.max(model.id)).execution_options(**ALL_TENANTS)
    return (db.session.scalar(largest) or 0) + 1


def _client_ids(writer: _Writer, count: int, tenant: Tenant) -> list[int]:
    """Ids of the tenant's demo clients for count invoices, inserting those missing."""
    known = dict(
        db.session.execute(
            select(Client.email, Client.id).where(Client.tenant_id == tenant.id)
        )
        .tuples()
        .all()
    )
    next_id = _next_id(Client)
    # Another tenant's demo clients are its own companies, by their e-mails.
    domain = (
        "example.com"
        if tenant.slug == DEFAULT_TENANT_SLUG
        else f"{tenant.slug}.example.com"
    )
    ids, new = [], []
    for name, email in demo_clients(client_count(count), domain):
        if email not in known:
            known[email] = next_id
            new.append((next_id, tenant.id, name, email, searchable_text(name, email)))
            next_id += 1
        ids.append(known[email])
    if new:
        writer.write("client", CLIENT_COLUMNS, new)
    return ids


class _Rows:
    """Table rows for demo invoices, with ids counting on from the largest."""

    def __init__(self, writer: _Writer, client_ids: list[int], tenant_id: int):
        self.writer = writer
        self.client_ids = client_ids
        self.tenant_id = tenant_id
        self.invoice_id = _next_id(Invoice)
        self.line_id = _next_id(InvoiceLine)
        self.payment_id = _next_id(Payment)
        self.now = writer.value(Invoice.__table__.c.created_at, datetime.now(UTC))

    def build(self, invoices: Iterable[DemoInvoice]):
        invoice_rows, line_rows, payment_rows = [], [], []
        c = Invoice.__table__.c
        value = self.writer.value
        for demo in invoices:
            invoice_id = self.invoice_id
            self.invoice_id += 1
            client_id = self.client_ids[demo.client]
            payable = _amount(demo.usage_cost)
            paid = payable if demo.status == Status.PAID else 0
            lines = [line.description for line in demo.lines]
            number, text = invoice_search_columns(demo.number, demo.notes, lines)
            invoice_rows.append(
                (
                    invoice_id, self.tenant_id, demo.number, client_id,
                    value(c.billing_period, demo.billing_period), demo.currency,
                    payable, payable, value(c.issue_date, demo.issue_date),
                    value(c.due_date, demo.due_date), demo.status,
                    value(c.paid_date, demo.paid_date), demo.notes,
                    0, "", None, paid,
                    "Issued in error" if demo.status == Status.CANCEL else "",
                    1, number, text, self.now, self.now,
                )
            )  # fmt: skip
            for position, line in enumerate(demo.lines):
                line_rows.append(
                    (
                        self.line_id, invoice_id, position, line.description,
                        _quantity(line.quantity), _unit_price(line.unit_price),
                        _amount(line.amount),
                    )
                )  # fmt: skip
                self.line_id += 1
            if paid:
                payment_rows.append(
                    (
                        self.payment_id, invoice_id, paid,
                        value(c.paid_date, demo.paid_date), "Bank transfer", self.now,
                    )
                )  # fmt: skip
                self.payment_id += 1
        return invoice_rows, line_rows, payment_rows


# Matches ux_invoice_tally_key of migration 0007 (SQLite's form of it).
_SQLITE_TALLY_NEW_ROWS = """
    INSERT INTO invoice_tally (tenant_id, status, currency, billing_period,
                               due_date, issue_date, invoices, usage_cost, payable)
    SELECT tenant_id, status, currency, billing_period, due_date, issue_date,
           count(*), sum(usage_cost), sum(payable)
    FROM invoice WHERE id >= :first
    GROUP BY tenant_id, status, currency, billing_period, due_date, issue_date
    ON CONFLICT (tenant_id, status, currency, billing_period,
                 coalesce(due_date, ''), coalesce(issue_date, ''))
    DO UPDATE SET invoices = invoices + excluded.invoices,
                  usage_cost = usage_cost + excluded.usage_cost,
                  payable = payable + excluded.payable
"""


class _SqliteLoad:
    """SQLite: the search and tally triggers step aside for the load.

    Row by row they cost more than the inserts themselves; instead the new rows
    (and clients) are indexed and tallied in a few statements at the end.
    Dropping and restoring the triggers happens inside the seed's transaction,
    so a failed seed leaves them in place, and the write lock keeps other
    writers out meanwhile.
    """

    def __init__(self, first_id: int, adding: int, existing: int):
        self.first_id = first_id
        self.first_client_id = _next_id(Client)
        self.triggers = db.session.execute(
            db.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND (name LIKE 'invoice_search_%' OR name LIKE 'invoice_tally_%'"
                " OR name LIKE 'client_search_%')"
            )
        ).all()
        for name, _ in self.triggers:
            db.session.execute(db.text(f'DROP TRIGGER "{name}"'))
        # A bigger page cache for this connection while it writes (KiB).
        db.session.execute(db.text("PRAGMA cache_size = -262144"))

    def finish(self) -> None:
        first = {"first": self.first_id}
        db.session.execute(
            db.text(
                "INSERT INTO invoice_search (rowid, search_text)"
                " SELECT id, search_text FROM invoice WHERE id >= :first"
            ),
            first,
        )
        db.session.execute(
            db.text(
                "INSERT INTO client_search (rowid, search_text)"
                " SELECT id, search_text FROM client WHERE id >= :first"
            ),
            {"first": self.first_client_id},
        )
        db.session.execute(db.text(_SQLITE_TALLY_NEW_ROWS), first)
        for _, sql in self.triggers:
            db.session.execute(db.text(sql))
        db.session.execute(db.text("PRAGMA cache_size = -2000"))
        # Fresh statistics (sampled), so the planner knows the tables' sizes.
        db.session.execute(db.text("PRAGMA analysis_limit = 1000"))
        db.session.execute(db.text("ANALYZE"))


class _PostgresLoad:
    """PostgreSQL: COPY, with secondary indexes rebuilt once for a big load.

    The tally trigger runs once per COPY statement anyway. Maintaining indexes
    (the trigram GIN index above all) row by row costs more than building them
    afresh when the load at least doubles the table; the drop and rebuild are
    part of the seed's transaction, so a failed seed leaves them in place.
    """

    def __init__(self, first_id: int, adding: int, existing: int):
        self.rebuild = []
        if adding >= max(existing, REBUILD_AT):
            # Not the indexes behind primary keys and unique constraints.
            self.rebuild = db.session.execute(
                db.text(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE tablename IN ('invoice', 'invoice_line', 'payment')"
                    " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                )
            ).all()
        for name, _ in self.rebuild:
            db.session.execute(db.text(f'DROP INDEX "{name}"'))

    def finish(self) -> None:
        db.session.execute(db.text("SET LOCAL maintenance_work_mem = '512MB'"))
        for _, sql in self.rebuild:
            db.session.execute(db.text(sql))
        for table in TABLES:
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            sql = f"SELECT setval({sequence}, max(id)) FROM {table}"  # noqa: S608
            db.session.execute(db.text(sql))
        db.session.execute(db.text(f"ANALYZE {', '.join(TABLES)}"))


def seed_demo(
    count: int,
    today: date,
    seed: int = 2025,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `count` demo invoices in bulk, skipping numbers that exist; how many.

    They belong to the tenant of the scope in force (tenancy.use()), else to the
    default tenant.
    """
    if count <= 0:
        return 0
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    # Ids are assigned here: no one else may insert until the commit (readers
    # carry on, seeing the tables as they were).
    if postgresql:
        db.session.execute(
            db.text(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
        )
    else:
        begin_write()
    scope = current()
    if scope is None:
        tenant = default_tenant(db.session)
        db.session.flush()
    else:
        tenant = db.session.get(Tenant, scope.tenant_id)
    existing = set(
        db.session.scalars(select(Invoice.number).where(Invoice.tenant_id == tenant.id))
    )
    everyone = db.session.scalar(
        select(func.count()).select_from(Invoice).execution_options(**ALL_TENANTS)
    )
    load = (_PostgresLoad if postgresql else _SqliteLoad)(
        _next_id(Invoice), count, everyone
    )
    writer = _Writer()
    rows = _Rows(writer, _client_ids(writer, count, tenant), tenant.id)
    added = 0
    for block in range(-(-count // BLOCK)):
        invoices = [
            i for i in demo_block(block, count, today, seed) if i.number not in existing
        ]
        invoice_rows, line_rows, payment_rows = rows.build(invoices)
        writer.write("invoice", INVOICE_COLUMNS, invoice_rows)
        writer.write("invoice_line", LINE_COLUMNS, line_rows)
        writer.write("payment", PAYMENT_COLUMNS, payment_rows)
        added += len(invoice_rows)
        if progress:
            progress(added)
    load.finish()
    db.session.commit()
    if postgresql and load.rebuild:
        # Index-only scans (deep pages) need the visibility map VACUUM sets.
        with db.engine.connect() as connection:
            # The tally too: each COPY updated its rows, leaving dead versions.
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                db.text(f"VACUUM ANALYZE {', '.join(TABLES)}, invoice_tally")
            )
    return added


def ensure_user(email: str, password: str, role: Role) -> bool:
    """Create the user if missing; True when created."""
    if db.session.scalar(select(User).where(User.email == email)):
        return False
    user = User(email=email, role=role.value)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return True


def invoice_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Invoice))
