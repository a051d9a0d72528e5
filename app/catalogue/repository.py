"""All SQL of the catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic

from sqlalchemy import Select, bindparam, func, select

from app.catalogue.models import Agency, AgencyField, Procedure, ProcedureField, Province
from app.core.db import SessionT, WriteSession
from app.core.repository import fetch_page
from app.core.upsert import upsert

# Built once: a submission's look-up (see DossierRepository's).
_AGENCY_FOR_FIELD = (
    select(Agency, AgencyField.field_code)
    .outerjoin(
        AgencyField,
        (AgencyField.agency_code == Agency.code) & (AgencyField.field_code == bindparam("field")),
    )
    .where(Agency.code == bindparam("code"))
)


class CatalogueRepository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session: SessionT = session

    async def get_procedure(self, code: str) -> Procedure | None:
        return await self.session.get(Procedure, code)

    async def procedure_with_field_name(self, code: str) -> tuple[Procedure, str] | None:
        statement = _with_field_name(select(Procedure)).where(Procedure.code == code)
        row = (await self.session.execute(statement)).one_or_none()
        return (row[0], row[1]) if row else None

    async def agency_for_field(self, code: str, field_code: str) -> tuple[Agency, bool] | None:
        """The agency, and whether it receives procedures of that field."""
        found = await self.session.execute(_AGENCY_FOR_FIELD, {"code": code, "field": field_code})
        row = found.one_or_none()
        return (row[0], row[1] is not None) if row else None

    async def procedures_by_code(self, codes: Iterable[str]) -> dict[str, Procedure]:
        statement = select(Procedure).where(Procedure.code.in_(set(codes)))
        return {p.code: p for p in await self.session.scalars(statement)}

    async def existing_agencies(self, codes: Iterable[str]) -> set[str]:
        statement = select(Agency.code).where(Agency.code.in_(set(codes)))
        return set(await self.session.scalars(statement))

    async def get_procedure_count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Procedure)) or 0

    async def fields_with_counts(self) -> list[tuple[str, str, int]]:
        statement = (
            select(ProcedureField.code, ProcedureField.name, func.count(Procedure.code))
            .outerjoin(Procedure, Procedure.field_code == ProcedureField.code)
            .group_by(ProcedureField.code, ProcedureField.name)
            .order_by(ProcedureField.code)
        )
        return [(code, name, count) for code, name, count in await self.session.execute(statement)]

    async def search_procedures(
        self,
        *,
        folded_query: str | None,
        field_code: str | None,
        agency_level: str | None,
        online_level: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[tuple[Procedure, str]], int]:
        """Matching procedures, each with its field's name, ordered by code."""
        statement = _with_field_name(select(Procedure))
        if folded_query:
            statement = statement.where(
                Procedure.search_text.contains(folded_query, autoescape=True)
            )
        if field_code:
            statement = statement.where(Procedure.field_code == field_code)
        if agency_level:
            statement = statement.where(Procedure.agency_level == agency_level)
        if online_level:
            statement = statement.where(Procedure.online_level == online_level)
        rows, total = await fetch_page(
            self.session, statement.order_by(Procedure.code), offset=offset, limit=limit
        )
        return [(row[0], row[1]) for row in rows], total

    async def list_agencies(
        self,
        *,
        level: str | None,
        province_code: int | None,
        field_code: str | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Agency], int]:
        statement = _agencies(level, province_code, field_code)
        rows, total = await fetch_page(self.session, statement, offset=offset, limit=limit)
        return [row[0] for row in rows], total

    async def fields_of(self, agency_codes: Sequence[str]) -> dict[str, list[str]]:
        statement = (
            select(AgencyField.agency_code, AgencyField.field_code)
            .where(AgencyField.agency_code.in_(agency_codes))
            .order_by(AgencyField.agency_code, AgencyField.field_code)
        )
        fields: dict[str, list[str]] = {code: [] for code in agency_codes}
        for agency_code, field_code in await self.session.execute(statement):
            fields[agency_code].append(field_code)
        return fields

    async def all_agencies(
        self, *, level: str | None = None, province_code: int | None = None
    ) -> Sequence[Agency]:
        return (await self.session.scalars(_agencies(level, province_code, None))).all()

    async def list_provinces(self) -> Sequence[Province]:
        return (await self.session.scalars(select(Province).order_by(Province.code))).all()

    async def upsert_catalogue(
        self: CatalogueRepository[WriteSession],
        *,
        provinces: list[dict[str, Any]],
        fields: list[dict[str, Any]],
        agencies: list[dict[str, Any]],
        agency_fields: list[dict[str, Any]],
        procedures: list[dict[str, Any]],
    ) -> None:
        for model, rows in (
            (Province, provinces),
            (ProcedureField, fields),
            (Agency, agencies),
            (AgencyField, agency_fields),
            (Procedure, procedures),
        ):
            await upsert(self.session, model, rows)


def _with_field_name(statement: Select[Procedure]) -> Select[Procedure, str]:
    return statement.add_columns(ProcedureField.name).join(
        ProcedureField, ProcedureField.code == Procedure.field_code
    )


def _agencies(
    level: str | None, province_code: int | None, field_code: str | None
) -> Select[Agency]:
    statement = select(Agency).order_by(Agency.code)
    if level:
        statement = statement.where(Agency.level == level)
    if province_code is not None:
        statement = statement.where(Agency.province_code == province_code)
    if field_code:
        statement = statement.join(AgencyField).where(AgencyField.field_code == field_code)
    return statement
