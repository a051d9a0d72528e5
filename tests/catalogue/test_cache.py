"""The catalogue's answers are kept for CATALOGUE_CACHE_SECONDS: a repeated question is answered
without the database, a re-seed shows once the answer expires, errors are never kept, and 0
turns the keeping off."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, update

from app.catalogue.cache import CatalogueCache
from app.catalogue.models import Procedure
from app.core.config import Settings
from app.core.db import Database
from app.core.kept import Kept
from app.dossiers.models import Dossier
from app.main import create_app
from tests.support.factories import login, receiving_pair, submit


@asynccontextmanager
async def _portal(settings: Settings, seconds: float) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    app = create_app(settings.model_copy(update={"catalogue_cache_seconds": seconds}))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://portal.test") as client:
            yield app, client


@pytest.fixture
async def cached(settings: Settings) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    async with _portal(settings, 3600) as portal:
        yield portal


async def _rename(database: Database, code: str, name: str) -> None:
    async with database.write() as session:
        await session.execute(update(Procedure).where(Procedure.code == code).values(name=name))


async def test_a_kept_answer_is_the_same_bytes_until_it_expires(
    cached: tuple[FastAPI, AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = cached
    first = await client.get("/api/v1/procedures", params={"size": 1})
    code = first.json()["items"][0]["code"]
    one = await client.get(f"/api/v1/procedures/{code}")
    original = one.json()["name"]
    try:
        await _rename(app.state.database, code, "Thủ tục đã đổi tên")
        # Kept: the answers are the ones first given, byte for byte, JSON as before.
        again = await client.get(f"/api/v1/procedures/{code}")
        assert again.content == one.content
        assert again.headers["content-type"] == "application/json"
        assert (await client.get("/api/v1/procedures", params={"size": 1})).content == first.content
        # Another question is answered from the database.
        other = await client.get("/api/v1/procedures", params={"size": 1, "q": code})
        assert other.json()["items"][0]["name"] == "Thủ tục đã đổi tên"
        # An hour later the answer has expired: the database again.
        later = time.monotonic() + 3601
        monkeypatch.setattr(time, "monotonic", lambda: later)
        assert (await client.get(f"/api/v1/procedures/{code}")).json()["name"] == (
            "Thủ tục đã đổi tên"
        )
    finally:
        await _rename(app.state.database, code, original)


async def test_errors_are_not_kept(cached: tuple[FastAPI, AsyncClient]) -> None:
    _app, client = cached
    assert (await client.get("/api/v1/procedures/9.999999")).status_code == 404
    assert (await client.get("/api/v1/procedures/9.999999")).json()["error"] == (
        "procedure_not_found"
    )
    assert (await client.get("/api/v1/procedures", params={"size": 0})).status_code == 422


async def test_zero_seconds_keeps_nothing(settings: Settings) -> None:
    async with _portal(settings, 0) as (app, client):
        await _renamed_at_once(app, client)


async def _renamed_at_once(app: FastAPI, client: AsyncClient) -> None:
    code = (await client.get("/api/v1/procedures", params={"size": 1})).json()["items"][0]["code"]
    original = (await client.get(f"/api/v1/procedures/{code}")).json()["name"]
    try:
        await _rename(app.state.database, code, "Tên mới")
        assert (await client.get(f"/api/v1/procedures/{code}")).json()["name"] == "Tên mới"
    finally:
        await _rename(app.state.database, code, original)


def test_the_kept_map_is_bounded_and_expires() -> None:
    kept: Kept[int] = Kept(seconds=60, max_entries=3)
    for key in range(5):
        kept.put(key, key)
    assert [kept.get(key) for key in range(5)] == [None, None, 2, 3, 4]
    expired: Kept[int] = Kept(seconds=-1)
    expired.put("a", 1)
    assert expired.get("a") is None


async def test_a_submission_reads_its_procedure_and_agency_once(
    cached: tuple[FastAPI, AsyncClient],
) -> None:
    app, client = cached
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    first = await submit(client, citizen, procedure["code"], agency["code"])
    async with app.state.database.write() as session:
        await session.execute(
            update(Procedure)
            .where(Procedure.code == procedure["code"])
            .values(processing_time=procedure["processing_time"] + 7)
        )
    try:
        second = await submit(client, citizen, procedure["code"], agency["code"])
        # Kept: the second submission did not read the procedure again.
        async with app.state.database.read() as session:
            times = await session.scalars(
                select(Dossier.processing_time).where(
                    Dossier.code.in_([first["code"], second["code"]])
                )
            )
            assert list(times) == [procedure["processing_time"]] * 2
        # A pair the agency does not receive is refused each time, never kept.
        other = await client.post(
            "/api/v1/dossiers",
            json={"procedure_code": procedure["code"], "agency_code": "no-such-agency"},
            headers=citizen.headers,
        )
        assert other.status_code == 422
    finally:
        async with app.state.database.write() as session:
            await session.execute(
                update(Procedure)
                .where(Procedure.code == procedure["code"])
                .values(processing_time=procedure["processing_time"])
            )


async def test_a_question_asked_again_is_answered_in_front_of_the_router(
    cached: tuple[FastAPI, AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same request (path and query string) is answered by the layer in front, without
    routing it: the route runs once, the bytes are the same, and the metrics count both by the
    route's template."""
    _app, client = cached
    routed: list[object] = []
    answer = CatalogueCache.answer

    async def counting(cache: CatalogueCache, request: Request, *args: Any) -> Response:
        routed.append(request.url.path)
        return await answer(cache, request, *args)

    monkeypatch.setattr(CatalogueCache, "answer", counting)
    asked: dict[str, str | int] = {"q": "khai sinh", "size": 3}

    first = await client.get("/api/v1/procedures", params=asked)
    again = await client.get("/api/v1/procedures", params=asked)
    other = await client.get("/api/v1/procedures", params={"q": "khai sinh", "size": 4})

    assert first.status_code == again.status_code == other.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.headers["content-length"] == str(len(first.content))
    assert routed == ["/api/v1/procedures", "/api/v1/procedures"]
    scraped = (await client.get("/metrics")).text
    assert (
        'portalsim_http_requests_total{method="GET",route="/api/v1/procedures",status="200"} 3.0'
        in scraped
    )


async def test_faults_still_apply_to_a_kept_answer(settings: Settings) -> None:
    faulted = settings.model_copy(
        update={"catalogue_cache_seconds": 3600, "portal_faults_enabled": True}
    )
    app = create_app(faulted)
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://portal.test") as client:
            code = (await client.get("/api/v1/procedures", params={"size": 1})).json()["items"][0][
                "code"
            ]
            assert (await client.get(f"/api/v1/procedures/{code}")).status_code == 200
            failing = {"X-Portal-Faults": "GET /api/v1/procedures/{code}: error=1"}
            response = await client.get(f"/api/v1/procedures/{code}", headers=failing)
    assert response.status_code == 503
    assert response.json()["error"] == "injected_fault"
