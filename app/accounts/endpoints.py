from __future__ import annotations

from fastapi import APIRouter

from app.accounts.dependencies import CurrentAccount
from app.accounts.repository import AccountRepository
from app.accounts.schemas import AccountOut, LoginIn, TokenOut
from app.accounts.service import AccountService
from app.core.dependencies import ClockDep, ReadSessionDep, SessionDep, SettingsDep
from app.core.openapi import json_examples

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/auth/citizen-login",
    response_model=TokenOut,
    summary="Log in as a citizen or a business",
    openapi_extra=json_examples(
        first=(
            "a first log-in: the name opens the account",
            {"identifier": "001090000123", "full_name": "Nguyễn Văn An"},
        ),
        business=("a business, by its tax code", {"identifier": "0101234567", "kind": "business"}),
    ),
)
async def citizen_login(
    body: LoginIn, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> TokenOut:
    """Log in with a personal identification number (or a business's tax code); stands in for
    VNeID. The first log-in of a valid identifier creates the account."""
    return await AccountService(AccountRepository(session), settings).login(body, clock.now())


@router.get("/me", response_model=AccountOut, summary="The logged-in account")
async def me(
    principal: CurrentAccount, session: ReadSessionDep, settings: SettingsDep
) -> AccountOut:
    account = await AccountService(AccountRepository(session), settings).account(
        principal.account_id
    )
    return AccountOut.model_validate(account)
