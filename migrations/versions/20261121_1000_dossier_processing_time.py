"""Dossiers keep the processing time in force when they were received.

Revision ID: 3930cdf0ce71
Revises: 7f64f4c227cb
Create Date: 2026-11-21 06:37:35.852397+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3930cdf0ce71"
down_revision: str | None = "7f64f4c227cb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.add_column(sa.Column("processing_time", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("processing_unit", sa.String(length=20), nullable=True))
    # Existing dossiers take their procedure's current processing time.
    op.execute(
        "UPDATE dossiers SET "
        "processing_time = (SELECT p.processing_time FROM procedures p "
        "WHERE p.code = dossiers.procedure_code), "
        "processing_unit = (SELECT p.processing_unit FROM procedures p "
        "WHERE p.code = dossiers.procedure_code)"
    )
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.alter_column("processing_time", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("processing_unit", existing_type=sa.String(length=20), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.drop_column("processing_unit")
        batch_op.drop_column("processing_time")
