"""A good bearer token's check is kept for the token's lifetime, never past it, never across
secrets, and refusals are never kept."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.core import security
from app.core.config import Settings
from app.core.security import InvalidToken, issue_token, read_token

SECRET = "portalsim-token-checks-secret-of-32-bytes"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens actually decoded (not answered from what was kept)."""
    seen: list[str] = []
    decode = security._decode

    def counting(settings: Settings, token: str) -> dict[str, Any]:
        seen.append(token)
        return decode(settings, token)

    monkeypatch.setattr(security, "_decode", counting)
    return seen


def settings_with(secret: str, minutes: int = 60) -> Settings:
    return Settings(secret_key=secret, token_ttl_minutes=minutes, _env_file=None)


def test_a_good_token_is_decoded_once_while_it_lives(decodes: list[str]) -> None:
    settings = settings_with(SECRET)
    token, _ = issue_token(settings, account_id=41, kind="citizen")

    assert [read_token(settings, token) for _ in range(3)] == [41, 41, 41]
    assert decodes == [token]


def test_a_kept_check_does_not_outlive_the_token(
    decodes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_with(SECRET, minutes=1)
    token, _ = issue_token(settings, account_id=42, kind="citizen")
    read_token(settings, token)
    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)

    read_token(settings, token)

    assert decodes == [token, token]


def test_a_token_kept_under_one_secret_is_refused_under_another(decodes: list[str]) -> None:
    token, _ = issue_token(settings_with(SECRET), account_id=43, kind="citizen")
    read_token(settings_with(SECRET), token)

    with pytest.raises(InvalidToken, match="signature does not match"):
        read_token(settings_with(SECRET + "-rotated"), token)
    assert decodes == [token, token]


def test_a_refusal_is_not_kept(decodes: list[str]) -> None:
    settings = settings_with(SECRET)
    business_only, _ = issue_token(settings, account_id=44, kind="agency")

    for _ in range(2):
        with pytest.raises(InvalidToken, match="not a citizen's"):
            read_token(settings, business_only)
    assert decodes == [business_only, business_only]
