"""Operations endpoints: liveness, readiness, metrics, and the virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import text

from app.core.dependencies import ClockDep, get_database
from app.core.metrics import Metrics
from app.core.migrations import current_revision, head_revision
from app.core.types import LocalDateTime

router = APIRouter(tags=["operations"])


class ClockOut(BaseModel):
    mode: str
    now: LocalDateTime
    now_utc: datetime
    speed: float


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses={503: {"description": "not ready"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the head revision; `database` names
    its kind (a load run compares itself with the knee measured on the same kind)."""
    checks: dict[str, str] = {}
    engine = get_database(request).read_engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            revision, head = await current_revision(connection), head_revision()
            checks["schema"] = "ok" if revision == head else f"at {revision}, head is {head}"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values()) and "schema" in checks
    return JSONResponse(
        {
            "status": "ready" if ready else "not_ready",
            "checks": checks,
            "database": engine.dialect.name,
        },
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    body = await registry.render(get_database(request))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/v1/clock", response_model=ClockOut, tags=["operations"], summary="The portal's clock"
)
async def clock(clock: ClockDep) -> ClockOut:
    """The portal's clock: real time, or accelerated virtual time during load runs."""
    now = clock.now()
    return ClockOut(mode=clock.mode, now=now, now_utc=now.astimezone(UTC), speed=clock.speed)
