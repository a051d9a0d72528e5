"""Tests for the deterministic catalogue generator (app.catalogue.generator)."""

from __future__ import annotations

import collections
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from vietnam_provinces import Province, Ward

from app.catalogue.generator import (
    FIELDS,
    AgencySpec,
    ProcedureSpec,
    generate_agencies,
    generate_procedures,
    handles,
)

PROCEDURE_CODE = re.compile(r"^\d\.\d{6}$")
AGENCY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[GH]\d{2}$")
FEE_CODE = re.compile(r"^(LP|PHI)-(\d\.\d{6})-(\d+)$")
PLACEHOLDER = re.compile(r"^(thủ tục|procedure|lĩnh vực|field|agency|cơ quan)\s*\d+$", re.I)

SEEDS = (0, 1, 42, 2025)
REPO_ROOT = Path(__file__).resolve().parents[2]
PROVINCE_CODES = frozenset(int(p.code) for p in Province.iter_all())
FIELD_CODES = frozenset(f.code for f in FIELDS)


def _fingerprint(seed: int) -> str:
    payload = repr((FIELDS, generate_procedures(seed), generate_agencies(seed)))
    return hashlib.sha256(payload.encode()).hexdigest()


def _by_name(procedures: list[ProcedureSpec], name: str) -> ProcedureSpec:
    matches = [p for p in procedures if p.name == name]
    assert len(matches) == 1, name
    return matches[0]


def _assert_procedures_valid(procedures: list[ProcedureSpec]) -> None:
    codes = [p.code for p in procedures]
    assert len(codes) == len(set(codes))
    for procedure in procedures:
        assert PROCEDURE_CODE.match(procedure.code), procedure.code
        assert procedure.field_code in FIELD_CODES
        assert procedure.agency_level in ("central", "province", "commune")
        assert procedure.processing_unit in ("working_day", "working_hour")
        assert procedure.online_level in ("full", "partial")
        assert isinstance(procedure.processing_time, int)
        assert procedure.processing_time > 0
        fee_codes = [fee.code for fee in procedure.fees]
        assert len(fee_codes) == len(set(fee_codes)), procedure.code
        for fee in procedure.fees:
            match = FEE_CODE.match(fee.code)
            assert match is not None, fee.code
            assert match.group(2) == procedure.code
            assert isinstance(fee.amount, int)
            assert fee.amount >= 0
            assert fee.name.startswith(("Lệ phí ", "Phí ")), fee.name
            assert (match.group(1) == "LP") == fee.name.startswith("Lệ phí ")


def _assert_agencies_valid(agencies: list[AgencySpec]) -> None:
    codes = [a.code for a in agencies]
    assert len(codes) == len(set(codes))
    for agency in agencies:
        assert AGENCY_CODE.match(agency.code), agency.code
        assert agency.name == agency.name.strip()
        assert "  " not in agency.name
        assert agency.field_codes, agency.code
        assert set(agency.field_codes) <= FIELD_CODES
        assert len(agency.field_codes) == len(set(agency.field_codes))
        if agency.level == "central":
            assert agency.province_code is None
            assert agency.code.startswith("000.00.00.G")
        else:
            assert agency.province_code in PROVINCE_CODES
            assert agency.code[-3] == "H"
        if agency.level == "commune":
            assert agency.name.startswith("Ủy ban nhân dân ")


# ---------------------------------------------------------------------------------- counts


def test_counts() -> None:
    procedures = generate_procedures()
    assert len(procedures) >= 300
    fields_with_procedures = {p.field_code for p in procedures}
    assert len(fields_with_procedures) >= 15
    assert fields_with_procedures == FIELD_CODES
    assert len(FIELDS) == len(FIELD_CODES)
    assert all(f.name and f.code == f.code.strip() for f in FIELDS)

    agencies = generate_agencies()
    by_level = collections.Counter(a.level for a in agencies)
    assert 8 <= by_level["central"] <= 14
    assert by_level["commune"] == 3 * 34
    provinces = {a.province_code for a in agencies if a.level != "central"}
    assert provinces == PROVINCE_CODES
    assert len(provinces) == 34
    for code in PROVINCE_CODES:
        in_province = [a for a in agencies if a.province_code == code]
        assert sum(a.level == "commune" for a in in_province) == 3
        assert sum(a.level == "province" for a in in_province) >= 10


def test_levels_units_and_online_mix() -> None:
    procedures = generate_procedures()
    levels = collections.Counter(p.agency_level for p in procedures)
    assert set(levels) == {"central", "province", "commune"}
    assert {p.processing_unit for p in procedures} == {"working_day", "working_hour"}
    online = collections.Counter(p.online_level for p in procedures)
    assert 0.3 <= online["full"] / len(procedures) <= 0.6
    free = sum(1 for p in procedures if sum(f.amount for f in p.fees) == 0)
    assert free >= len(procedures) // 4
    assert any(len(p.fees) >= 2 for p in procedures)
    hours = {p.processing_time for p in procedures if p.processing_unit == "working_hour"}
    assert hours <= {4, 8, 12, 16, 24, 48}


def test_field_levels_are_realistic() -> None:
    procedures = generate_procedures()
    per_field: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for p in procedures:
        per_field[p.field_code][p.agency_level] += 1
    for code in ("ho_tich", "cu_tru", "chung_thuc"):
        assert per_field[code].most_common(1)[0][0] == "commune", code
    for code in ("dat_dai", "doanh_nghiep", "giay_phep_lai_xe", "kham_chua_benh", "viec_lam"):
        assert per_field[code].most_common(1)[0][0] == "province", code
    assert per_field["lanh_su"].most_common(1)[0][0] == "central"


def test_reference_procedures() -> None:
    procedures = generate_procedures()
    khai_sinh = _by_name(procedures, "Đăng ký khai sinh")
    assert (khai_sinh.field_code, khai_sinh.agency_level) == ("ho_tich", "commune")
    assert (khai_sinh.processing_time, khai_sinh.processing_unit) == (8, "working_hour")
    ket_hon = _by_name(procedures, "Đăng ký kết hôn")
    assert ket_hon.agency_level == "commune"
    thuong_tru = _by_name(procedures, "Đăng ký thường trú")
    assert (thuong_tru.field_code, thuong_tru.processing_time) == ("cu_tru", 7)
    lltp = _by_name(procedures, "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam")
    assert lltp.agency_level == "province"
    assert lltp.fees[0].amount == 200_000
    gpxd = _by_name(procedures, "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ")
    assert gpxd.field_code == "xay_dung"
    assert 15 <= gpxd.processing_time <= 20
    dntn = _by_name(procedures, "Đăng ký thành lập doanh nghiệp tư nhân")
    assert (dntn.agency_level, dntn.processing_time, len(dntn.fees)) == ("province", 3, 2)
    gplx = _by_name(procedures, "Cấp đổi giấy phép lái xe do ngành Giao thông vận tải cấp")
    assert gplx.agency_level == "province"
    assert gplx.fees[0].amount == 135_000


# ------------------------------------------------------------------------------- validity


@pytest.mark.parametrize("seed", SEEDS)
def test_procedures_valid(seed: int) -> None:
    _assert_procedures_valid(generate_procedures(seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_agencies_valid(seed: int) -> None:
    _assert_agencies_valid(generate_agencies(seed))


def test_agency_code_scheme() -> None:
    agencies = generate_agencies()
    provinces = sorted(PROVINCE_CODES)
    for agency in agencies:
        if agency.level == "central":
            continue
        assert agency.province_code is not None
        assert agency.code.endswith(f".H{provinces.index(agency.province_code) + 1:02d}")
        if agency.level == "province":
            assert agency.code.startswith("000.00.")
        else:
            assert agency.code[3:10] == ".00.99."
    names = {a.name for a in agencies}
    assert {"Sở Tư pháp Thành phố Hà Nội", "Công an tỉnh Cao Bằng", "Bộ Công an"} <= names
    assert "Ủy ban nhân dân Phường Ba Đình" in names


def test_names_are_realistic() -> None:
    procedures = generate_procedures()
    seen: set[tuple[str, str, str]] = set()
    for p in procedures:
        assert p.name
        assert p.name == p.name.strip()
        assert "  " not in p.name
        assert not p.name.replace(" ", "").isdigit()
        assert not PLACEHOLDER.match(p.name), p.name
        assert p.name[0].isupper()
        key = (p.field_code, p.agency_level, p.name)
        assert key not in seen, key
        seen.add(key)
    for agency in generate_agencies():
        assert not PLACEHOLDER.match(agency.name)
        assert not agency.name.replace(" ", "").isdigit()


# ---------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_same_output(seed: int) -> None:
    assert generate_procedures(seed) == generate_procedures(seed)
    assert generate_agencies(seed) == generate_agencies(seed)
    assert generate_agencies(seed, 5) == generate_agencies(seed, 5)


def test_deterministic_across_processes() -> None:
    script = (
        "from tests.catalogue.test_generator import _fingerprint;"
        "print(_fingerprint(0), _fingerprint(7))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == [_fingerprint(0), _fingerprint(7)]


def test_other_seed_varies_values_not_identity() -> None:
    base = generate_procedures(0)
    other = generate_procedures(1)
    assert [p.code for p in base] == [p.code for p in other]
    assert [(p.name, p.field_code, p.agency_level) for p in base] == [
        (p.name, p.field_code, p.agency_level) for p in other
    ]
    assert [[f.code for f in p.fees] for p in base] == [[f.code for f in p.fees] for p in other]
    assert any(a.processing_time != b.processing_time for a, b in zip(base, other, strict=True))
    assert any(a.online_level != b.online_level for a, b in zip(base, other, strict=True))
    assert any(a.fees != b.fees for a, b in zip(base, other, strict=True))

    communes_0 = {a.code for a in generate_agencies(0) if a.level == "commune"}
    communes_1 = {a.code for a in generate_agencies(1) if a.level == "commune"}
    assert communes_0 != communes_1


def test_ward_keeps_its_code_across_seeds() -> None:
    everything = {
        (a.province_code, a.name): a.code
        for a in generate_agencies(0, 10_000)
        if a.level == "commune"
    }
    for seed in SEEDS:
        for agency in generate_agencies(seed):
            if agency.level == "commune":
                assert everything[(agency.province_code, agency.name)] == agency.code


# ------------------------------------------------------------------------------- coverage


@pytest.mark.parametrize(("seed", "communes"), [(0, 3), (1, 1), (42, 3), (2025, 7)])
def test_every_procedure_submittable_in_every_province(seed: int, communes: int) -> None:
    procedures = generate_procedures(seed)
    agencies = generate_agencies(seed, communes)
    central = [a for a in agencies if a.level == "central"]
    local: dict[int, list[AgencySpec]] = collections.defaultdict(list)
    for agency in agencies:
        if agency.province_code is not None:
            local[agency.province_code].append(agency)
    assert set(local) == PROVINCE_CODES
    for procedure in procedures:
        if procedure.agency_level == "central":
            assert any(handles(a, procedure) for a in central), procedure.name
            continue
        for province_code in PROVINCE_CODES:
            assert any(handles(a, procedure) for a in local[province_code]), (
                procedure.name,
                province_code,
            )


def test_agency_fields_have_procedures_at_its_level() -> None:
    offered = {(p.field_code, p.agency_level) for p in generate_procedures()}
    for agency in generate_agencies():
        for field_code in agency.field_codes:
            assert (field_code, agency.level) in offered, (agency.name, field_code)


def test_handles() -> None:
    procedures = generate_procedures()
    agencies = generate_agencies()
    khai_sinh = _by_name(procedures, "Đăng ký khai sinh")
    commune = next(a for a in agencies if a.level == "commune")
    justice = next(a for a in agencies if a.name == "Sở Tư pháp Thành phố Hà Nội")
    police = next(a for a in agencies if a.name == "Công an Thành phố Hà Nội")
    assert handles(commune, khai_sinh)
    assert not handles(justice, khai_sinh)
    lltp = _by_name(procedures, "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam")
    assert handles(police, lltp)
    assert not handles(commune, lltp)
    for agency in agencies:
        for procedure in procedures:
            expected = (
                agency.level == procedure.agency_level
                and procedure.field_code in agency.field_codes
            )
            assert handles(agency, procedure) is expected


def test_communes_per_province_bounds() -> None:
    with pytest.raises(ValueError, match="communes_per_province"):
        generate_agencies(0, 0)
    one = generate_agencies(3, 1)
    assert sum(a.level == "commune" for a in one) == 34
    everything = generate_agencies(0, 10_000)
    communes = [a for a in everything if a.level == "commune"]
    assert len(communes) == sum(1 for _ in Ward.iter_all())
    _assert_agencies_valid(everything)


def test_fast() -> None:
    start = time.perf_counter()
    generate_procedures(11)
    generate_agencies(11)
    generate_agencies(12, 10_000)
    assert time.perf_counter() - start < 1.0
