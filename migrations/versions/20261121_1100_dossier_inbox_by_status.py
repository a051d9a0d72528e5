"""The back-office inbox filtered by status gets its index; the lone status index goes (it
served only the metrics GROUP BY and cost an index write on every transition).

Revision ID: db68f19feac3
Revises: 3930cdf0ce71
Create Date: 2026-11-21 06:51:38.324389+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "db68f19feac3"
down_revision: str | None = "3930cdf0ce71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossiers_status"))
        batch_op.create_index(
            "ix_dossiers_agency_status", ["agency_code", "status", "submitted_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_agency_status")
        batch_op.create_index(batch_op.f("ix_dossiers_status"), ["status"], unique=False)
