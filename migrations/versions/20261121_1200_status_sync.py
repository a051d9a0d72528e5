"""Status sync from back offices: the items received, daily counts per agency, and what the
records report on each dossier and event.

Revision ID: 29c19e74fe4b
Revises: db68f19feac3
Create Date: 2026-11-21 06:55:44.491009+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "29c19e74fe4b"
down_revision: str | None = "db68f19feac3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_daily_stats",
        sa.Column("agency_code", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("due_disagreements", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_sync_daily_stats_agency_code_agencies"),
        ),
        sa.PrimaryKeyConstraint("agency_code", "day", name=op.f("pk_sync_daily_stats")),
    )
    op.create_table(
        "sync_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "dossier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agency_code", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=30), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("item_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_sync_items_agency_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_sync_items_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_items")),
        sa.UniqueConstraint(
            "dossier_id", "item_key", name=op.f("uq_sync_items_dossier_id_item_key")
        ),
    )
    with op.batch_alter_table("dossier_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=10), nullable=False, server_default="portal")
        )
        batch_op.add_column(
            sa.Column("applied", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                "sync_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "details",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dossier_events_sync_item_id_sync_items"),
            "sync_items",
            ["sync_item_id"],
            ["id"],
        )

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("processing_agency_code", sa.String(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("claimed_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("record_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("digitised", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("vneid_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("paid_online", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("electronic_result", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dossiers_processing_agency_code_agencies"),
            "agencies",
            ["processing_agency_code"],
            ["code"],
        )


def downgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dossiers_processing_agency_code_agencies"), type_="foreignkey"
        )
        batch_op.drop_column("electronic_result")
        batch_op.drop_column("paid_online")
        batch_op.drop_column("vneid_verified")
        batch_op.drop_column("digitised")
        batch_op.drop_column("synced_at")
        batch_op.drop_column("record_at")
        batch_op.drop_column("claimed_due_at")
        batch_op.drop_column("processing_agency_code")

    with op.batch_alter_table("dossier_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dossier_events_sync_item_id_sync_items"), type_="foreignkey"
        )
        batch_op.drop_column("details")
        batch_op.drop_column("sync_item_id")
        batch_op.drop_column("applied")
        batch_op.drop_column("origin")

    op.drop_table("sync_items")
    op.drop_table("sync_daily_stats")
