"""Which agency's back office is calling, and the catalogue's kept answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from app.catalogue.cache import CatalogueCache
from app.catalogue.errors import InvalidAgencyKey
from app.core.dependencies import SettingsDep
from app.core.security import agency_of_key

_agency_key = APIKeyHeader(
    name="X-Agency-Key",
    auto_error=False,
    description="the agency's key, as listed by `portalsim agencies`",
)


@dataclass(frozen=True, slots=True)
class AgencyPrincipal:
    agency_code: str


async def _current_agency(
    settings: SettingsDep, key: Annotated[str | None, Depends(_agency_key)]
) -> AgencyPrincipal:
    if not key:
        raise InvalidAgencyKey("the X-Agency-Key header is required", field="X-Agency-Key")
    code = agency_of_key(settings, key)
    if code is None:
        raise InvalidAgencyKey("unknown or forged agency key", field="X-Agency-Key")
    return AgencyPrincipal(agency_code=code)


CurrentAgency = Annotated[AgencyPrincipal, Depends(_current_agency)]


async def _cache(request: Request) -> CatalogueCache:
    cache: CatalogueCache = request.app.state.catalogue_cache
    return cache


# Opens a read session only when the answer is not kept already.
CatalogueCacheDep = Annotated[CatalogueCache, Depends(_cache)]
