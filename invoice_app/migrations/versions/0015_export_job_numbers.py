"""Background exports of a selection: the ticked invoice numbers stored with the job.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_job") as batch:
        batch.add_column(sa.Column("numbers", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("export_job") as batch:
        batch.drop_column("numbers")
