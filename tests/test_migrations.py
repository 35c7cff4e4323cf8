"""The migrations build exactly the schema the models describe, on both databases."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import SAWarning

from invoice_app.database import include_object
from invoice_app.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn, warnings.catch_warnings():
        # The tally's expression index cannot be reflected; the tally is skipped.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, db.metadata) == []
