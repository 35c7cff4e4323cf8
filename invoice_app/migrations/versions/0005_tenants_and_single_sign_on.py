"""Tenants and single sign-on: tenant table, users' tenant and portal identity.

- tenant: one portal account; the default tenant (slug `default`) is created
  here and every existing user moves into it.
- app_user: tenant_id (NOT NULL), the portal's `sub`, allowed clients, a display
  name; password_hash becomes nullable (users of single sign-on have none).
- used_token: the ids (jti) of sign-in tokens, kept until they expire, so each
  token works once across every worker and host.
- audit_event: sso_sub and sso_jti of changes made by users of single sign-on.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.execute(
        "INSERT INTO tenant (slug, name, created_at) "
        "VALUES ('default', 'Default', CURRENT_TIMESTAMP)"
    )
    op.create_table(
        "used_token",
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index("ix_used_token_expires_at", "used_token", ["expires_at"])

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sso_sub", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("allowed_clients", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE app_user SET tenant_id = (SELECT id FROM tenant WHERE slug = 'default')"
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.alter_column("name", server_default=None)
        batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "password_hash", existing_type=sa.String(length=255), nullable=True
        )
        batch_op.create_foreign_key(
            "fk_app_user_tenant_id", "tenant", ["tenant_id"], ["id"]
        )
        batch_op.create_index("ix_app_user_tenant_id", ["tenant_id"], unique=False)
        batch_op.create_unique_constraint("uq_app_user_sso_sub", ["sso_sub"])

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sso_sub", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("sso_jti", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("sso_jti")
        batch_op.drop_column("sso_sub")
    # Users of single sign-on are kept (the trail names them) but cannot sign
    # in: "!" is no hash any password matches.
    op.execute("UPDATE app_user SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint("uq_app_user_sso_sub", type_="unique")
        batch_op.drop_index("ix_app_user_tenant_id")
        batch_op.drop_constraint("fk_app_user_tenant_id", type_="foreignkey")
        batch_op.alter_column(
            "password_hash", existing_type=sa.String(length=255), nullable=False
        )
        batch_op.drop_column("allowed_clients")
        batch_op.drop_column("sso_sub")
        batch_op.drop_column("tenant_id")
        batch_op.drop_column("name")
    op.drop_index("ix_used_token_expires_at", table_name="used_token")
    op.drop_table("used_token")
    op.drop_table("tenant")
