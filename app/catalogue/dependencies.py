"""Which agency's back office is calling, and the catalogue's kept answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from starlette.requests import HTTPConnection

from app.catalogue.cache import CatalogueCache
from app.catalogue.errors import InvalidAgencyKey
from app.core.config import Settings
from app.core.security import agency_of_key


@dataclass(frozen=True, slots=True)
class AgencyPrincipal:
    agency_code: str


class _AgencyKeyHeader(APIKeyHeader):
    """The key's header and its check in one dependency (see accounts/dependencies.py)."""

    # Answers the principal where the parent answers the key: hence the override.
    async def __call__(self, request: HTTPConnection) -> AgencyPrincipal:  # type: ignore[override]
        key = await super().__call__(request)
        if not key:
            raise InvalidAgencyKey("the X-Agency-Key header is required", field="X-Agency-Key")
        settings: Settings = request.app.state.settings
        code = agency_of_key(settings, key)
        if code is None:
            raise InvalidAgencyKey("unknown or forged agency key", field="X-Agency-Key")
        return AgencyPrincipal(agency_code=code)


# Named as FastAPI names a plain APIKeyHeader, so the published security scheme stays the same.
_current_agency = _AgencyKeyHeader(
    name="X-Agency-Key",
    scheme_name="APIKeyHeader",
    auto_error=False,
    description="the agency's key, as listed by `portalsim agencies`",
)


CurrentAgency = Annotated[AgencyPrincipal, Depends(_current_agency)]


async def _cache(request: Request) -> CatalogueCache:
    cache: CatalogueCache = request.app.state.catalogue_cache
    return cache


# Opens a read session only when the answer is not kept already.
CatalogueCacheDep = Annotated[CatalogueCache, Depends(_cache)]
