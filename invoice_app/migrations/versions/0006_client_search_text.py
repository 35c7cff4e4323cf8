"""Search clients apart from invoices: client.search_text, a covering client index.

A search for half a client name used to find tens of thousands of invoices
through the trigram index on invoice.search_text, which held each invoice's
client name and e-mail too. Now client.search_text holds them (case-folded, one
row per client), invoice.search_text only the invoice's own fields (number,
notes, line descriptions), and a search is "own text matches OR client_id in
the clients that match". ix_invoice_client_id carries every column a search's
counts and totals need, so those of the clients' invoices are read from the
index alone.

Case folding is Python's str.casefold (the app's), so the texts are rebuilt
here in Python, in batches.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 10_000
CLIENT_INDEX = ["client_id", "id"]
COVERING_CLIENT_INDEX = [
    "client_id",
    "id",
    "status",
    "due_date",
    "currency",
    "usage_cost",
    "payable",
    "billing_period",
    "issue_date",
]


def _rewrite_invoice_texts(with_client: bool) -> None:
    """Rebuild invoice.search_text: own fields, or (downgrade) with the client's."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT invoice.id, invoice.number, invoice.notes, client.name,"
                " client.email FROM invoice JOIN client ON client.id = invoice.client_id"
                " WHERE invoice.id > :last ORDER BY invoice.id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        lines: dict[int, list[str]] = {}
        for invoice_id, description in bind.execute(
            sa.text(
                "SELECT invoice_id, description FROM invoice_line"
                " WHERE invoice_id BETWEEN :first AND :last"
                " ORDER BY invoice_id, position, id"
            ),
            {"first": rows[0].id, "last": rows[-1].id},
        ):
            lines.setdefault(invoice_id, []).append(description)
        updates = []
        for invoice_id, number, notes, name, email in rows:
            parts = [number, notes or ""]
            if with_client:
                parts += [name, email]
            parts += lines.get(invoice_id, [])
            updates.append({"id": invoice_id, "text": "\n".join(parts).casefold()})
        bind.execute(
            sa.text("UPDATE invoice SET search_text = :text WHERE id = :id"), updates
        )
        last = rows[-1].id


def _fill_client_texts() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name, email FROM client")).all()
    updates = [
        {"id": id_, "text": f"{name}\n{email}".casefold()} for id_, name, email in rows
    ]
    for start in range(0, len(updates), BATCH):
        bind.execute(
            sa.text("UPDATE client SET search_text = :text WHERE id = :id"),
            updates[start : start + BATCH],
        )


def _replace_client_index(columns: list[str]) -> None:
    with op.batch_alter_table("invoice", recreate="never") as batch_op:
        batch_op.drop_index("ix_invoice_client_id")
        batch_op.create_index("ix_invoice_client_id", columns)


def _sqlite_client_search() -> None:
    # As invoice_search of 0002: external content, kept in sync by triggers.
    op.execute(
        "CREATE VIRTUAL TABLE client_search USING fts5(search_text,"
        " content='client', content_rowid='id', tokenize='trigram', columnsize=0)"
    )
    op.execute("INSERT INTO client_search(client_search) VALUES ('rebuild')")
    op.execute(
        """CREATE TRIGGER client_search_insert AFTER INSERT ON client BEGIN
            INSERT INTO client_search(rowid, search_text)
            VALUES (new.id, new.search_text);
        END"""
    )
    op.execute(
        """CREATE TRIGGER client_search_delete AFTER DELETE ON client BEGIN
            INSERT INTO client_search(client_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END"""
    )
    op.execute(
        """CREATE TRIGGER client_search_update AFTER UPDATE OF search_text ON client
        BEGIN
            INSERT INTO client_search(client_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO client_search(rowid, search_text)
            VALUES (new.id, new.search_text);
        END"""
    )


def upgrade():
    # The server default only fills existing rows; the app always writes it.
    with op.batch_alter_table("client", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("search_text", sa.Text(), nullable=False, server_default="")
        )
    _fill_client_texts()
    _rewrite_invoice_texts(with_client=False)
    _replace_client_index(COVERING_CLIENT_INDEX)
    # A hundred thousand clients are too many to scan for every search.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_client_search_trgm ON client"
            " USING gin (search_text gin_trgm_ops)"
        )
    else:
        _sqlite_client_search()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_client_search_trgm")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER client_search_{event}")
        op.execute("DROP TABLE client_search")
    _replace_client_index(CLIENT_INDEX)
    _rewrite_invoice_texts(with_client=True)
    with op.batch_alter_table("client", recreate="never") as batch_op:
        batch_op.drop_column("search_text")
