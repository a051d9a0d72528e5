"""Answers whose JSON is already bytes: FastAPI sends a returned Response as it is, without
validating it against the route's response_model again (which stays the published schema)."""

from __future__ import annotations

from starlette.responses import Response


class JSONBytesResponse(Response):
    media_type = "application/json"
