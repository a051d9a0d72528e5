"""All SQL of accounts, including the bulk loader for national-scale seeding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic

from sqlalchemy import func, select, text

from app.accounts.models import Account
from app.core.db import SessionT, WriteSession
from app.core.upsert import dialect_insert

ACCOUNT_COLUMNS = ("kind", "identifier", "full_name", "phone", "email", "created_at")


class AccountRepository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session: SessionT = session

    async def get(self, account_id: int) -> Account | None:
        return await self.session.get(Account, account_id)

    async def by_identifier(self, identifier: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.identifier == identifier))

    async def create_if_absent(
        self: AccountRepository[WriteSession], values: dict[str, Any]
    ) -> tuple[Account, bool]:
        """Insert the account unless one with that identifier exists (two first log-ins racing
        must give one account); return the stored row and whether this call inserted it."""
        statement = dialect_insert(self.session, Account).values(values)
        result = await self.session.execute(
            statement.on_conflict_do_nothing(index_elements=["identifier"])
        )
        account = await self.by_identifier(values["identifier"])
        assert account is not None
        return account, result.rowcount == 1  # type: ignore[attr-defined]

    async def ensure(
        self: AccountRepository[WriteSession], rows: list[dict[str, Any]]
    ) -> dict[str, int]:
        """Create the accounts that do not exist yet (first seen in a back office's sync) and
        return the id of every identifier given."""
        if not rows:
            return {}
        statement = dialect_insert(self.session, Account).values(rows)
        await self.session.execute(statement.on_conflict_do_nothing(index_elements=["identifier"]))
        identifiers = {row["identifier"] for row in rows}
        found = await self.session.execute(
            select(Account.identifier, Account.id).where(Account.identifier.in_(identifiers))
        )
        return dict(found.all())

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Account)) or 0

    async def bulk_insert_missing(
        self: AccountRepository[WriteSession], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert rows of ACCOUNT_COLUMNS, skipping identifiers already present.

        PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO
        NOTHING, which is an order of magnitude faster than multi-row INSERTs at millions of rows.
        SQLite: one executemany of INSERT OR IGNORE.
        """
        if not rows:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            await self._copy_missing(rows)
            return
        statement = dialect_insert(self.session, Account).on_conflict_do_nothing(
            index_elements=["identifier"]
        )
        await self.session.execute(
            statement, [dict(zip(ACCOUNT_COLUMNS, row, strict=True)) for row in rows]
        )

    async def _copy_missing(
        self: AccountRepository[WriteSession], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        connection = await self.session.connection()
        # Through SQLAlchemy first, so that the transaction is open before the driver-level COPY
        # (on a connection outside a transaction, ON COMMIT DELETE ROWS would empty the staging
        # table right after the COPY). Explicit columns rather than LIKE accounts: copying the
        # id default would burn sequence values.
        await connection.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS accounts_staging (kind varchar(10), "
                "identifier varchar(14), full_name varchar(200), phone varchar(20), "
                "email varchar(200), created_at timestamptz) ON COMMIT DELETE ROWS"
            )
        )
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table("accounts_staging", records=rows, columns=ACCOUNT_COLUMNS)
        columns = ", ".join(ACCOUNT_COLUMNS)
        await connection.execute(
            text(
                f"INSERT INTO accounts ({columns}) SELECT {columns} FROM accounts_staging "
                "ON CONFLICT (identifier) DO NOTHING"
            )
        )
        await connection.execute(text("TRUNCATE accounts_staging"))
