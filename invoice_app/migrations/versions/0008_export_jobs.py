"""Background exports: the export_job table (issue 13).

One row per export a user queued: its owner, tenant, stored scope and filters,
status and progress, and the finished file's path, size and expiry.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATUSES = ("queued", "running", "done", "failed", "cancelled")


def upgrade():
    op.create_table(
        "export_job",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("client_ids", sa.JSON, nullable=True),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("rows_done", sa.Integer, nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=True),
        sa.Column("file_path", sa.String(255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("error", sa.String(500), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name="ck_export_job_status",
        ),
        sa.CheckConstraint("rows_done >= 0", name="ck_export_job_rows_done_not_negative"),
    )
    op.create_index("ix_export_job_user_id", "export_job", ["user_id"])
    op.create_index(
        "ix_export_job_tenant_user", "export_job", ["tenant_id", "user_id", "created_at"]
    )
    op.create_index("ix_export_job_status", "export_job", ["status", "heartbeat_at"])


def downgrade():
    op.drop_table("export_job")
