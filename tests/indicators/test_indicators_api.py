"""GET /api/v1/indicators and its ranking and series on a hand-built set of dossiers, with each
expected numerator and denominator written out; the period edges (received in one quarter and
finished in the next, open and overdue at the end); the inputs set through the portal's own
routes (an online upload, a result document, an electronic result, a complaint); bad input.
On the suite's database: SQLite, or PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.config import Settings
from tests.support.clock import ManualClock
from tests.support.factories import (
    PDF_BYTES,
    agency_headers,
    assert_error,
    assert_no_server_errors,
    login,
    move,
    receiving_pair,
    submit,
    upload,
    vn_time,
)
from tests.support.indicators import NOW, Q1, Q2, Built, build_dossiers


@pytest.fixture
async def built(settings: Settings, client: AsyncClient, clock: ManualClock) -> Built:
    clock.set(NOW)
    return await build_dossiers(settings, client)


async def _indicators(client: AsyncClient, **params: Any) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/v1/indicators", params=params)
    assert response.status_code == 200, response.text
    return {i["id"]: i for i in response.json()["indicators"]}


def _ratio(found: dict[str, Any]) -> tuple[float, float]:
    return found["numerator"], found["denominator"]


async def test_an_agencys_quarter_written_out(client: AsyncClient, built: Built) -> None:
    found = await _indicators(client, scope="agency", code=built.agency, **Q1)
    assert _ratio(found["1.4"]) == (9, 10)  # the April stats are the next quarter's
    # Finished in the quarter with a due date: d1 on time, d2 late, d5 on time, d7 overdue (two
    # supplements); open at its end: d3 in time, d4 overdue, d6 in time (it ends in April).
    assert _ratio(found["2.1"]) == (2 + 2, 4 + 3)
    processing = sum(built.hours[n][0] for n in ("d1", "d2", "d5", "d7"))
    allowed = sum(built.hours[n][1] for n in ("d1", "d2", "d5", "d7"))
    assert found["2.2"]["denominator"] == 4
    assert found["2.2"]["value"] == pytest.approx(processing / 4)
    assert found["2.2"]["threshold"] == pytest.approx(allowed / 4)
    # Received in the quarter: d1, d2, d3, d4, d6, d7, d8 (d5 came in December).
    assert _ratio(found["3.3"]) == (5, 7)  # d2 and d7 came over the counter
    assert _ratio(found["3.6"]) == (2, 3)  # of the fee-bearing d1, d2, d7: d1 and d7 paid online
    # Results issued in the quarter: d1, d2, d5, d7 (d8 was refused: no result).
    assert _ratio(found["4.1"]) == (2, 4)  # d1 and d5
    assert _ratio(found["4.2"]) == (1, 4)  # d1 alone was also digitised
    assert found["5.4"]["parts"] == pytest.approx(
        {"overdue_share": 3 / 7, "complaint_share": 1 / 7}
    )
    assert found["5.4"]["value"] == pytest.approx(3 / 7)
    assert found["5.4"]["score"] == pytest.approx(18 * (3 / 7) / 0.9, abs=1e-3)
    assert found["3.3"]["score"] == 8  # 71% is past the 50% threshold


async def test_the_next_quarter_judges_open_dossiers_now(client: AsyncClient, built: Built) -> None:
    found = await _indicators(client, scope="agency", code=built.agency, **Q2)
    # Now is 15 April: d6 finished on 2 April on time; d3 (due 5 April) and d4 are overdue.
    assert _ratio(found["2.1"]) == (1, 1 + 2)
    assert _ratio(found["3.3"]) == (0, 0)
    assert found["3.3"]["value"] is None
    assert found["3.3"]["reason"] == "no dossier received in the period"
    assert _ratio(found["1.4"]) == (0, 5)


async def test_scopes_add_up_and_keep_apart(client: AsyncClient, built: Built) -> None:
    province = await _indicators(client, scope="province", code=built.province, **Q1)
    agency = await _indicators(client, scope="agency", code=built.agency, **Q1)
    for indicator_id in ("2.1", "3.3", "3.6", "4.1", "4.2"):
        assert _ratio(province[indicator_id]) == _ratio(agency[indicator_id])
    national = await _indicators(client, **Q1)
    assert _ratio(national["3.3"]) == (5, 7 + 1)  # d9 of the other province, at the counter
    assert _ratio(national["2.1"]) == (4 + 1, 7 + 1)
    other = await _indicators(client, scope="province", code=built.other_province, **Q1)
    assert _ratio(other["2.1"]) == (1, 1)
    total = (await client.get("/api/v1/procedures", params={"size": 1})).json()["total"]
    assert national["3.1"]["denominator"] == total


async def test_the_body_names_its_scope_period_groups_and_total(
    client: AsyncClient, built: Built
) -> None:
    response = await client.get(
        "/api/v1/indicators", params={"scope": "province", "code": built.province, **Q1}
    )
    body = response.json()
    assert body["scope"] == "province"
    assert body["code"] == str(built.province)
    assert body["name"] == "Thành phố Hà Nội"
    assert body["period"] == {"from": "2026-01-01", "to": "2026-03-31"}
    assert [g["id"] for g in body["groups"]] == ["1", "2", "3", "4", "5"]
    assert body["total_score"] == pytest.approx(sum(g["score"] for g in body["groups"]))
    assert {"1.4", "2.1", "2.2", "3.1", "3.3", "3.6", "4.1", "4.2", "5.4"} <= {
        i["id"] for i in body["indicators"]
    }
    assert datetime.fromisoformat(body["computed_at"]) == NOW


async def test_the_ranking_orders_provinces_and_a_provinces_agencies(
    client: AsyncClient, built: Built
) -> None:
    response = await client.get("/api/v1/indicators/ranking", params={**Q1, "size": 50})
    ranking = response.json()
    assert ranking["total"] == 34
    totals = [entry["total_score"] for entry in ranking["items"]]
    assert totals == sorted(totals, reverse=True)
    assert [entry["rank"] for entry in ranking["items"]] == list(range(1, 35))
    by_code = {entry["code"]: entry for entry in ranking["items"]}
    card = (
        await client.get(
            "/api/v1/indicators", params={"scope": "province", "code": built.province, **Q1}
        )
    ).json()
    assert by_code[str(built.province)]["total_score"] == pytest.approx(card["total_score"])
    assert by_code[str(built.province)]["received"] == 7
    page = await client.get("/api/v1/indicators/ranking", params={**Q1, "size": 5, "page": 2})
    assert [e["rank"] for e in page.json()["items"]] == [6, 7, 8, 9, 10]
    agencies = await client.get(
        "/api/v1/indicators/ranking", params={"scope": "agency", "code": built.province, **Q1}
    )
    assert built.agency in {entry["code"] for entry in agencies.json()["items"]}


async def test_the_series_gives_each_week_its_shares(client: AsyncClient, built: Built) -> None:
    response = await client.get(
        "/api/v1/indicators/series",
        params={"scope": "agency", "code": built.agency, "step": "week", **Q1},
    )
    points = {p["start"]: p for p in response.json()}
    assert next(iter(points)) == "2026-01-01"  # the first week starts with the period
    week = points["2026-01-05"]  # d1 online, d2 and d7 at the counter; d1 finished on time
    assert (week["received"], week["online_share"]) == (3, pytest.approx(1 / 3))
    assert (week["finished"], week["on_time_share"]) == (1, 1.0)
    quiet = points["2026-02-09"]
    assert (quiet["received"], quiet["online_share"], quiet["on_time_share"]) == (0, None, None)
    assert len(points) == 14  # 1 January (a Thursday) to 31 March


@pytest.mark.parametrize(
    ("params", "status", "error", "field"),
    [
        ({"scope": "province", "code": "999"}, 404, "scope_not_found", "code"),
        ({"scope": "agency", "code": "nope"}, 404, "scope_not_found", "code"),
        ({"scope": "province"}, 422, "invalid_scope", "code"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, 422, "invalid_period", "from"),
        ({"from": "2026-13-01"}, 422, "invalid_payload", "from"),
        ({"scope": "planet"}, 422, "invalid_payload", "scope"),
        ({"from": "1900-01-01", "to": "2026-01-01"}, 422, "invalid_period", "to"),
        # Days whose arithmetic (the day after, Vietnam's midnight in UTC) leaves the calendar.
        ({"to": "9999-12-31"}, 422, "invalid_period", "to"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, 422, "invalid_period", "from"),
        # Province numbers: ASCII digits only, and none beyond what a province number can be.
        ({"scope": "province", "code": "\u00b2"}, 404, "scope_not_found", "code"),
        ({"scope": "province", "code": "\u0661"}, 404, "scope_not_found", "code"),
        ({"scope": "province", "code": "9" * 20}, 404, "scope_not_found", "code"),
        ({"scope": "province", "code": "99999"}, 404, "scope_not_found", "code"),
        ({"scope": "agency", "code": "9" * 20}, 404, "scope_not_found", "code"),
    ],
)
async def test_bad_input_gets_a_clear_4xx(
    app: FastAPI,
    client: AsyncClient,
    params: dict[str, str],
    status: int,
    error: str,
    field: str,
) -> None:
    paths = ["/api/v1/indicators", "/api/v1/indicators/series"]
    if "scope" not in params:  # the national page has no scope parameter
        paths.append("/dashboard")
    for path in paths:
        response = await client.get(path, params=params)
        assert_error(response, status, error, field=field)
    assert_no_server_errors(app)


@pytest.mark.parametrize(
    "code", ["\u00b2", "\u0661\u0662", "9" * 20, "9" * 5000, "99999", "-1", "1e3", " 1"]
)
async def test_a_province_page_or_ranking_of_no_province_is_404(
    app: FastAPI, client: AsyncClient, code: str
) -> None:
    page = await client.get(f"/dashboard/provinces/{quote(code)}")
    assert_error(page, 404, "scope_not_found", field="code")
    if len(code) <= 20:  # the query parameter's own bound refuses longer ones (422)
        ranking = await client.get(
            "/api/v1/indicators/ranking", params={"scope": "agency", "code": code}
        )
        assert_error(ranking, 404, "scope_not_found", field="code")
    assert_no_server_errors(app)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"to": "9999-12-31"}, "to"), ({"from": "0001-01-01", "to": "0001-01-07"}, "from")],
)
async def test_a_period_at_the_calendars_edge_is_refused_everywhere(
    app: FastAPI, client: AsyncClient, params: dict[str, str], field: str
) -> None:
    for path in (
        "/api/v1/indicators/ranking",
        "/dashboard/provinces/1",
        f"/dashboard/agencies/{quote('000.00.01.H01')}",
    ):
        response = await client.get(path, params={**params, "step": "day"})
        assert_error(response, 422, "invalid_period", field=field)
    assert_no_server_errors(app)


async def test_the_inputs_set_through_the_portal_move_the_indicators(
    app: FastAPI, client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    clock.set(vn_time(2026, 3, 2, 9))
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    code = dossier["code"]
    assert (
        await upload(client, citizen, code, ("don.pdf", PDF_BYTES, "application/pdf"))
    ).status_code == 201
    await move(client, settings, dossier, 2, 4)
    headers = agency_headers(settings, agency["code"])
    attached = await client.post(
        f"/api/v1/agency/dossiers/{code}/results",
        files=[("files", ("ket-qua.pdf", PDF_BYTES, "application/pdf"))],
        headers=headers,
    )
    assert attached.status_code == 201, attached.text
    assert attached.json()[0]["purpose"] == "result"
    clock.advance(hours=2)
    await move(client, settings, dossier, 9, 10)
    complaint = await client.post(
        f"/api/v1/dossiers/{code}/complaints",
        json={"content": "  Cán bộ hướng dẫn chưa rõ  "},
        headers=citizen.headers,
    )
    assert complaint.status_code == 201, complaint.text
    assert complaint.json()["content"] == "Cán bộ hướng dẫn chưa rõ"
    listed = await client.get("/api/v1/agency/complaints", headers=headers)
    assert [c["dossier_code"] for c in listed.json()["items"]] == [code]
    mine = await client.get(f"/api/v1/dossiers/{code}/complaints", headers=citizen.headers)
    assert len(mine.json()) == 1
    seen = (await client.get(f"/api/v1/dossiers/{code}", headers=citizen.headers)).json()
    assert (seen["digitised"], seen["electronic_result"]) == (True, True)

    found = await _indicators(
        client, scope="agency", code=agency["code"], **{"from": "2026-03-01", "to": "2026-03-31"}
    )
    assert _ratio(found["3.3"]) == (1, 1)
    assert _ratio(found["4.1"]) == (1, 1)
    assert _ratio(found["4.2"]) == (1, 1)
    assert _ratio(found["2.1"]) == (1, 1)
    assert found["5.4"]["parts"] == {"overdue_share": 0.0, "complaint_share": 1.0}
    assert_no_server_errors(app)


async def test_electronic_result_goes_with_a_result_and_results_with_processing(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    headers = agency_headers(settings, agency["code"])
    early = await client.post(
        f"/api/v1/agency/dossiers/{dossier['code']}/transitions",
        json={"to_status": 2, "electronic_result": True},
        headers=headers,
    )
    assert_error(early, 422, "invalid_payload", field="electronic_result")
    too_soon = await client.post(
        f"/api/v1/agency/dossiers/{dossier['code']}/results",
        files=[("files", ("kq.pdf", PDF_BYTES, "application/pdf"))],
        headers=headers,
    )
    assert_error(too_soon, 409, "not_allowed_in_status", field="status")
    await move(client, settings, dossier, 2, 4)
    marked = await client.post(
        f"/api/v1/agency/dossiers/{dossier['code']}/transitions",
        json={"to_status": 9, "electronic_result": True},
        headers=headers,
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["electronic_result"] is True
    stranger = await login(client)
    refused = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/complaints",
        json={"content": "x"},
        headers=stranger.headers,
    )
    assert_error(refused, 404, "dossier_not_found")
    empty = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/complaints",
        json={"content": "   "},
        headers=citizen.headers,
    )
    assert empty.status_code == 422
