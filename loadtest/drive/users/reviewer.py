"""The reviewer: reads what reviewers read while a run goes on: the sync statistics behind
indicator 1.4, the portal's metrics and its clock, the national Decision 766 indicators of the
current quarter and the provinces' ranking."""

from __future__ import annotations

from pydantic import TypeAdapter

from app.core.ops import ClockOut
from app.indicators.schemas import IndicatorsOut, RankingOut
from app.sync.endpoints import DailyStatOut
from loadtest.drive.engine import Task
from loadtest.drive.users.base import ActorUser

STATS = TypeAdapter(list[DailyStatOut])


class Reviewer(ActorUser):
    actor = "reviewer"

    def on_read(self, current: Task) -> None:  # noqa: ARG002 - every read is the same
        self.call(
            "GET /api/v1/sync/stats",
            "/api/v1/sync/stats",
            check=lambda body: None if STATS.validate_python(body) is not None else "invalid",
        )
        self.call(
            "GET /metrics",
            "/metrics",
            check=lambda text: None if "portalsim_dossiers" in str(text) else "no dossier gauge",
        )
        self.call("GET /api/v1/clock", "/api/v1/clock", schema=ClockOut)
        self.call(
            "GET /api/v1/indicators",
            "/api/v1/indicators",
            schema=IndicatorsOut,
        )
        self.call(
            "GET /api/v1/indicators/ranking",
            "/api/v1/indicators/ranking",
            schema=RankingOut,
        )
