"""The portal's ASGI app: `create_app(settings)`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.accounts.endpoints import router as accounts_router
from app.catalogue.cache import CatalogueCache
from app.catalogue.endpoints import router as catalogue_router
from app.core.calendar import calendar_from_settings
from app.core.clock import clock_from_settings
from app.core.config import Settings, get_settings, settings_refusal
from app.core.db import Database
from app.core.edge import Edge
from app.core.errors import install_error_handlers, route_methods
from app.core.fault_injection import (
    FaultInjection,
    FaultRefusal,
    FaultRoute,
    fault_routes,
    route_keys,
)
from app.core.faults import Rules, parse_rules
from app.core.kept import KeptAnswers
from app.core.metrics import Metrics
from app.core.openapi import docs_router, install_contract
from app.core.ops import router as ops_router
from app.dossiers.endpoints import agency_complaints_router, agency_router, citizen_router
from app.dossiers.metrics import install_status_gauge
from app.dossiers.storage import DocumentStore
from app.indicators.endpoints import dashboard_router
from app.indicators.endpoints import router as indicators_router
from app.payments.endpoints import router as payments_router
from app.payments.gateway_client import GatewayClient, gateway_http_client
from app.payments.reconciler import start_reconciler
from app.services import Services
from app.sync.endpoints import router as sync_router

ROUTERS = (
    ops_router,
    accounts_router,
    catalogue_router,
    citizen_router,
    agency_router,
    agency_complaints_router,
    indicators_router,
    dashboard_router,
    sync_router,
    payments_router,
)
# Left alone by fault rules that do not name them: a load run's probes and clock must answer.
OPERATIONS_ENDPOINTS = frozenset(
    route.endpoint for route in ops_router.routes if isinstance(route, APIRoute)
)


def portal_fault_routes() -> list[FaultRoute]:
    """The routes as the app routes them (routers in order of inclusion, none with a prefix):
    the objects FastAPI sets as `scope["route"]`, which the metrics read their template from."""
    routes = (route for router in ROUTERS for route in router.routes)
    return fault_routes(routes, OPERATIONS_ENDPOINTS)


def portal_fault_rules(settings: Settings) -> Rules:
    """PORTAL_FAULTS, checked against the portal's routes; FaultSyntaxError if malformed."""
    return parse_rules(settings.portal_faults, route_keys(portal_fault_routes()))


def document_store_from_settings(settings: Settings) -> DocumentStore:
    return DocumentStore(
        settings.document_dir,
        max_bytes=settings.document_max_bytes,
        allowed_types=settings.document_types,
    )


def create_app(
    settings: Settings | None = None, *, gateway_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The portal. A malformed PORTAL_FAULTS fails here (FaultSyntaxError), as does one set
    without PORTAL_FAULTS_ENABLED, and demo secrets when DEPLOYMENT=shared (settings copied past
    their validation included).
    `gateway_transport` routes the portal's calls to the gateway elsewhere than the network
    (tests give an `httpx.ASGITransport` of a gateway app)."""
    settings = settings or get_settings()
    refusal = settings_refusal(settings)
    if refusal:
        raise ValueError(refusal)
    metrics = Metrics()
    install_status_gauge(metrics)
    kept_answers = KeptAnswers(settings.catalogue_cache_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = Database.from_settings(settings)
        app.state.catalogue_cache = CatalogueCache(
            app.state.database, settings.catalogue_cache_seconds, kept_answers
        )
        gateway_http = gateway_http_client(transport=gateway_transport)
        # Built here, not at create_app: tests set app.state.clock between the two.
        app.state.services = Services(
            settings=settings,
            database=app.state.database,
            calendar=app.state.calendar,
            clock=app.state.clock,
            document_store=app.state.document_store,
            gateway=GatewayClient(settings, gateway_http),
            catalogue_cache=app.state.catalogue_cache,
        )
        app.state.reconciler = reconciler = start_reconciler(app.state.services)
        try:
            yield
        finally:
            if reconciler is not None:
                reconciler.cancel()
                with suppress(asyncio.CancelledError):
                    await reconciler
            await gateway_http.aclose()
            await app.state.database.dispose()

    app = FastAPI(
        title="portalsim: mock National Public Service Portal",
        description=(
            "A mock of Vietnam's one-stop public-service portal: procedure catalogue, citizen "
            "accounts, online dossiers, the legal status machine and working-time deadlines."
        ),
        version="0.1.0",
        lifespan=lifespan,
        # /docs is served by docs_router from files installed with the project: the default
        # pages load Swagger UI and ReDoc from a CDN and are blank offline.
        docs_url=None,
        redoc_url=None,
    )
    install_contract(app)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.clock = clock_from_settings(settings)
    app.state.calendar = calendar_from_settings(settings)
    app.state.document_store = document_store_from_settings(settings)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(docs_router)
    app.state.route_methods = route_methods((*ROUTERS, docs_router))
    routes = portal_fault_routes()
    faults: FaultInjection | FaultRefusal
    if settings.portal_faults_enabled:
        faults = FaultInjection(
            routes=routes, rules=portal_fault_rules(settings), seed=settings.portal_faults_seed
        )
    else:
        faults = FaultRefusal(routes)
    # The one layer in front (metrics, guards, faults, the catalogue's kept answers): see
    # app/core/edge.py.
    app.add_middleware(
        Edge,
        metrics=metrics,
        faults=faults,
        kept=kept_answers,
        max_bytes=settings.request_max_bytes,
        json_max_bytes=settings.json_max_bytes,
    )
    return app
