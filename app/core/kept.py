"""A bounded map whose entries expire, for what changes rarely and is read on every request."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from starlette.types import Scope

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


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    route: Any  # the route that answered (the metrics' label)
    body: bytes  # its JSON


class KeptAnswers:
    """Answers to GET requests kept by the request as it came (path and query string), for
    routes whose answer depends on nothing else: the layer in front of the router
    (core/edge.py) sends a kept answer without routing, validating or reading anything. A
    route keeps only its successful answers, so a request found here is one the route took."""

    def __init__(self, seconds: float) -> None:
        self._kept: Kept[KeptAnswer] = Kept(seconds)

    def find(self, scope: Scope) -> KeptAnswer | None:
        if scope["method"] != "GET":
            return None
        return self._kept.get((scope["path"], scope["query_string"]))

    def keep(self, scope: Scope, body: bytes) -> None:
        if scope["method"] == "GET":
            answer = KeptAnswer(scope.get("route"), body)
            self._kept.put((scope["path"], scope["query_string"]), answer)
