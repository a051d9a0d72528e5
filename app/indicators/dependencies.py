"""Builds the indicator service over the request's read transaction: indicators never write."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.clock import ClockDep
from app.core.db import ReadSessionDep
from app.indicators.repository import IndicatorRepository
from app.indicators.service import IndicatorService


async def _service(session: ReadSessionDep, clock: ClockDep) -> IndicatorService:
    return IndicatorService(IndicatorRepository(session), clock)


IndicatorServiceDep = Annotated[IndicatorService, Depends(_service)]
