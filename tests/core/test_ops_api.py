"""Operations endpoints: liveness, readiness, Prometheus metrics, and the portal's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings
from tests.conftest import DEFAULT_NOW
from tests.support.clock import ManualClock
from tests.support.factories import (
    assert_error,
    instant,
    login,
    move,
    receiving_pair,
    serve,
    submit,
    vn_time,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def labelled(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_healthz_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database_and_its_schema(
    client: AsyncClient, settings: Settings
) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok"},
        "database": "sqlite" if settings.is_sqlite else "postgresql",
    }


async def test_readyz_is_503_on_an_unmigrated_database(settings: Settings, tmp_path: Path) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    async with serve(empty) as (_, client):
        response = await client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["schema"] != "ok"


async def test_readyz_is_503_when_the_database_cannot_be_opened(
    settings: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "portal.db"
    unreachable = settings.model_copy(update={"database_url": f"sqlite:///{missing}"})
    async with serve(unreachable) as (_, client):
        response = await client.get("/readyz")
        liveness = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert response.json()["checks"]["database"].startswith("unreachable")
    assert liveness.status_code == 200


async def test_metrics_count_requests_by_route_template(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    for _ in range(3):
        await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=citizen.headers)
    await client.get("/api/v1/dossiers/000.00.01.H01-260303-9999", headers=citizen.headers)
    await client.get("/no/such/route")
    await move(client, settings, dossier, 2)

    response = await client.get("/metrics")
    samples = await scrape(client)

    name = "portalsim_http_requests_total"
    route = "/api/v1/dossiers/{code}"
    assert labelled(samples, name, method="GET", route=route, status="200") == 3
    assert labelled(samples, name, method="GET", route=route, status="404") == 1
    assert labelled(samples, name, method="POST", route="/api/v1/dossiers", status="201") == 1
    assert (
        labelled(
            samples,
            name,
            method="POST",
            route="/api/v1/agency/dossiers/{code}/transitions",
            status="200",
        )
        == 1
    )
    assert labelled(samples, name, method="GET", route="<unmatched>", status="404") == 1
    assert dossier["code"] not in response.text
    assert "H01-260303-9999" not in response.text
    assert "/no/such/route" not in response.text
    templates = set(app.openapi()["paths"]) | {"<unmatched>"}
    routes = {dict(labels)["route"] for (sample, labels) in samples if sample == name}
    assert routes <= templates
    histogram = "portalsim_http_request_duration_seconds_count"
    assert labelled(samples, histogram, method="GET", route=route) == 3 + 1


async def test_metrics_gauge_counts_dossiers_by_status(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossiers = [await submit(client, citizen, procedure["code"], agency["code"]) for _ in range(4)]
    await move(client, settings, dossiers[0], 2, 4)
    await move(client, settings, dossiers[1], 3)

    samples = await scrape(client)

    counts = {str(s): labelled(samples, "portalsim_dossiers", status=str(s)) for s in range(1, 11)}
    assert counts == {
        "1": 2,
        "2": 0,
        "3": 1,
        "4": 1,
        "5": 0,
        "6": 0,
        "7": 0,
        "8": 0,
        "9": 0,
        "10": 0,
    }
    await move(client, settings, dossiers[2], 2)
    later = await scrape(client)
    assert labelled(later, "portalsim_dossiers", status="1") == 1
    assert labelled(later, "portalsim_dossiers", status="2") == 1


async def test_clock_reports_the_manual_clock(client: AsyncClient, clock: ManualClock) -> None:
    first = (await client.get("/api/v1/clock")).json()
    clock.set(datetime(2026, 3, 3, 23, 30, tzinfo=UTC))
    second = (await client.get("/api/v1/clock")).json()

    assert first["mode"] == "manual"
    assert first["speed"] == 1
    assert first["now"] == "2026-03-03T09:00:00+07:00"
    assert instant(first["now_utc"]) == DEFAULT_NOW
    assert second["now"] == "2026-03-04T06:30:00+07:00"
    now_utc = instant(second["now_utc"])
    assert now_utc == datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    assert now_utc.utcoffset() == timedelta(0)


async def accelerated_clock(settings: Settings, start: datetime) -> tuple[dict[str, Any], ...]:
    """Two readings of /api/v1/clock around a submission, in an app on an accelerated clock."""
    accelerated = settings.model_copy(
        update={"clock_mode": "accelerated", "clock_start": start, "clock_speed": 3600.0}
    )
    async with serve(accelerated) as (_, client):
        before = (await client.get("/api/v1/clock")).json()
        procedure, agency = await receiving_pair(client)
        citizen = await login(client)
        dossier = await submit(client, citizen, procedure["code"], agency["code"])
        after = (await client.get("/api/v1/clock")).json()
    return before, dossier, after


async def test_accelerated_clock_runs_from_its_start(settings: Settings) -> None:
    start = vn_time(2026, 3, 2, 7, 30)

    before, dossier, after = await accelerated_clock(settings, start)

    assert before["mode"] == after["mode"] == "accelerated"
    assert before["speed"] == 3600
    assert start < instant(before["now"]) < instant(after["now"])
    assert instant(before["now_utc"]) == instant(before["now"])
    assert instant(before["now_utc"]).utcoffset() == timedelta(0)
    # Dossiers are stamped with the virtual time, and coded with its day in Vietnam.
    submitted = instant(dossier["submitted_at"])
    assert instant(before["now"]) <= submitted <= instant(after["now"])
    assert dossier["code"].endswith(f"-{submitted.astimezone(VIETNAM_TZ):%y%m%d}-0001")


async def test_accelerated_clock_start_without_offset_is_vietnam_time(
    settings: Settings,
) -> None:
    before, _, _ = await accelerated_clock(settings, datetime(2026, 3, 2, 7, 30))

    assert instant(before["now"]) > vn_time(2026, 3, 2, 7, 30)
    assert instant(before["now"]) < datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no-such-dir/portal.db",  # a file SQLite cannot open
        "postgresql://postgres@127.0.0.1:9/portal_test",  # no server: the connection is refused
    ],
    ids=["sqlite-unopenable", "postgresql-refused"],
)
async def test_a_database_that_takes_no_connection_is_a_503_to_retry(
    settings: Settings, tmp_path: Path, url: str
) -> None:
    unreachable = settings.model_copy(update={"database_url": url.format(tmp=tmp_path)})
    async with serve(unreachable) as (_, client):
        response = await client.get("/api/v1/agencies", params={"level": "commune"})

    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "1"
