"""The procedure catalogue through HTTP: listing, paging, search, filters, fields, agencies."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.support.factories import assert_error

PROCEDURES = "/api/v1/procedures"
BIRTH_REGISTRATION = "Đăng ký khai sinh"
LEVELS = ("central", "province", "commune")
PROCEDURE_KEYS = {
    "code",
    "name",
    "field",
    "field_name",
    "agency_level",
    "processing_time",
    "processing_unit",
    "fees",
    "online_level",
}


async def get_json(client: AsyncClient, url: str, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def all_procedures(client: AsyncClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = await get_json(client, PROCEDURES, size=200, page=page, **params)
        items += data["items"]
        if len(items) >= data["total"] or not data["items"]:
            assert len(items) == data["total"]
            return items
        page += 1


async def search_names(client: AsyncClient, query: str) -> list[str]:
    return [p["name"] for p in await all_procedures(client, q=query)]


async def test_listing_is_a_page_of_procedures(client: AsyncClient) -> None:
    data = await get_json(client, PROCEDURES)

    assert set(data) == {"items", "total", "page", "size"}
    assert data["page"] == 1
    assert data["size"] == 20
    assert len(data["items"]) == 20
    assert data["total"] >= 300


async def test_catalogue_has_at_least_300_procedures_across_15_fields(
    client: AsyncClient,
) -> None:
    procedures = await all_procedures(client)

    assert len(procedures) >= 300
    assert len({p["code"] for p in procedures}) == len(procedures)
    assert len({p["field"] for p in procedures}) >= 15
    assert {p["agency_level"] for p in procedures} == set(LEVELS)


async def test_pages_do_not_overlap_and_cover_the_total(client: AsyncClient) -> None:
    first = await get_json(client, PROCEDURES, size=50, page=1)
    total = first["total"]
    pages = -(-total // 50)
    codes: list[str] = []
    for page in range(1, pages + 1):
        data = await get_json(client, PROCEDURES, size=50, page=page)
        assert data["total"] == total
        assert data["page"] == page
        assert data["size"] == 50
        assert len(data["items"]) == (50 if page < pages else total - 50 * (pages - 1))
        codes += [p["code"] for p in data["items"]]
    past_the_end = await get_json(client, PROCEDURES, size=50, page=pages + 1)

    assert len(codes) == len(set(codes)) == total
    assert past_the_end["items"] == []
    assert past_the_end["total"] == total
    assert {p["code"] for p in await all_procedures(client)} == set(codes)


async def test_procedure_json_has_the_documented_fields(client: AsyncClient) -> None:
    procedures = await all_procedures(client)
    with_fees = [p for p in procedures if p["fees"]]
    assert with_fees, "no procedure with fees"

    for procedure in procedures:
        assert set(procedure) == PROCEDURE_KEYS, procedure
        assert procedure["agency_level"] in LEVELS
        assert procedure["processing_unit"] in ("working_day", "working_hour")
        assert procedure["online_level"] in ("full", "partial")
        assert isinstance(procedure["processing_time"], int)
        assert procedure["processing_time"] > 0
        for fee in procedure["fees"]:
            assert set(fee) == {"code", "name", "amount"}
            assert isinstance(fee["amount"], int)
            assert fee["amount"] >= 0
            assert fee["name"]
    detail = await get_json(client, f"{PROCEDURES}/{with_fees[0]['code']}")
    assert detail == with_fees[0]


async def test_search_finds_birth_registration_with_or_without_diacritics(
    client: AsyncClient,
) -> None:
    plain = await search_names(client, "khai sinh")
    folded = await search_names(client, "dang ky khai sinh")
    accented = await search_names(client, "đăng ký khai sinh")
    shouted = await search_names(client, "ĐĂNG KÝ KHAI SINH")

    assert BIRTH_REGISTRATION in plain
    assert BIRTH_REGISTRATION in folded
    assert folded == accented == shouted
    assert set(folded) <= set(plain)
    assert all("khai sinh" in name.lower() for name in plain)


async def test_search_by_code_finds_the_procedure(client: AsyncClient) -> None:
    some = (await get_json(client, PROCEDURES, size=1, page=7))["items"][0]

    found = await all_procedures(client, q=some["code"])

    assert some in found


async def test_search_for_nothing_known_is_an_empty_page(client: AsyncClient) -> None:
    data = await get_json(client, PROCEDURES, q="zzzz không có thủ tục này")

    assert data["items"] == []
    assert data["total"] == 0


async def test_field_filter_lists_exactly_that_field(client: AsyncClient) -> None:
    fields = await get_json(client, "/api/v1/fields")
    field = max(fields, key=lambda f: f["procedures"])

    procedures = await all_procedures(client, field=field["code"])

    assert len(procedures) == field["procedures"] > 0
    assert {p["field"] for p in procedures} == {field["code"]}
    assert {p["field_name"] for p in procedures} == {field["name"]}


async def test_level_filter_partitions_the_catalogue(client: AsyncClient) -> None:
    total = (await get_json(client, PROCEDURES, size=1))["total"]
    counts = {}
    for level in LEVELS:
        procedures = await all_procedures(client, agency_level=level)
        assert {p["agency_level"] for p in procedures} == {level}
        counts[level] = len(procedures)

    assert sum(counts.values()) == total


async def test_filters_combine(client: AsyncClient) -> None:
    found = await all_procedures(client, q="khai sinh", agency_level="central")

    assert found
    assert all(p["agency_level"] == "central" for p in found)
    assert all("khai sinh" in p["name"].lower() for p in found)


async def test_unknown_procedure_is_404_with_the_error_body(client: AsyncClient) -> None:
    response = await client.get(f"{PROCEDURES}/9.999999")

    assert_error(response, 404, "procedure_not_found", field="code")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"agency_level": "district"}, "agency_level"),
        ({"size": 201}, "size"),
        ({"page": 0}, "page"),
    ],
)
async def test_invalid_listing_parameters_are_refused(
    client: AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get(PROCEDURES, params=params)

    assert_error(response, 422, "invalid_payload", field=field)


async def test_field_counts_sum_to_the_number_of_procedures(client: AsyncClient) -> None:
    fields = await get_json(client, "/api/v1/fields")
    procedures = await all_procedures(client)

    assert len(fields) >= 15
    assert sum(f["procedures"] for f in fields) == len(procedures)
    for field in fields:
        assert set(field) == {"code", "name", "procedures"}
        assert field["procedures"] == sum(1 for p in procedures if p["field"] == field["code"])


async def test_there_are_34_provinces(client: AsyncClient) -> None:
    provinces = await get_json(client, "/api/v1/provinces")

    assert len(provinces) == 34
    assert len({p["code"] for p in provinces}) == 34
    assert any(p["name"].endswith("Hà Nội") for p in provinces)
    for province in provinces:
        assert set(province) == {"code", "name", "codename"}


async def test_agencies_of_a_procedure_in_a_province_are_exactly_those_receiving_it(
    client: AsyncClient,
) -> None:
    procedure = (await get_json(client, PROCEDURES, q="dang ky khai sinh"))["items"][0]
    assert procedure["agency_level"] == "commune"
    province = 1

    receiving = await get_json(
        client, "/api/v1/agencies", procedure=procedure["code"], province=province, size=200
    )
    in_province = await get_json(client, "/api/v1/agencies", province=province, size=200)
    assert in_province["total"] == len(in_province["items"])

    expected = {
        a["code"]
        for a in in_province["items"]
        if a["level"] == procedure["agency_level"] and procedure["field"] in a["field_codes"]
    }
    assert receiving["items"]
    assert {a["code"] for a in receiving["items"]} == expected
    assert receiving["total"] == len(expected)
    assert len(expected) < len(in_province["items"])
    for agency in receiving["items"]:
        assert set(agency) == {"code", "name", "level", "province_code", "field_codes"}
        assert agency["province_code"] == province


async def test_central_procedure_is_received_by_ministries_only(client: AsyncClient) -> None:
    procedure = (await get_json(client, PROCEDURES, agency_level="central", size=1))["items"][0]

    agencies = await get_json(client, "/api/v1/agencies", procedure=procedure["code"], size=200)

    assert agencies["items"]
    for agency in agencies["items"]:
        assert agency["level"] == "central"
        assert agency["province_code"] is None
        assert procedure["field"] in agency["field_codes"]


async def test_agencies_of_an_unknown_procedure_is_404(client: AsyncClient) -> None:
    response = await client.get("/api/v1/agencies", params={"procedure": "9.999999"})

    assert_error(response, 404, "procedure_not_found")


async def test_agency_level_filter(client: AsyncClient) -> None:
    for level in LEVELS:
        data = await get_json(client, "/api/v1/agencies", level=level, size=200)
        assert data["total"] > 0
        assert {a["level"] for a in data["items"]} == {level}
