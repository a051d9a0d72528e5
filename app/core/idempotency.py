"""The HTTP side of idempotent creation: the `Idempotency-Key` header and how a replay is
answered (200 and `Idempotent-Replayed: true` instead of 201), shared by every POST that
creates something a client may retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response, status

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="same key and same request give back the original; another request gets 409",
    ),
]


def answer_replay(response: Response, created: bool) -> None:
    """Mark a response as the replay of an earlier creation when nothing was created now."""
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
