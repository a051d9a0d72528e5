"""Concurrent requests against one agency and one dossier. Meant for PostgreSQL, where the
requests really overlap inside the database; on SQLite they pass too, serialised by its lock."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

from httpx import AsyncClient

from app.core.config import Settings
from tests.support.factories import agency_headers, login, receiving_pair, submit

SUBMISSIONS = 200
CITIZENS = 20
SAME_KEY_REQUESTS = 50


async def test_concurrent_submissions_get_distinct_consecutive_codes(client: AsyncClient) -> None:
    procedure, agency = await receiving_pair(client)
    citizens = await asyncio.gather(*(login(client) for _ in range(CITIZENS)))

    dossiers = await asyncio.gather(
        *(
            submit(client, citizens[i % CITIZENS], procedure["code"], agency["code"])
            for i in range(SUBMISSIONS)
        )
    )

    pattern = re.compile(rf"^{re.escape(agency['code'])}-260303-(\d{{4}})$")
    numbers = sorted(int(pattern.fullmatch(d["code"]).group(1)) for d in dossiers)  # type: ignore[union-attr]
    assert numbers == list(range(1, SUBMISSIONS + 1))


async def test_concurrent_retries_with_one_idempotency_key_create_one_dossier(
    client: AsyncClient,
) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    headers = {**citizen.headers, "Idempotency-Key": "retry-storm"}

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/dossiers", json=body, headers=headers)
            for _ in range(SAME_KEY_REQUESTS)
        )
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 200: SAME_KEY_REQUESTS - 1}
    assert len({r.json()["code"] for r in responses}) == 1
    listing = await client.get("/api/v1/dossiers", headers=citizen.headers)
    assert listing.json()["total"] == 1
    # The losers of the race gave their sequence numbers back: the next dossier is 0002.
    following = await submit(client, citizen, procedure["code"], agency["code"])
    assert following["code"].endswith("-0002")


async def test_concurrent_transitions_of_one_dossier_apply_once(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    url = f"/api/v1/agency/dossiers/{dossier['code']}/transitions"
    headers = agency_headers(settings, agency["code"])

    responses = await asyncio.gather(
        *(client.post(url, json={"to_status": 2}, headers=headers) for _ in range(20))
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 19}
    events = await client.get(f"/api/v1/dossiers/{dossier['code']}/events", headers=citizen.headers)
    assert [e["to_status"] for e in events.json()] == [1, 2]
