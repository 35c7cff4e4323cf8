"""Health checks for load balancers: no login, no session, small answers."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..paths import MIGRATIONS_DIR

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers and its schema is at the newest migration."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return {"status": "unavailable", "database": type(exc).__name__}, 503
    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    if current != heads:
        return {
            "status": "unavailable",
            "migrations": {"current": sorted(current), "expected": sorted(heads)},
        }, 503
    return {"status": "ok"}
