"""The base of every request body: unknown fields refused, and no text that a database cannot
store: NUL (U+0000), which PostgreSQL refuses in text and jsonb while SQLite stores it silently,
and lone surrogates (JSON allows "\\ud800"), which are not Unicode text at all. Refusing them at
the edge gives both databases the same clear 422 instead of a 500.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

NUL = "\x00"
UNSTORABLE = "NUL characters (U+0000) and lone surrogates are not allowed"


def _storable(text: str) -> bool:
    if NUL in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_unstorable_text(value: Any) -> bool:
    """Whether any string in `value`, dict keys included, cannot be stored. A walk with its
    own stack, not recursion: nesting costs memory here, never Python's recursion limit."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not _storable(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def reject_unstorable(value: str) -> str:
    if not _storable(value):
        raise ValueError(UNSTORABLE)
    return value


class StorableModel(BaseModel):
    """Refuses input with text that no database here can store."""

    @model_validator(mode="before")
    @classmethod
    def _storable_text_only(cls, data: Any) -> Any:
        if has_unstorable_text(data):
            raise ValueError(UNSTORABLE)
        return data


class InputModel(StorableModel):
    model_config = ConfigDict(extra="forbid")
