from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.catalogue.repository import CatalogueRepository
from app.catalogue.schemas import AgencyOut, FieldOut, ProcedureOut, ProvinceOut
from app.catalogue.service import CatalogueService
from app.core.db import ReadSessionDep
from app.core.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


@router.get("/procedures", response_model=Page[ProcedureOut])
async def list_procedures(
    session: ReadSessionDep,
    page: PageDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="words of the name or code; diacritics optional"),
    ] = None,
    field: Annotated[str | None, Query(max_length=50, description="field code")] = None,
    agency_level: Literal["central", "province", "commune"] | None = None,
    online_level: Literal["full", "partial"] | None = None,
) -> Page[ProcedureOut]:
    return await CatalogueService(CatalogueRepository(session)).search(
        query=q, field_code=field, agency_level=agency_level, online_level=online_level, page=page
    )


@router.get("/procedures/{code}", response_model=ProcedureOut)
async def get_procedure(code: str, session: ReadSessionDep) -> ProcedureOut:
    service = CatalogueService(CatalogueRepository(session))
    return await service.procedure_out(await service.get_procedure(code))


@router.get("/fields", response_model=list[FieldOut])
async def list_fields(session: ReadSessionDep) -> list[FieldOut]:
    return await CatalogueService(CatalogueRepository(session)).fields()


@router.get("/provinces", response_model=list[ProvinceOut])
async def list_provinces(session: ReadSessionDep) -> list[ProvinceOut]:
    return await CatalogueService(CatalogueRepository(session)).provinces()


@router.get("/agencies", response_model=Page[AgencyOut])
async def list_agencies(
    session: ReadSessionDep,
    page: PageDep,
    level: Literal["central", "province", "commune"] | None = None,
    province: Annotated[int | None, Query(ge=1, le=999, description="province code")] = None,
    procedure: Annotated[
        str | None, Query(max_length=20, description="only agencies that receive this procedure")
    ] = None,
) -> Page[AgencyOut]:
    return await CatalogueService(CatalogueRepository(session)).agencies(
        level=level, province_code=province, procedure_code=procedure, page=page
    )
