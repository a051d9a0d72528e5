"""Log-in (the VNeID stand-in) and the caller's account, through HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import DEFAULT_NOW
from tests.support.factories import assert_error, instant, login, new_pin

LOGIN = "/api/v1/auth/citizen-login"


async def post_login(client: AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(LOGIN, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_first_login_of_a_valid_pin_creates_the_account(client: AsyncClient) -> None:
    pin = new_pin("079")
    data = await post_login(
        client, identifier=pin, full_name="Trần Thị Bình", phone="0912345678", email="b@example.vn"
    )

    assert data["created"] is True
    assert data["token_type"] == "bearer"
    assert data["access_token"]
    assert instant(data["expires_at"]) > DEFAULT_NOW
    account = data["account"]
    assert account["kind"] == "citizen"
    assert account["identifier"] == pin
    assert account["full_name"] == "Trần Thị Bình"
    assert account["phone"] == "0912345678"
    assert account["email"] == "b@example.vn"
    assert instant(account["created_at"]) == DEFAULT_NOW


async def test_second_login_returns_the_same_account_without_creating_one(
    client: AsyncClient,
) -> None:
    pin = new_pin()
    first = await post_login(client, identifier=pin, full_name="Lê Văn Cường")

    again = await post_login(client, identifier=pin)
    renamed = await post_login(client, identifier=pin, full_name="Someone Else")

    assert again["created"] is False
    assert again["account"] == first["account"]
    # A later log-in does not overwrite the account created by the first.
    assert renamed["created"] is False
    assert renamed["account"] == first["account"]


async def test_racing_first_logins_create_one_account(client: AsyncClient) -> None:
    pin = new_pin()

    results = await asyncio.gather(
        *(post_login(client, identifier=pin, full_name="Võ Thị Sáu") for _ in range(5))
    )

    assert sorted(r["created"] for r in results) == [False, False, False, False, True]
    assert len({r["account"]["id"] for r in results}) == 1


@pytest.mark.parametrize(
    "identifier",
    [
        "00109000012",  # 11 digits
        "0010900001234",  # 13 digits
        "00109000012a",  # a letter
        "001 90000123",  # a space
        "003090000123",  # 003 is no province code
        "000090000123",
        "",
    ],
)
async def test_invalid_personal_identification_numbers_are_refused(
    client: AsyncClient, identifier: str
) -> None:
    response = await client.post(LOGIN, json={"identifier": identifier, "full_name": "Nguyễn An"})

    assert_error(response, 422, "invalid_identifier", field="identifier")


async def test_first_login_without_full_name_is_refused_and_creates_nothing(
    client: AsyncClient,
) -> None:
    pin = new_pin()

    response = await client.post(LOGIN, json={"identifier": pin})

    assert_error(response, 422, "full_name_required", field="full_name")
    created = await post_login(client, identifier=pin, full_name="Phạm Minh Đức")
    assert created["created"] is True


@pytest.mark.parametrize("tax_code", ["0101234567", "0101234567-001"])
async def test_business_logs_in_with_a_tax_code(client: AsyncClient, tax_code: str) -> None:
    data = await post_login(
        client, identifier=tax_code, kind="business", full_name="Công ty TNHH Thương mại An"
    )

    assert data["created"] is True
    assert data["account"]["kind"] == "business"
    assert data["account"]["identifier"] == tax_code
    again = await post_login(client, identifier=tax_code, kind="business")
    assert again["created"] is False
    assert again["account"]["id"] == data["account"]["id"]


@pytest.mark.parametrize("tax_code", ["010123456", "0101234567-01", "0101234567001", "01012345ab"])
async def test_malformed_tax_codes_are_refused(client: AsyncClient, tax_code: str) -> None:
    response = await client.post(
        LOGIN, json={"identifier": tax_code, "kind": "business", "full_name": "Công ty"}
    )

    assert_error(response, 422, "invalid_identifier", field="identifier")


async def test_personal_identification_number_cannot_log_in_as_a_business(
    client: AsyncClient,
) -> None:
    pin = new_pin()
    await login(client, pin)

    for body in (
        {"identifier": pin, "kind": "business"},
        {"identifier": new_pin(), "kind": "business", "full_name": "Công ty"},
    ):
        response = await client.post(LOGIN, json=body)
        assert_error(response, 422, "invalid_identifier", field="identifier")


async def test_tax_code_cannot_log_in_as_a_citizen(client: AsyncClient) -> None:
    response = await client.post(LOGIN, json={"identifier": "0101234567", "full_name": "An"})

    assert_error(response, 422, "invalid_identifier", field="identifier")


async def test_unknown_account_kind_is_an_invalid_payload(client: AsyncClient) -> None:
    response = await client.post(
        LOGIN, json={"identifier": new_pin(), "kind": "robot", "full_name": "An"}
    )

    assert_error(response, 422, "invalid_payload", field="kind")


async def test_malformed_phone_is_an_invalid_payload(client: AsyncClient) -> None:
    response = await client.post(
        LOGIN, json={"identifier": new_pin(), "full_name": "An", "phone": "call me"}
    )

    assert_error(response, 422, "invalid_payload", field="phone")


async def test_me_returns_the_logged_in_account(client: AsyncClient) -> None:
    pin = new_pin()
    data = await post_login(client, identifier=pin, full_name="Hoàng Thu Hà")
    other = await login(client)

    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {data['access_token']}"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == data["account"]
    mine = await client.get("/api/v1/me", headers=other.headers)
    assert mine.json()["id"] == other.account_id != data["account"]["id"]


async def test_business_token_reads_its_own_account(client: AsyncClient) -> None:
    business = await login(client, "0312345678", kind="business")

    response = await client.get("/api/v1/me", headers=business.headers)

    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "business"
    assert response.json()["identifier"] == "0312345678"


async def test_me_without_a_token_is_unauthenticated(client: AsyncClient) -> None:
    response = await client.get("/api/v1/me")

    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
