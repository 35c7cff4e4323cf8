"""API writes: a scope for API tokens, and idempotency keys.

- app_user.api_token_scope: `read` (every token so far) or `write`.
- idempotency_key: one row per (user, Idempotency-Key) of a POST, holding a
  hash of the request and, once answered, the answer to give a repeat.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("app_user", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column(
                "api_token_scope",
                sa.String(length=5),
                nullable=False,
                server_default="read",
            )
        )
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_idempotency_key_user_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_key"),
    )
    op.create_index(
        "ix_idempotency_key_created_at", "idempotency_key", ["created_at"]
    )


def downgrade():
    op.drop_index("ix_idempotency_key_created_at", table_name="idempotency_key")
    op.drop_table("idempotency_key")
    with op.batch_alter_table("app_user", recreate="never") as batch_op:
        batch_op.drop_column("api_token_scope")
