"""Who is calling: the citizen or business behind a bearer token.

The signed token is trusted without a database read (accounts are never deleted), so
authentication costs no query on the hot paths of a load run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from app.accounts.errors import InvalidCredentials, NotAuthenticated
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.accounts.service import AccountService
from app.core.config import Settings
from app.core.dependencies import SessionDep, SettingsDep
from app.core.security import InvalidToken, read_token


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: int


class _CitizenBearer(HTTPBearer):
    """The bearer scheme and the token's check in one dependency: FastAPI solves each
    dependency of a route separately, and a graph of them (the scheme, the settings, the
    check) cost more than a cached token's check."""

    # Answers the principal where the parent answers the credentials: hence the override.
    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise NotAuthenticated(
                "a bearer token is required: log in at /api/v1/auth/citizen-login"
            )
        settings: Settings = request.app.state.settings
        try:
            return Principal(account_id=read_token(settings, credentials.credentials))
        except InvalidToken as exc:
            raise InvalidCredentials(str(exc)) from exc


# Named as FastAPI names a plain HTTPBearer, so the published security scheme stays the same.
_current_account = _CitizenBearer(
    scheme_name="HTTPBearer",
    auto_error=False,
    description="token from POST /api/v1/auth/citizen-login",
)


CurrentAccount = Annotated[Principal, Depends(_current_account)]


async def _current_account_record(
    principal: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> Account:
    """The caller's account row, read in the request's own (write) transaction."""
    return await AccountService(AccountRepository(session), settings).account(principal.account_id)


CurrentAccountRecord = Annotated[Account, Depends(_current_account_record)]
