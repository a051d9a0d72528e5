"""Who is calling: the citizen or business behind a bearer token.

The signed token is trusted without a database read (accounts are never deleted), so
authentication costs no query on the hot paths of a load run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.accounts.errors import InvalidCredentials, NotAuthenticated
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.accounts.service import AccountService
from app.core.dependencies import SessionDep, SettingsDep
from app.core.security import InvalidToken, read_token

_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/citizen-login")


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: int


async def _current_account(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("a bearer token is required: log in at /api/v1/auth/citizen-login")
    try:
        return Principal(account_id=read_token(settings, credentials.credentials))
    except InvalidToken as exc:
        raise InvalidCredentials(str(exc)) from exc


CurrentAccount = Annotated[Principal, Depends(_current_account)]


async def _current_account_record(
    principal: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> Account:
    """The caller's account row, read in the request's own (write) transaction."""
    return await AccountService(AccountRepository(session), settings).account(principal.account_id)


CurrentAccountRecord = Annotated[Account, Depends(_current_account_record)]
