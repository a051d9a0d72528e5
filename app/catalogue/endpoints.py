from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.catalogue.dependencies import CatalogueCacheDep
from app.catalogue.schemas import AgencyOut, FieldOut, ProcedureOut, ProvinceOut
from app.core.openapi import errors
from app.core.pagination import Page, PageDep
from app.services import CatalogueServiceDep

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


@router.get("/procedures", response_model=Page[ProcedureOut], summary="Search the procedures")
async def list_procedures(
    request: Request,
    cache: CatalogueCacheDep,
    page: PageDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="a part of the name or code, matched as written (diacritics optional)",
        ),
    ] = None,
    field: Annotated[str | None, Query(max_length=50, description="field code")] = None,
    agency_level: Literal["central", "province", "commune"] | None = None,
    online_level: Literal["full", "partial"] | None = None,
) -> Response:
    return await cache.answer(
        request,
        ("search", q, field, agency_level, online_level, page.page, page.size),
        Page[ProcedureOut],
        lambda catalogue: catalogue.search(
            query=q,
            field_code=field,
            agency_level=agency_level,
            online_level=online_level,
            page=page,
        ),
    )


@router.get("/procedures/{code}", response_model=ProcedureOut, summary="One procedure")
async def get_procedure(code: str, request: Request, cache: CatalogueCacheDep) -> Response:
    return await cache.answer(
        request, ("procedure", code), ProcedureOut, lambda catalogue: catalogue.procedure(code)
    )


@router.get("/fields", response_model=list[FieldOut], summary="The fields (lĩnh vực)")
async def list_fields(request: Request, cache: CatalogueCacheDep) -> Response:
    return await cache.answer(
        request, ("fields",), list[FieldOut], lambda catalogue: catalogue.fields()
    )


@router.get("/provinces", response_model=list[ProvinceOut], summary="The 34 provinces")
async def list_provinces(request: Request, cache: CatalogueCacheDep) -> Response:
    return await cache.answer(
        request, ("provinces",), list[ProvinceOut], lambda catalogue: catalogue.provinces()
    )


@router.get(
    "/agencies",
    response_model=Page[AgencyOut],
    summary="The agencies",
    responses=errors(404),  # an unknown `procedure` filter
)
async def list_agencies(
    catalogue: CatalogueServiceDep,
    page: PageDep,
    level: Literal["central", "province", "commune"] | None = None,
    province: Annotated[int | None, Query(ge=1, le=999, description="province code")] = None,
    procedure: Annotated[
        str | None,
        Query(
            max_length=20,
            description="only agencies that receive this procedure (its level replaces `level`)",
        ),
    ] = None,
) -> Page[AgencyOut]:
    return await catalogue.agencies(
        level=level, province_code=province, procedure_code=procedure, page=page
    )
