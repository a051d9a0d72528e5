"""The base of every request body: unknown fields refused, and no NUL characters anywhere.

PostgreSQL cannot store U+0000 in text or jsonb and would fail the request with a 500; SQLite
would store it silently. Refusing it at the edge gives both databases the same clear 422.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

NUL = "\x00"


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def reject_nul(value: str) -> str:
    if NUL in value:
        raise ValueError("NUL characters (U+0000) are not allowed")
    return value


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if contains_nul(data):
            raise ValueError("NUL characters (U+0000) are not allowed")
        return data
