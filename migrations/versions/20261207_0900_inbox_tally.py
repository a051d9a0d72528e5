"""Each agency's inbox total kept by the database: triggers on `dossiers` keep, per receiving
agency, how many online dossiers wait unacknowledged (the inbox's default listing), so that a
back office's inbox poll reads one row for its total where it counted every waiting dossier.

The total changes only when a dossier enters or leaves that listing (an online submission, an
acknowledgement), so a transition or a sync update leaves the agency's row alone, unlocked.
PostgreSQL's triggers are per statement, over transition tables; SQLite's are per row.

SQLite drops a table's triggers when batch mode rebuilds it: a later migration that rebuilds
`dossiers` must create them again (tests/dossiers/test_inbox_tally.py would catch it).

Revision ID: 5e2b7c90d1a4
Revises: 3f6c1d2a9b47
Create Date: 2026-12-07 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2b7c90d1a4"
down_revision: str | None = "3f6c1d2a9b47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONLINE = 2  # KenhThucHien: the inbox lists online dossiers
WAITING = f"channel = {ONLINE} AND acked_at IS NULL"
# Agencies in a fixed order, so that two statements touching several agencies' rows never
# lock them in opposite orders.
ADD = """
    INSERT INTO agency_inbox_tally AS tally (agency_code, waiting)
    SELECT agency_code, sum(delta) FROM (%s) AS moved
    GROUP BY agency_code HAVING sum(delta) <> 0 ORDER BY agency_code
    ON CONFLICT (agency_code) DO UPDATE SET waiting = tally.waiting + excluded.waiting
"""
ENTERED = f"SELECT agency_code, 1 AS delta FROM new_rows WHERE {WAITING}"
LEFT = f"SELECT agency_code, -1 AS delta FROM old_rows WHERE {WAITING}"

POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION agency_inbox_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {ADD % ENTERED}; RETURN NULL; END $$
    """,
    f"""
    CREATE FUNCTION agency_inbox_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {ADD % LEFT}; RETURN NULL; END $$
    """,
    f"""
    CREATE FUNCTION agency_inbox_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {ADD % (LEFT + " UNION ALL " + ENTERED)}; RETURN NULL; END $$
    """,
    """
    CREATE TRIGGER tr_dossiers_inbox_inserted AFTER INSERT ON dossiers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agency_inbox_inserted()
    """,
    """
    CREATE TRIGGER tr_dossiers_inbox_deleted AFTER DELETE ON dossiers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agency_inbox_deleted()
    """,
    """
    CREATE TRIGGER tr_dossiers_inbox_updated AFTER UPDATE ON dossiers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agency_inbox_updated()
    """,
)


def _sqlite_change(row: str, sign: str) -> str:
    waiting = f"{row}.channel = {ONLINE} AND {row}.acked_at IS NULL"
    return (
        f"INSERT OR IGNORE INTO agency_inbox_tally (agency_code, waiting) "
        f"VALUES ({row}.agency_code, 0); "
        f"UPDATE agency_inbox_tally SET waiting = waiting {sign} ({waiting}) "
        f"WHERE agency_code = {row}.agency_code;"
    )


SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER tr_dossiers_inbox_inserted AFTER INSERT ON dossiers
    BEGIN {_sqlite_change("NEW", "+")} END
    """,
    f"""
    CREATE TRIGGER tr_dossiers_inbox_deleted AFTER DELETE ON dossiers
    BEGIN {_sqlite_change("OLD", "-")} END
    """,
    f"""
    CREATE TRIGGER tr_dossiers_inbox_updated AFTER UPDATE OF agency_code, channel, acked_at
    ON dossiers
    WHEN OLD.agency_code <> NEW.agency_code
        OR (OLD.channel = {ONLINE} AND OLD.acked_at IS NULL)
        <> (NEW.channel = {ONLINE} AND NEW.acked_at IS NULL)
    BEGIN {_sqlite_change("OLD", "-")} {_sqlite_change("NEW", "+")} END
    """,
)
TRIGGERS = ("tr_dossiers_inbox_inserted", "tr_dossiers_inbox_deleted", "tr_dossiers_inbox_updated")
FUNCTIONS = ("agency_inbox_inserted", "agency_inbox_deleted", "agency_inbox_updated")


def upgrade() -> None:
    op.create_table(
        "agency_inbox_tally",
        sa.Column("agency_code", sa.String(length=20), nullable=False),
        sa.Column("waiting", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("agency_code", name=op.f("pk_agency_inbox_tally")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # No write may fall between the count below and the triggers' first change.
        op.execute("LOCK TABLE dossiers IN SHARE MODE")
    op.execute(
        "INSERT INTO agency_inbox_tally (agency_code, waiting) "
        f"SELECT agency_code, count(*) FROM dossiers WHERE {WAITING} GROUP BY agency_code"
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
    op.drop_table("agency_inbox_tally")
