"""Log-in (a stand-in for VNeID) and account seeding."""

from __future__ import annotations

from datetime import datetime
from typing import Generic

from app.accounts.errors import InvalidCredentials, InvalidIdentifier, NameRequired
from app.accounts.identifiers import identifier_problem
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.accounts.schemas import AccountOut, LoginIn, TokenOut
from app.accounts.seed import account_rows
from app.core.config import Settings
from app.core.db import SessionT, WriteSession
from app.core.security import issue_token


class AccountService(Generic[SessionT]):
    def __init__(self, repository: AccountRepository[SessionT], settings: Settings) -> None:
        self.repository: AccountRepository[SessionT] = repository
        self.settings = settings

    async def login(
        self: AccountService[WriteSession], request: LoginIn, now: datetime
    ) -> TokenOut:
        """As on the real portal, the first log-in of a valid identifier creates its account."""
        problem = identifier_problem(request.kind, request.identifier)
        if problem:
            raise InvalidIdentifier(problem, field="identifier")
        account = await self.repository.by_identifier(request.identifier)
        created = False
        if account is None:
            if not request.full_name:
                raise NameRequired(
                    "the first log-in creates the account: full_name is required",
                    field="full_name",
                )
            account, created = await self.repository.create_if_absent(
                {
                    "kind": request.kind,
                    "identifier": request.identifier,
                    "full_name": request.full_name,
                    "phone": request.phone,
                    "email": request.email,
                    "created_at": now,
                }
            )
        if account.kind != request.kind:
            raise InvalidIdentifier(
                f"{request.identifier} belongs to a {account.kind} account", field="kind"
            )
        token, expires_at = issue_token(self.settings, account_id=account.id, kind=account.kind)
        return TokenOut(
            access_token=token,
            expires_at=expires_at,
            created=created,
            account=AccountOut.model_validate(account),
        )

    async def account(self, account_id: int) -> Account:
        """The account a token names; tokens outlive nothing, but a database can be reset."""
        account = await self.repository.get(account_id)
        if account is None:
            raise InvalidCredentials("the token's account does not exist")
        return account


async def seed_accounts(
    repository: AccountRepository[WriteSession],
    *,
    start: int,
    stop: int,
    seed: int,
    now: datetime,
) -> None:
    """Insert accounts [start, stop) of the deterministic sequence, skipping existing ones."""
    await repository.bulk_insert_missing(list(account_rows(start, stop, seed=seed, created_at=now)))
