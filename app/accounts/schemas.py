from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.accounts.identifiers import AccountKind
from app.core.schemas import InputModel
from app.core.types import LocalDateTime


class LoginIn(InputModel):
    """Stands in for VNeID: the identity provider is trusted, so no password is asked."""

    identifier: str = Field(description="12-digit personal identification number, or tax code")
    kind: AccountKind = AccountKind.CITIZEN
    full_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="required on the first log-in"
    )
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{9,15}$")
    email: EmailStr | None = Field(default=None, max_length=200)


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AccountKind
    identifier: str
    full_name: str
    phone: str | None
    email: str | None
    created_at: LocalDateTime


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: LocalDateTime
    created: bool = Field(description="true when this log-in created the account")
    account: AccountOut
