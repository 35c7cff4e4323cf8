"""Per-database connection settings."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Engine

from .extensions import db


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so
    # a write can take the lock up front (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets readers go on while one writer writes; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A read-then-write transaction that starts DEFERRED can fail with "database
    # is locked" when it tries to upgrade its lock; writers say so up front.
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write() -> None:
    """Start the session's transaction as a write (BEGIN IMMEDIATE on SQLite).

    Call before the unit of work that will write reads what it will change.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL: row locks and the conditional UPDATE are enough
    if db.session().in_transaction():
        # The read-only transaction that loaded the user ends here; the write
        # starts afresh, holding the lock from its first statement.
        db.session.commit()
    db.session.connection(execution_options={"sqlite_immediate": True})


def configure(app: Flask) -> None:
    """Attach SQLite pragmas and transaction handling when the engine is SQLite."""
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)


# Made and kept by migrations 0002 and 0006's SQL, not by the models: the tally
# and the SQLite full-text tables, and the trigram indexes (PostgreSQL only).
UNMODELLED_TABLES = ("invoice_tally", "invoice_search", "client_search")
TRIGRAM_INDEXES = ("ix_invoice_search_trgm", "ix_client_search_trgm")
# Modelled, but made on PostgreSQL only (ddl_if): on SQLite they are absent by
# design, which is not a difference.
POSTGRESQL_ONLY_INDEXES = ("ix_invoice_number_pattern",)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic: leave what the models do not describe out of autogenerate/check."""
    if type_ == "table" and name and name.startswith(UNMODELLED_TABLES):
        return False
    if type_ == "index" and name in POSTGRESQL_ONLY_INDEXES:
        return reflected or compare_to is not None
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def drop_everything() -> None:
    """Drop every table and the migration record (tests and benchmarks start anew).

    Reflects what is there, so tables the models do not describe (the tally, the
    search index) go too.
    """
    meta = MetaData()
    meta.reflect(db.engine)
    meta.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
