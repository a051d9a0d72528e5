"""How the harness acts as each agency: its back-office key and its sync account, derived from
the portal's shared SECRET_KEY exactly as the portal derives them (no key table to read)."""

from __future__ import annotations

from app.core.config import Settings
from app.core.security import agency_key, sync_credentials


def agency_headers(settings: Settings, agency: str) -> dict[str, str]:
    return {"X-Agency-Key": agency_key(settings, agency)}


def sync_login_body(settings: Settings, agency: str) -> dict[str, str]:
    username, password = sync_credentials(settings, agency)
    return {"username": username, "password": password}
