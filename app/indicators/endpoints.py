"""HTTP for the indicators: the JSON API (public, as the national dashboard is) and the
reviewers' dashboard pages, rendered on the server from the same service."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from app.core.openapi import errors
from app.core.pagination import PageDep
from app.indicators.dashboard import render_dashboard
from app.indicators.repository import ScopeKind
from app.indicators.schemas import IndicatorsOut, RankingOut, SeriesPoint
from app.indicators.service import FIRST_DAY, LAST_DAY, Step
from app.services import IndicatorServiceDep

router = APIRouter(prefix="/api/v1/indicators", tags=["indicators (Decision 766)"])
dashboard_router = APIRouter(prefix="/dashboard", include_in_schema=False)

DAYS = f"between {FIRST_DAY} and {LAST_DAY}"
From = Annotated[
    date | None,
    Query(
        alias="from", description=f"first day (YYYY-MM-DD, {DAYS}); default: the quarter's first"
    ),
]
To = Annotated[
    date | None, Query(alias="to", description=f"last day, included ({DAYS}); default: today")
]
Code = Annotated[
    str | None,
    Query(max_length=20, description="the province's number or the agency's code"),
]
StepQuery = Annotated[Step, Query(description="the series' step")]


@router.get(
    "",
    response_model=IndicatorsOut,
    summary="The indicators of a scope over a period",
    responses=errors(404),  # a province or agency that does not exist
)
async def indicators(
    service: IndicatorServiceDep,
    scope: Annotated[ScopeKind, Query()] = ScopeKind.NATIONAL,
    code: Code = None,
    first: From = None,
    last: To = None,
) -> IndicatorsOut:
    """Decision 766/QĐ-TTg: each indicator with its numerator, denominator, value and score,
    the groups' scores and the total, computed from the portal's own records. A dossier
    counts in the period in which it was received or finished, as each formula says; open
    dossiers are judged at the period's end, or now if that is earlier."""
    return await service.indicators(scope, code, first, last)


@router.get(
    "/ranking",
    response_model=RankingOut,
    summary="Provinces, or a province's agencies",
    responses=errors(404),
)
async def ranking(
    service: IndicatorServiceDep,
    page: PageDep,
    scope: Annotated[ScopeKind, Query(description="province or agency")] = ScopeKind.PROVINCE,
    code: Code = None,
    first: From = None,
    last: To = None,
) -> RankingOut:
    """scope=province ranks every province; scope=agency&code=N ranks province N's agencies.
    Best total first."""
    return await service.ranking(scope, code, first, last, page)


@router.get(
    "/series",
    response_model=list[SeriesPoint],
    summary="Shares over the period",
    responses=errors(404),
)
async def series(
    service: IndicatorServiceDep,
    scope: Annotated[ScopeKind, Query()] = ScopeKind.NATIONAL,
    code: Code = None,
    first: From = None,
    last: To = None,
    step: StepQuery = "day",
) -> list[SeriesPoint]:
    """The online share of dossiers received and the on-time share of dossiers finished, per
    day or per week (from Monday) of the period."""
    resolved, _ = await service.scope(scope, code)
    return await service.series(resolved, service.period(first, last), step)


async def _page(
    service: IndicatorServiceDep,
    scope: ScopeKind,
    code: str | None,
    first: date | None,
    last: date | None,
    step: Step,
) -> HTMLResponse:
    card, points, ranked = await service.dashboard(scope, code, first, last, step)
    return HTMLResponse(render_dashboard(card, points, ranked, step))


@dashboard_router.get("", response_class=HTMLResponse)
async def national_dashboard(
    service: IndicatorServiceDep, first: From = None, last: To = None, step: StepQuery = "week"
) -> HTMLResponse:
    return await _page(service, ScopeKind.NATIONAL, None, first, last, step)


# The scope's page: /dashboard/provinces/{number} or /dashboard/agencies/{code}.
DASHBOARD_SCOPES = {"provinces": ScopeKind.PROVINCE, "agencies": ScopeKind.AGENCY}


@dashboard_router.get("/{kind}/{code}", response_class=HTMLResponse)
async def scope_dashboard(
    kind: Literal["provinces", "agencies"],
    code: str,
    service: IndicatorServiceDep,
    first: From = None,
    last: To = None,
    step: StepQuery = "week",
) -> HTMLResponse:
    return await _page(service, DASHBOARD_SCOPES[kind], code, first, last, step)
