"""The invoice list's optional columns each user has chosen to show.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # NULL: never chosen, so the list shows the guide's five columns only.
    with op.batch_alter_table("app_user", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("list_columns", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("app_user", recreate="never") as batch_op:
        batch_op.drop_column("list_columns")
