"""Errors of the sync contract, answered in its own shape rather than the portal's."""

from __future__ import annotations

from typing import Any

from app.core.errors import DomainError
from app.sync.contract import SyncCode


class SyncRefused(DomainError):
    """A refused call, answered in the contract's own shape `{error_code, message}`."""

    def __init__(self, sync_code: SyncCode, message: str, status_code: int) -> None:
        super().__init__(message)
        self.sync_code = sync_code
        self.status_code = status_code

    def body(self) -> dict[str, Any]:
        return {"error_code": int(self.sync_code), "message": self.detail}
