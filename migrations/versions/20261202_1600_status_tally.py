"""The dossiers-by-status gauge kept by the database: triggers on `dossiers` append each change
of a status's count to `dossier_status_moves`; a /metrics scrape folds them into
`dossier_status_tally`. A scrape then costs what changed since the last one, where it ran a
`GROUP BY status` over every dossier (seconds at ten million).

PostgreSQL's triggers are per statement, over transition tables, so a batch (a sync call's 500
updates, a bulk load) appends one row per status it touched. SQLite's are per row.

SQLite drops a table's triggers when batch mode rebuilds it: a later migration that rebuilds
`dossiers` must create them again (tests/dossiers/test_status_gauge.py would catch it).

Revision ID: 3f6c1d2a9b47
Revises: 75b5d37912a0
Create Date: 2026-12-02 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6c1d2a9b47"
down_revision: str | None = "75b5d37912a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOVE = "INSERT INTO dossier_status_moves (status, delta)"

POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION dossier_status_moves_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {MOVE} SELECT status, count(*) FROM new_rows GROUP BY status;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION dossier_status_moves_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {MOVE} SELECT status, -count(*) FROM old_rows GROUP BY status;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION dossier_status_moves_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {MOVE}
        SELECT status, sum(delta) FROM (
            SELECT o.status, -1 AS delta FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.status <> n.status
            UNION ALL
            SELECT n.status, 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.status <> n.status
        ) AS moved
        GROUP BY status HAVING sum(delta) <> 0;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_dossiers_status_inserted AFTER INSERT ON dossiers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dossier_status_moves_inserted()
    """,
    """
    CREATE TRIGGER tr_dossiers_status_deleted AFTER DELETE ON dossiers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dossier_status_moves_deleted()
    """,
    """
    CREATE TRIGGER tr_dossiers_status_updated AFTER UPDATE ON dossiers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dossier_status_moves_updated()
    """,
)
SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER tr_dossiers_status_inserted AFTER INSERT ON dossiers
    BEGIN {MOVE} VALUES (NEW.status, 1); END
    """,
    f"""
    CREATE TRIGGER tr_dossiers_status_deleted AFTER DELETE ON dossiers
    BEGIN {MOVE} VALUES (OLD.status, -1); END
    """,
    f"""
    CREATE TRIGGER tr_dossiers_status_updated AFTER UPDATE OF status ON dossiers
    WHEN OLD.status <> NEW.status
    BEGIN {MOVE} VALUES (OLD.status, -1); {MOVE} VALUES (NEW.status, 1); END
    """,
)
TRIGGERS = (
    "tr_dossiers_status_inserted",
    "tr_dossiers_status_deleted",
    "tr_dossiers_status_updated",
)
FUNCTIONS = (
    "dossier_status_moves_inserted",
    "dossier_status_moves_deleted",
    "dossier_status_moves_updated",
)


def upgrade() -> None:
    op.create_table(
        "dossier_status_moves",
        sa.Column("id", ID, nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_status_moves")),
    )
    op.create_table(
        "dossier_status_tally",
        sa.Column("status", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("dossiers", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", name=op.f("pk_dossier_status_tally")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # No write may fall between the count below and the triggers' first move.
        op.execute("LOCK TABLE dossiers IN SHARE MODE")
    op.execute(
        "INSERT INTO dossier_status_tally (status, dossiers) "
        "SELECT status, count(*) FROM dossiers GROUP BY status"
    )
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}" + (" ON dossiers" if postgresql else ""))
    if postgresql:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("dossier_status_tally")
    op.drop_table("dossier_status_moves")
