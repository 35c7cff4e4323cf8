"""Saved views of the invoice list, and each user's default view.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column(
            "owner_id", sa.Integer(),
            sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_key", sa.String(length=240), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "tenant_id", "audience", "name_key", name="uq_saved_view_audience_name"
        ),
    )  # fmt: skip
    op.create_index("ix_saved_view_tenant_id", "saved_view", ["tenant_id"])
    op.create_index("ix_saved_view_owner_id", "saved_view", ["owner_id"])
    op.create_table(
        "saved_view_default",
        sa.Column(
            "user_id", sa.Integer(),
            sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column(
            "view_id", sa.Integer(),
            sa.ForeignKey("saved_view.id", ondelete="CASCADE"), nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )  # fmt: skip
    op.create_index(
        "ix_saved_view_default_view_id", "saved_view_default", ["view_id"]
    )


def downgrade():
    op.drop_table("saved_view_default")
    op.drop_table("saved_view")
