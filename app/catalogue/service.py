"""Catalogue rules: look-ups, search, and loading the deterministic catalogue."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Generic

from app.catalogue.errors import (
    AgencyDoesNotHandleProcedure,
    ProcedureNotFound,
    UnknownAgency,
    UnknownProcedure,
)
from app.catalogue.models import Procedure
from app.catalogue.repository import CatalogueRepository
from app.catalogue.schemas import AgencyOut, FieldOut, ProcedureOut, ProvinceOut
from app.core.db import SessionT, WriteSession
from app.core.kept import Kept
from app.core.pagination import Page, PageParams
from app.core.text import fold


@dataclass(frozen=True, slots=True)
class Reception:
    """What a submission needs of its procedure and receiving agency, as plain values: it is
    kept across requests, so it must not be a row bound to (and expired with) one's session."""

    procedure_code: str
    processing_time: int
    processing_unit: str
    agency_code: str


class CatalogueService(Generic[SessionT]):
    def __init__(
        self,
        repository: CatalogueRepository[SessionT],
        kept_pairs: Kept[Reception] | None = None,
    ) -> None:
        self.repository: CatalogueRepository[SessionT] = repository
        self.kept_pairs = kept_pairs  # receiving_agency's answers, kept (app/catalogue/cache.py)

    async def procedure(self, code: str) -> ProcedureOut:
        found = await self.repository.procedure_with_field_name(code)
        if found is None:
            raise ProcedureNotFound(f"no procedure with code {code!r}", field="code")
        return procedure_out(*found)

    async def search(
        self,
        *,
        query: str | None,
        field_code: str | None,
        agency_level: str | None,
        online_level: str | None,
        page: PageParams,
    ) -> Page[ProcedureOut]:
        items, total = await self.repository.search_procedures(
            folded_query=fold(query) if query else None,
            field_code=field_code,
            agency_level=agency_level,
            online_level=online_level,
            offset=page.offset,
            limit=page.size,
        )
        return Page(
            items=[procedure_out(p, name) for p, name in items],
            total=total,
            page=page.page,
            size=page.size,
        )

    async def fields(self) -> list[FieldOut]:
        rows = await self.repository.fields_with_counts()
        return [FieldOut(code=code, name=name, procedures=count) for code, name, count in rows]

    async def provinces(self) -> list[ProvinceOut]:
        return [ProvinceOut.model_validate(p) for p in await self.repository.list_provinces()]

    async def agencies(
        self,
        *,
        level: str | None,
        province_code: int | None,
        procedure_code: str | None,
        page: PageParams,
    ) -> Page[AgencyOut]:
        field_code = None
        if procedure_code:
            procedure = await self.repository.get_procedure(procedure_code)
            if procedure is None:
                raise ProcedureNotFound(
                    f"no procedure with code {procedure_code!r}", field="procedure"
                )
            level, field_code = procedure.agency_level, procedure.field_code
        items, total = await self.repository.list_agencies(
            level=level,
            province_code=province_code,
            field_code=field_code,
            offset=page.offset,
            limit=page.size,
        )
        fields = await self.repository.fields_of([a.code for a in items])
        return Page(
            items=[
                AgencyOut(
                    code=a.code,
                    name=a.name,
                    level=a.level,
                    province_code=a.province_code,
                    field_codes=fields[a.code],
                )
                for a in items
            ],
            total=total,
            page=page.page,
            size=page.size,
        )

    async def receiving_agency(self, procedure_code: str, agency_code: str) -> Reception:
        """The procedure and agency of a submission, refused unless the agency receives it."""
        kept = self.kept_pairs.get((procedure_code, agency_code)) if self.kept_pairs else None
        if kept is not None:
            return kept
        procedure = await self.repository.get_procedure(procedure_code)
        if procedure is None:
            raise UnknownProcedure(
                f"no procedure with code {procedure_code!r}", field="procedure_code"
            )
        found = await self.repository.agency_for_field(agency_code, procedure.field_code)
        if found is None:
            raise UnknownAgency(f"no agency with code {agency_code!r}", field="agency_code")
        agency, receives_field = found
        if agency.level != procedure.agency_level or not receives_field:
            raise AgencyDoesNotHandleProcedure(
                f"agency {agency_code} ({agency.level}) does not receive procedure "
                f"{procedure_code} ({procedure.agency_level}, field {procedure.field_code})",
                field="agency_code",
            )
        reception = Reception(
            procedure_code=procedure.code,
            processing_time=procedure.processing_time,
            processing_unit=procedure.processing_unit,
            agency_code=agency.code,
        )
        if self.kept_pairs is not None:
            self.kept_pairs.put((procedure_code, agency_code), reception)
        return reception

    async def load(
        self: CatalogueService[WriteSession], *, seed: int, communes_per_province: int
    ) -> dict[str, int]:
        """Write the generated catalogue; re-running with the same seed changes nothing."""
        # Imported here: the generator and the province data cost seconds to import, and only
        # seeding needs them, not a worker serving requests.
        from vietnam_provinces import Province as PackageProvince

        from app.catalogue import generator

        provinces = [
            {"code": int(p.code), "name": p.name, "codename": p.codename}
            for p in PackageProvince.iter_all()
        ]
        fields = [asdict(f) for f in generator.FIELDS]
        generated = generator.generate_agencies(seed, communes_per_province)
        agencies = [
            {"code": a.code, "name": a.name, "level": a.level, "province_code": a.province_code}
            for a in generated
        ]
        agency_fields = [
            {"agency_code": a.code, "field_code": field}
            for a in generated
            for field in a.field_codes
        ]
        procedures = [
            {
                "code": p.code,
                "name": p.name,
                "search_text": fold(f"{p.code} {p.name}"),
                "field_code": p.field_code,
                "agency_level": p.agency_level,
                "processing_time": p.processing_time,
                "processing_unit": p.processing_unit,
                "fees": [asdict(fee) for fee in p.fees],
                "online_level": p.online_level,
                "has_fees": any(fee.amount > 0 for fee in p.fees),
            }
            for p in generator.generate_procedures(seed)
        ]
        await self.repository.upsert_catalogue(
            provinces=provinces,
            fields=fields,
            agencies=agencies,
            agency_fields=agency_fields,
            procedures=procedures,
        )
        return {
            "provinces": len(provinces),
            "fields": len(fields),
            "agencies": len(agencies),
            "procedures": len(procedures),
        }


def procedure_out(procedure: Procedure, field_name: str) -> ProcedureOut:
    return ProcedureOut(
        code=procedure.code,
        name=procedure.name,
        field=procedure.field_code,
        field_name=field_name,
        agency_level=procedure.agency_level,
        processing_time=procedure.processing_time,
        processing_unit=procedure.processing_unit,
        fees=procedure.fees,
        online_level=procedure.online_level,
    )
