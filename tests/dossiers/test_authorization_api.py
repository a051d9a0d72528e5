"""Who may see and change which dossier: citizens see only their own, agencies only theirs,
and other people's dossiers look exactly like codes that do not exist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient, Response

from app.core.config import Settings
from app.core.security import agency_key
from tests.support.factories import (
    PDF_BYTES,
    Citizen,
    agency_headers,
    assert_error,
    login,
    move,
    read_dossier,
    receiving_pair,
    submit,
    supplement,
    upload,
)

UNKNOWN_CODE = "000.00.01.H01-260303-9999"

Request = Callable[[AsyncClient, Citizen, str, int], Awaitable[Response]]


@dataclass(frozen=True)
class CitizenAction:
    name: str
    path: tuple[int, ...]  # agency transitions after which the owner may do it
    request: Request
    owner_status: int = 200


async def _get(client: AsyncClient, citizen: Citizen, url: str) -> Response:
    return await client.get(url, headers=citizen.headers)


async def _post(client: AsyncClient, citizen: Citizen, url: str, **body: Any) -> Response:
    return await client.post(url, json=body or None, headers=citizen.headers)


CITIZEN_ACTIONS = [
    CitizenAction("read", (), lambda c, who, code, _: _get(c, who, f"/api/v1/dossiers/{code}")),
    CitizenAction(
        "events", (), lambda c, who, code, _: _get(c, who, f"/api/v1/dossiers/{code}/events")
    ),
    CitizenAction(
        "documents",
        (),
        lambda c, who, code, _: _get(c, who, f"/api/v1/dossiers/{code}/documents"),
    ),
    CitizenAction(
        "download",
        (),
        lambda c, who, code, doc: _get(c, who, f"/api/v1/dossiers/{code}/documents/{doc}"),
    ),
    CitizenAction(
        "upload",
        (),
        lambda c, who, code, _: upload(c, who, code, ("x.pdf", PDF_BYTES, "application/pdf")),
        owner_status=201,
    ),
    CitizenAction(
        "withdraw",
        (),
        lambda c, who, code, _: _post(c, who, f"/api/v1/dossiers/{code}/withdraw", reason="r"),
    ),
    CitizenAction(
        "supplement", (2, 4, 5), lambda c, who, code, _: supplement(c, who, code, note="n")
    ),
    CitizenAction(
        "rating",
        (2, 4, 9),
        lambda c, who, code, _: _post(c, who, f"/api/v1/dossiers/{code}/rating", score=1),
    ),
]


def same_not_found(response: Response, unknown: Response, code: str) -> None:
    """Someone else's dossier answers exactly as a code that does not exist."""
    body = assert_error(response, 404, "dossier_not_found", field="code")
    expected = assert_error(unknown, 404, "dossier_not_found", field="code")
    assert body == {**expected, "detail": expected["detail"].replace(UNKNOWN_CODE, code)}


@pytest.mark.parametrize("action", CITIZEN_ACTIONS, ids=lambda a: a.name)
async def test_other_citizens_dossier_is_not_found(
    client: AsyncClient, settings: Settings, action: CitizenAction
) -> None:
    procedure, agency = await receiving_pair(client)
    owner, intruder = await login(client), await login(client)
    dossier = await submit(client, owner, procedure["code"], agency["code"])
    uploaded = await upload(client, owner, dossier["code"], ("a.pdf", PDF_BYTES, "application/pdf"))
    document_id = uploaded.json()[0]["id"]
    await move(client, settings, dossier, *action.path)
    before = await read_dossier(client, owner, dossier["code"])
    documents_url = f"/api/v1/dossiers/{dossier['code']}/documents"
    documents_before = (await client.get(documents_url, headers=owner.headers)).json()

    response = await action.request(client, intruder, dossier["code"], document_id)
    unknown = await action.request(client, intruder, UNKNOWN_CODE, document_id)

    same_not_found(response, unknown, dossier["code"])
    assert PDF_BYTES not in response.content
    assert await read_dossier(client, owner, dossier["code"]) == before
    assert (await client.get(documents_url, headers=owner.headers)).json() == documents_before
    assert len([p for p in settings.document_dir.rglob("*") if p.is_file()]) == 1
    # The owner may do what the intruder was refused.
    allowed = await action.request(client, owner, dossier["code"], document_id)
    assert allowed.status_code == action.owner_status, allowed.text


async def test_citizen_listing_holds_only_their_own_dossiers(client: AsyncClient) -> None:
    procedure, agency = await receiving_pair(client)
    alice, bob = await login(client), await login(client)
    mine = await submit(client, alice, procedure["code"], agency["code"])
    await submit(client, bob, procedure["code"], agency["code"])

    response = await client.get("/api/v1/dossiers", headers=alice.headers)

    assert response.json()["total"] == 1
    assert [d["code"] for d in response.json()["items"]] == [mine["code"]]


# -- agencies -------------------------------------------------------------------------------


@pytest.fixture
async def two_agencies(client: AsyncClient) -> tuple[dict[str, Any], str]:
    """A new dossier at agency Y, and the code of agency X that receives the same procedure."""
    procedure, _ = await receiving_pair(client)
    agencies = (
        await client.get("/api/v1/agencies", params={"procedure": procedure["code"], "size": 2})
    ).json()["items"]
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agencies[1]["code"])
    return dossier, agencies[0]["code"]


AGENCY_REQUESTS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("read", "GET", "", None),
    ("events", "GET", "/events", None),
    ("ack", "POST", "/ack", None),
    ("transition", "POST", "/transitions", {"to_status": 2}),
]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [r[1:] for r in AGENCY_REQUESTS],
    ids=[r[0] for r in AGENCY_REQUESTS],
)
async def test_agency_cannot_touch_another_agencys_dossier(
    client: AsyncClient,
    settings: Settings,
    two_agencies: tuple[dict[str, Any], str],
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    dossier, agency_x = two_agencies
    headers = agency_headers(settings, agency_x)
    url = "/api/v1/agency/dossiers/{}" + suffix

    response = await client.request(method, url.format(dossier["code"]), json=body, headers=headers)
    unknown = await client.request(method, url.format(UNKNOWN_CODE), json=body, headers=headers)

    same_not_found(response, unknown, dossier["code"])
    owner_headers = agency_headers(settings, dossier["agency_code"])
    current = await client.get(f"/api/v1/agency/dossiers/{dossier['code']}", headers=owner_headers)
    assert current.json() == dossier
    allowed = await client.request(
        method, url.format(dossier["code"]), json=body, headers=owner_headers
    )
    assert allowed.status_code == 200, allowed.text


async def test_agency_inbox_holds_only_its_own_dossiers(
    client: AsyncClient, settings: Settings, two_agencies: tuple[dict[str, Any], str]
) -> None:
    dossier, agency_x = two_agencies

    theirs = await client.get(
        "/api/v1/agency/dossiers",
        params={"include_acknowledged": "true"},
        headers=agency_headers(settings, agency_x),
    )
    own = await client.get(
        "/api/v1/agency/dossiers", headers=agency_headers(settings, dossier["agency_code"])
    )

    assert theirs.status_code == 200
    assert theirs.json()["total"] == 0
    assert own.json()["items"] == [dossier]


# -- credentials ----------------------------------------------------------------------------


CITIZEN_ENDPOINTS = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/dossiers"),
    ("POST", "/api/v1/dossiers"),
    ("GET", f"/api/v1/dossiers/{UNKNOWN_CODE}"),
    ("POST", f"/api/v1/dossiers/{UNKNOWN_CODE}/withdraw"),
]


@pytest.mark.parametrize(
    "authorization", [None, "Basic dXNlcjpwYXNz", "Bearer"], ids=["none", "basic", "empty"]
)
async def test_missing_bearer_token_is_not_authenticated(
    client: AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    for method, url in CITIZEN_ENDPOINTS:
        response = await client.request(method, url, headers=headers)
        assert_error(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"


def _token(secret: str, **claims: Any) -> str:
    claims.setdefault("exp", datetime.now(UTC) + timedelta(hours=1))
    return jwt.encode({"kind": "citizen", **claims}, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda _s, _id: "garbage",
        lambda _s, _id: "a.b.c",
        lambda _s, account_id: _token("another-secret-of-32-bytes-or-more!", sub=str(account_id)),
        lambda s, account_id: _token(
            s.secret_key, sub=str(account_id), exp=datetime.now(UTC) - timedelta(minutes=1)
        ),
        lambda s, _id: _token(s.secret_key, sub="not-a-number"),
        lambda s, _id: _token(s.secret_key),
        lambda _s, account_id: jwt.encode({"sub": str(account_id)}, key=None, algorithm="none"),
        # Signed with the portal's secret, but not as the portal issues them.
        lambda s, account_id: jwt.encode(
            {"kind": "citizen", "sub": str(account_id)}, s.secret_key, algorithm="HS256"
        ),
        lambda s, _id: _token(s.secret_key, sub="9" * 30),
        lambda s, _id: _token(s.secret_key, sub=str(2**63)),
    ],
    ids=[
        "garbage",
        "three-parts",
        "other-secret",
        "expired",
        "bad-subject",
        "no-subject",
        "alg-none",
        "no-expiry",
        "30-digit-subject",
        "subject-past-bigint",
    ],
)
async def test_bad_bearer_token_is_an_invalid_token(
    client: AsyncClient, settings: Settings, make_token: Callable[[Settings, int], str]
) -> None:
    citizen = await login(client)
    headers = {"Authorization": f"Bearer {make_token(settings, citizen.account_id)}"}

    for method, url in CITIZEN_ENDPOINTS:
        response = await client.request(method, url, headers=headers)
        assert_error(response, 401, "invalid_token")


async def test_token_of_the_right_secret_is_accepted(
    client: AsyncClient, settings: Settings
) -> None:
    citizen = await login(client)
    headers = {
        "Authorization": f"Bearer {_token(settings.secret_key, sub=str(citizen.account_id))}"
    }

    response = await client.get("/api/v1/me", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["identifier"] == citizen.identifier


AGENCY = "000.00.01.H01"
OTHER_AGENCY = "000.00.02.H01"


@pytest.mark.parametrize(
    "make_key",
    [
        lambda _s: None,
        lambda _s: "",
        lambda _s: AGENCY,
        lambda _s: f"{AGENCY}:{'0' * 32}",
        lambda s: agency_key(s, AGENCY)[:-1] + ("0" if agency_key(s, AGENCY)[-1] != "0" else "1"),
        lambda s: f"{OTHER_AGENCY}:{agency_key(s, AGENCY).rpartition(':')[2]}",
        lambda s: agency_key(s.model_copy(update={"secret_key": "another"}), AGENCY),
    ],
    ids=["missing", "empty", "no-mac", "zero-mac", "one-digit-off", "swapped-code", "other-secret"],
)
async def test_bad_agency_key_is_refused(
    client: AsyncClient, settings: Settings, make_key: Callable[[Settings], str | None]
) -> None:
    key = make_key(settings)
    headers = {"X-Agency-Key": key} if key is not None else {}

    for method, url in [
        ("GET", "/api/v1/agency/dossiers"),
        ("GET", f"/api/v1/agency/dossiers/{UNKNOWN_CODE}"),
        ("POST", f"/api/v1/agency/dossiers/{UNKNOWN_CODE}/ack"),
    ]:
        response = await client.request(method, url, headers=headers)
        assert_error(response, 401, "invalid_agency_key", field="X-Agency-Key")


async def test_citizen_token_does_not_open_the_back_office(client: AsyncClient) -> None:
    citizen = await login(client)

    response = await client.get("/api/v1/agency/dossiers", headers=citizen.headers)

    assert_error(response, 401, "invalid_agency_key")


async def test_agency_key_does_not_open_citizen_routes(
    client: AsyncClient, settings: Settings
) -> None:
    key = agency_key(settings, AGENCY)

    for headers in ({"X-Agency-Key": key}, {"Authorization": f"Bearer {key}"}):
        response = await client.get("/api/v1/dossiers", headers=headers)
        assert response.status_code == 401, response.text
