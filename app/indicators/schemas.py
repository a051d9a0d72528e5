"""The indicators' HTTP shapes (GET /api/v1/indicators and its ranking)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from app.core.types import LocalDateTime
from app.indicators.config import Basis
from app.indicators.repository import ScopeKind


class PeriodOut(BaseModel):
    from_: date = Field(serialization_alias="from", validation_alias="from")
    to: date


class IndicatorOut(BaseModel):
    id: str = Field(description="the decision's numbering, e.g. 2.1")
    group: str
    name: str = Field(description="the decision's name of the indicator")
    basis: Basis = Field(description="which dossiers of the period it counts")
    unit: str = Field(description="share (0 to 1) or hours")
    numerator: float | None
    denominator: float | None
    value: float | None = Field(description="null when the denominator is 0: see reason")
    score: float | None
    max_score: float
    threshold: float | None = Field(
        description="the share at which the score is full (for 2.2: the average hours allowed)"
    )
    reason: str | None = None
    parts: dict[str, float] = Field(default_factory=dict, description="5.4's two shares")


class GroupOut(BaseModel):
    id: str
    name: str
    weight: float = Field(description="the group's weight in the decision's 100 points")
    score: float
    max_score: float = Field(description="the maxima of its indicators that could be computed")


class IndicatorsOut(BaseModel):
    scope: ScopeKind
    code: str | None
    name: str
    period: PeriodOut
    indicators: list[IndicatorOut]
    groups: list[GroupOut]
    total_score: float
    max_score: float
    computed_at: LocalDateTime


class RankingEntry(BaseModel):
    rank: int
    code: str
    name: str
    total_score: float
    max_score: float
    groups: dict[str, float] = Field(description="each group's score, by group id")
    received: int = Field(description="dossiers received in the period")


class RankingOut(BaseModel):
    scope: ScopeKind = Field(description="province: every province; agency: a province's agencies")
    code: str | None
    period: PeriodOut
    items: list[RankingEntry]
    total: int
    page: int
    size: int
    computed_at: LocalDateTime


class SeriesPoint(BaseModel):
    start: date = Field(description="the step's first day")
    received: int = Field(description="dossiers received (submitted) in the step")
    received_online: int
    online_share: float | None
    finished: int = Field(description="dossiers with a due date whose processing ended in it")
    finished_on_time: int
    on_time_share: float | None
