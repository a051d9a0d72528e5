"""The catalogue's answers, kept in memory.

The catalogue changes only when it is seeded again, and every actor of a load run reads it: a
search, a procedure, the fields. Each answer is kept as the JSON bytes sent, for
CATALOGUE_CACHE_SECONDS, so that a repeated question costs neither a database session nor
validation and serialisation; a re-seed shows after at most that long (0 turns the cache
off). Errors are never kept. The submission's look-up of its procedure and agency is kept the
same way, as the detached rows it read (read-only attributes, no relationships loaded).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from fastapi import Response
from pydantic import TypeAdapter

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core.db import Database, ReadSession

# Distinct questions kept at most: searches are few in practice (the harness draws from a list
# of terms), but a client that pages through everything must not grow the process unbounded.
MAX_ENTRIES = 10_000
JSON = "application/json"
Value = TypeVar("Value")
Compute = Callable[[CatalogueService[ReadSession]], Awaitable[Any]]


class _Kept(Generic[Value]):
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

    def put(self, key: Hashable, value: Value) -> None:
        if self.seconds <= 0:
            return
        self._entries[key] = (time.monotonic() + self.seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class CatalogueCache:
    def __init__(self, database: Database, seconds: float) -> None:
        self.database = database
        self._answers: _Kept[bytes] = _Kept(seconds)
        self._adapters: dict[Any, TypeAdapter[Any]] = {}

    async def answer(self, key: Hashable, shape: Any, compute: Compute) -> Response:
        """The JSON answer to `key`, computed on a read session the first time: `compute`
        returns a value of type `shape` (a response model, or a list of them)."""
        body = self._answers.get(key)
        if body is None:
            async with self.database.read() as session:
                value = await compute(CatalogueService(CatalogueRepository(session)))
            adapter = self._adapters.get(shape)
            if adapter is None:
                adapter = self._adapters[shape] = TypeAdapter(shape)
            body = adapter.dump_json(value)
            self._answers.put(key, body)
        return Response(content=body, media_type=JSON)
