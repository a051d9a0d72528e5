"""The Decision 766 indicators' inputs: complaints about dossiers, which procedures charge fees
(filled from each procedure's fee lines), and the indexes that let an agency's, a province's or
the country's indicators read only the period's dossiers.

Revision ID: 75b5d37912a0
Revises: 44ac44e34a4c
Create Date: 2026-12-02 10:03:40.455839+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "75b5d37912a0"
down_revision: str | None = "44ac44e34a4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dossier_complaints",
        sa.Column("id", ID, nullable=False),
        sa.Column("dossier_id", ID, nullable=False),
        sa.Column("agency_code", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_dossier_complaints_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_dossier_complaints_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_dossier_complaints_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_complaints")),
    )
    with op.batch_alter_table("dossier_complaints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossier_complaints_agency_filed", ["agency_code", "filed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_complaints_dossier_id"), ["dossier_id"], unique=False
        )

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossiers_agency_finished", ["agency_code", "finished_at"], unique=False
        )
        batch_op.create_index(
            "ix_dossiers_agency_submitted", ["agency_code", "submitted_at"], unique=False
        )

    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("has_fees", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The fee lines are JSON, whose functions differ by database: read them here instead.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT code, fees FROM procedures")).all()
    charging = [
        code
        for code, fees in rows
        if any(
            line.get("amount", 0) > 0
            for line in (json.loads(fees) if isinstance(fees, str) else fees)
        )
    ]
    if charging:
        connection.execute(
            sa.text("UPDATE procedures SET has_fees = :yes WHERE code = :code"),
            [{"yes": True, "code": code} for code in charging],
        )


def downgrade() -> None:
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.drop_column("has_fees")

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_agency_submitted")
        batch_op.drop_index("ix_dossiers_agency_finished")

    with op.batch_alter_table("dossier_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_complaints_dossier_id"))
        batch_op.drop_index("ix_dossier_complaints_agency_filed")

    op.drop_table("dossier_complaints")
