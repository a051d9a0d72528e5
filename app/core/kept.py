"""A bounded map whose entries expire, for what changes rarely and is read on every request."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

# Entries kept at most: the questions a load run asks are few (the harness draws from lists),
# but a client that pages through everything must not grow the process unbounded.
MAX_ENTRIES = 10_000
Value = TypeVar("Value")


class Kept(Generic[Value]):
    """A bounded map whose entries expire: the oldest goes first when it is full."""

    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Value]] = OrderedDict()

    def get(self, key: Hashable) -> Value | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: Value, seconds: float | None = None) -> None:
        """Keep `value` for `seconds` (the map's own by default)."""
        seconds = self.seconds if seconds is None else seconds
        if seconds <= 0:
            return
        self._entries[key] = (time.monotonic() + seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
