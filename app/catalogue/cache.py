"""The catalogue's answers, kept in memory.

The catalogue changes only when it is seeded again, and every actor of a load run reads it: a
search, a procedure, the fields. Each answer is kept as the JSON bytes sent, for
CATALOGUE_CACHE_SECONDS, so that a repeated question costs neither a database session nor
validation and serialisation; a re-seed shows after at most that long (0 turns the cache
off). Errors are never kept. The submission's look-up of its procedure and agency is kept the
same way, as plain values (`Reception`): never rows, which the session that read them expires
when its transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService, Reception
from app.core.db import Database, ReadSession
from app.core.kept import Kept, KeptAnswers

JSON = "application/json"
Compute = Callable[[CatalogueService[ReadSession]], Awaitable[Any]]


class CatalogueCache:
    """`front`: the same answers by request as it came, which the layer in front of the router
    sends without routing (core/edge.py)."""

    def __init__(
        self, database: Database, seconds: float, front: KeptAnswers | None = None
    ) -> None:
        self.database = database
        self.front = front
        self._answers: Kept[bytes] = Kept(seconds)
        # A submission's procedure and receiving agency (CatalogueService.receiving_agency).
        self.pairs: Kept[Reception] = Kept(seconds)
        self._adapters: dict[Any, TypeAdapter[Any]] = {}

    async def answer(
        self, request: Request, key: Hashable, shape: Any, compute: Compute
    ) -> Response:
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
        if self.front is not None:
            self.front.keep(request.scope, body)
        return Response(content=body, media_type=JSON)
