"""Contract items: dates, identities, and the history a whole-dossier record tells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.calendar import WorkingCalendar
from app.dossiers.deadlines import ProcessingTime
from app.dossiers.states import Status
from app.sync.contract import DossierRecord, format_contract_date, parse_contract_date
from app.sync.history import replay
from app.sync.items import item_key, record_entries, record_time

BASE: dict[str, Any] = {
    "MaHoSo": "001.00.99.H01-260302-0001",
    "MaTTHC": "1.000001",
    "ChuHoSo": "Trần Thị Bình",
    "LoaiDoiTuong": 1,
    "SoDinhDanh": "001190000777",
    "NgayNopHoSo": "20260302080000",
    "KenhThucHien": 1,
}
ACCEPTED = {"NgayTiepNhan": "20260302081500"}
SUPPLEMENT = {
    "DanhSachHoSoBoSung": [{"NgayBoSung": "20260303100000", "NgayTiepNhanBoSung": "20260304090000"}]
}


def test_contract_dates_are_vietnam_time() -> None:
    assert parse_contract_date("20260302080000") == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert parse_contract_date(20260302080000) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert format_contract_date(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) == "20260302080000"


@pytest.mark.parametrize(
    "value", ["2026-03-02", "20260230080000", "2026030208000", "", None, True, "2026030208000x"]
)
def test_malformed_contract_dates_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_contract_date(value)


def test_an_items_identity_is_its_content_not_its_layout() -> None:
    assert item_key("DongBoHoSoMC", {"a": 1, "b": 2}) == item_key("DongBoHoSoMC", {"b": 2, "a": 1})
    assert item_key("DongBoHoSoMC", {"a": 1}) != item_key("CapNhatTienDoHoSoMC", {"a": 1})


@pytest.mark.parametrize(
    ("status", "fields", "told"),
    [
        (1, {}, [1]),
        (2, ACCEPTED, [1, 2]),
        (3, {"NgayKetThucXuLy": "20260302090000"}, [1, 3]),
        (4, ACCEPTED, [1, 2, 4]),
        (4, ACCEPTED | SUPPLEMENT, [1, 2, 4, 5, 4]),
        (5, ACCEPTED | {"DanhSachHoSoBoSung": [{"NgayBoSung": "20260303100000"}]}, [1, 2, 4, 5]),
        (4, SUPPLEMENT, [1, 5, 4]),  # completed at intake, never formally accepted
        (6, ACCEPTED | {"ThoiDiemCapNhat": "20260303110000"}, [1, 2, 4, 6]),
        (7, {}, [1, 7]),
        (8, {"NgayKetThucXuLy": "20260302100000"}, [1, 7, 8]),
        (8, ACCEPTED | {"NgayKetThucXuLy": "20260305100000"}, [1, 2, 4, 8]),
        (9, ACCEPTED | {"NgayKetThucXuLy": "20260305100000"}, [1, 2, 4, 9]),
        (
            10,
            ACCEPTED
            | SUPPLEMENT
            | {"NgayKetThucXuLy": "20260305100000", "NgayTra": "20260306080000"},
            [1, 2, 4, 5, 4, 9, 10],
        ),
    ],
)
def test_a_record_tells_a_legal_history_that_ends_in_its_status(
    status: int, fields: dict[str, Any], told: list[int]
) -> None:
    record = DossierRecord.model_validate(BASE | fields | {"TrangThaiHoSo": status})
    entries = record_entries(record, "k", "001.00.99.H01")
    assert [int(e.status) for e in entries] == told

    result = replay(
        entries, calendar=WorkingCalendar(), processing=ProcessingTime(3, "working_day")
    )
    assert not result.refused
    assert result.progress is not None
    assert result.progress.status is Status(status)


def test_a_records_time_is_its_latest_date_unless_it_says_when_it_was_taken() -> None:
    record = DossierRecord.model_validate(BASE | ACCEPTED | SUPPLEMENT | {"TrangThaiHoSo": 4})
    assert record_time(record) == parse_contract_date("20260304090000")
    stamped = record.model_copy(update={"ThoiDiemCapNhat": parse_contract_date("20260310080000")})
    assert record_time(stamped) == parse_contract_date("20260310080000")


def test_dates_that_do_not_reach_the_status_are_not_a_legal_history() -> None:
    # Resolved, but never accepted: 1 -> 9 is not a move of the status machine.
    record = DossierRecord.model_validate(
        BASE | {"TrangThaiHoSo": 9, "NgayKetThucXuLy": "20260305100000"}
    )
    result = replay(
        record_entries(record, "k", "x"),
        calendar=WorkingCalendar(),
        processing=ProcessingTime(3, "working_day"),
    )
    assert result.refused
