"""Deterministic generator for the portalsim catalogue: fields, procedures and agencies.

Pure: no database, no I/O beyond reading the bundled ``vietnam_provinces`` data. The same
``seed`` always yields identical output, in any process (no global ``random``, no ``hash()``,
no set iteration order).

Procedures
----------
Built from the reference table in :mod:`app.catalogue.procedure_names` (lĩnh vực → thủ tục).

* ``code`` has the national shape ``d.dddddd``. It is derived from a SHA-256 digest of
  ``"<field_code>|<agency_level>|<name>"``: the first digit is ``1`` or ``2`` and the number
  lies in ``000100``–``012999``; a collision moves to the next free number (in table order).
  Codes therefore do not depend on the seed and stay put when unrelated rows are added.
* Seed ``0`` reproduces the table values (processing time, fees, online level) exactly. Any
  other seed perturbs them with a per-procedure ``random.Random("portalsim/<seed>/<code>")``:
  the processing time moves at most one step along a ladder of realistic values in the same
  unit, each non-zero fee moves at most one step along a ladder of realistic VND amounts, and
  the online level flips with probability 0.15. Names, fields, levels and the number of fee
  lines never change.
* Fee-line codes are ``"<LP|PHI>-<procedure code>-<n>"`` (``LP`` = lệ phí, ``PHI`` = phí,
  ``n`` = 1-based position of the line), e.g. ``LP-1.001612-1``.

Agencies (two-tier local government after 1 July 2025; districts abolished)
---------------------------------------------------------------------------
Codes follow the national electronic-identifier shape ``aaa.bb.cc.Xnn`` where ``Xnn`` is the
level-1 unit, ``cc`` the level-2 unit, ``bb`` level 3 and ``aaa`` level 4:

* level-1 codes: provinces ``H01``..``H34`` in ascending ``vietnam_provinces`` province code
  (``H01`` = Hà Nội, ..., ``H34`` = Cà Mau); ministries ``G01``..``G13`` in the order of
  ``_MINISTRIES`` below;
* a ministry / central agency: ``000.00.00.Gnn``;
* a provincial department (Sở, Công an, Thuế, Bảo hiểm xã hội): ``000.00.{dd}.Hnn`` with a
  fixed department number ``dd`` (01 Sở Nội vụ, 02 Sở Tư pháp, 03 Sở Tài chính,
  04 Sở Công Thương, 05 Sở Nông nghiệp và Môi trường, 06 Sở Xây dựng,
  07 Sở Khoa học và Công nghệ, 08 Sở Văn hóa, Thể thao và Du lịch, 09 Sở Giáo dục và Đào tạo,
  10 Sở Y tế, 11 Sở Dân tộc và Tôn giáo, 12 Công an, 13 Thuế, 14 Bảo hiểm xã hội);
* a commune-level people's committee (Ủy ban nhân dân xã / phường / đặc khu):
  ``{ppp}.00.99.Hnn`` where level-2 ``99`` groups the commune committees of the province and
  ``ppp`` is the ward's 1-based position among that province's wards sorted by ward code
  (at most 168, so it fits three digits). A ward keeps its code whichever seed selects it.

The provincial public-administration service centre (Trung tâm Phục vụ hành chính công) only
receives dossiers on behalf of the departments and is not a processing agency here.

Seed ``0`` takes the first ``communes_per_province`` wards (by ward code) of each province;
other seeds sample them with ``random.Random("portalsim/<seed>/communes/<province code>")``.
A count larger than a province's number of wards takes all of them.

Every (field, level) pair that has procedures is handled by at least one department kind in
every province, by every selected commune committee, or by a ministry, so any procedure can be
submitted somewhere (checked at import time).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from typing import Final

from vietnam_provinces import Province, Ward

from app.catalogue.procedure_names import (
    FIELD_TABLE,
    AgencyLevel,
    FeeTemplate,
    OnlineLevel,
    ProcedureTemplate,
    ProcessingUnit,
)

__all__ = [
    "FIELDS",
    "AgencyLevel",
    "AgencySpec",
    "FeeLine",
    "Field",
    "OnlineLevel",
    "ProcedureSpec",
    "ProcessingUnit",
    "generate_agencies",
    "generate_procedures",
    "handles",
]


@dataclass(frozen=True, slots=True)
class Field:
    """A field (lĩnh vực) of the procedure catalogue."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class FeeLine:
    code: str
    name: str
    amount: int


@dataclass(frozen=True, slots=True)
class ProcedureSpec:
    code: str
    name: str
    field_code: str
    agency_level: AgencyLevel
    processing_time: int
    processing_unit: ProcessingUnit
    fees: tuple[FeeLine, ...]
    online_level: OnlineLevel


@dataclass(frozen=True, slots=True)
class AgencySpec:
    code: str
    name: str
    level: AgencyLevel
    province_code: int | None
    field_codes: tuple[str, ...]


FIELDS: Final[tuple[Field, ...]] = tuple(Field(f.code, f.name) for f in FIELD_TABLE)
_FIELD_ORDER: Final[dict[str, int]] = {f.code: i for i, f in enumerate(FIELDS)}

# --------------------------------------------------------------------------------------------
# Procedures
# --------------------------------------------------------------------------------------------

_CODE_MIN: Final = 100
_CODE_SPAN: Final = 12_900  # numbers 000100..012999

_DAY_LADDER: Final = (1, 2, 3, 5, 7, 10, 12, 15, 20, 25, 30, 45, 60)
_HOUR_LADDER: Final = (4, 8, 12, 16, 24, 48)
_FEE_LADDER: Final = (
    2_000, 5_000, 8_000, 10_000, 15_000, 20_000, 25_000, 30_000, 50_000, 70_000, 80_000,
    100_000, 135_000, 150_000, 200_000, 250_000, 300_000, 360_000, 400_000, 450_000,
    500_000, 600_000, 650_000, 700_000, 800_000, 1_000_000, 1_200_000, 1_500_000,
    2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000, 4_500_000, 5_000_000,
    7_500_000, 10_000_000, 15_000_000, 20_000_000, 25_000_000,
)  # fmt: skip
_STEPS: Final = (-1, 0, 0, 1)
_ONLINE_FLIP_PROBABILITY: Final = 0.15


def _assign_codes() -> tuple[tuple[str, str, ProcedureTemplate], ...]:
    """(code, field_code, template) for every table row, in table order."""
    taken: set[str] = set()
    rows: list[tuple[str, str, ProcedureTemplate]] = []
    for field_template in FIELD_TABLE:
        for template in field_template.procedures:
            key = f"{field_template.code}|{template.level}|{template.name}".encode()
            digest = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
            prefix = 1 + digest % 2
            offset = (digest // 2) % _CODE_SPAN
            while True:
                code = f"{prefix}.{_CODE_MIN + offset:06d}"
                if code not in taken:
                    break
                offset = (offset + 1) % _CODE_SPAN
            taken.add(code)
            rows.append((code, field_template.code, template))
    return tuple(rows)


_PROCEDURE_ROWS: Final = _assign_codes()


def _nearest_index(ladder: tuple[int, ...], value: int) -> int:
    return min(range(len(ladder)), key=lambda i: (abs(ladder[i] - value), i))


def _step(ladder: tuple[int, ...], value: int, rng: random.Random) -> int:
    index = _nearest_index(ladder, value) + rng.choice(_STEPS)
    return ladder[max(0, min(len(ladder) - 1, index))]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _fee_name(fee: FeeTemplate, procedure_name: str) -> str:
    if fee.name is not None:
        return fee.name
    if fee.kind == "LP":
        return f"Lệ phí {_lower_first(procedure_name)}"
    return f"Phí thẩm định hồ sơ {_lower_first(procedure_name)}"


def _build_procedure(
    code: str, field_code: str, template: ProcedureTemplate, seed: int
) -> ProcedureSpec:
    time = template.time
    online = template.online
    amounts = [fee.amount for fee in template.fees]
    if seed != 0:
        rng = random.Random(f"portalsim/{seed}/{code}")
        ladder = _DAY_LADDER if template.unit == "working_day" else _HOUR_LADDER
        time = _step(ladder, time, rng)
        amounts = [_step(_FEE_LADDER, amount, rng) if amount > 0 else 0 for amount in amounts]
        if rng.random() < _ONLINE_FLIP_PROBABILITY:
            online = "partial" if online == "full" else "full"
    fees = tuple(
        FeeLine(
            code=f"{fee.kind}-{code}-{position}",
            name=_fee_name(fee, template.name),
            amount=amount,
        )
        for position, (fee, amount) in enumerate(zip(template.fees, amounts, strict=True), 1)
    )
    return ProcedureSpec(
        code=code,
        name=template.name,
        field_code=field_code,
        agency_level=template.level,
        processing_time=time,
        processing_unit=template.unit,
        fees=fees,
        online_level=online,
    )


def generate_procedures(seed: int = 0) -> list[ProcedureSpec]:
    """All catalogue procedures, in field order then table order."""
    return [
        _build_procedure(code, field_code, template, seed)
        for code, field_code, template in _PROCEDURE_ROWS
    ]


# --------------------------------------------------------------------------------------------
# Agencies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Department:
    number: int
    name: str  # "{label}" is replaced by "Thành phố Hà Nội" / "tỉnh Cao Bằng"
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Ministry:
    number: int
    name: str
    fields: tuple[str, ...]


_POLICE_FIELDS: Final = (
    "cu_tru", "can_cuoc", "xuat_nhap_canh", "dang_ky_xe", "giay_phep_lai_xe",
    "ly_lich_tu_phap", "phong_chay", "an_ninh_trat_tu",
)  # fmt: skip
_JUSTICE_FIELDS: Final = (
    "ho_tich", "chung_thuc", "nuoi_con_nuoi", "quoc_tich", "cong_chung", "bo_tro_tu_phap",
)  # fmt: skip
_AGRICULTURE_FIELDS: Final = (
    "dat_dai", "moi_truong", "tai_nguyen_nuoc", "trong_trot", "chan_nuoi_thu_y", "thuy_san",
    "lam_nghiep",
)  # fmt: skip
_CONSTRUCTION_FIELDS: Final = ("xay_dung", "nha_o", "kinh_doanh_bds", "duong_bo")
_HEALTH_FIELDS: Final = (
    "kham_chua_benh", "duoc", "an_toan_thuc_pham", "bao_tro_xa_hoi", "tre_em",
)  # fmt: skip
_CULTURE_FIELDS: Final = ("van_hoa", "du_lich", "the_thao", "xuat_ban_in", "quyen_tac_gia")
_SCIENCE_FIELDS: Final = (
    "khoa_hoc_cong_nghe", "tieu_chuan_do_luong", "buu_chinh_vien_thong", "so_huu_tri_tue",
)  # fmt: skip
_HOME_AFFAIRS_FIELDS: Final = ("viec_lam", "lao_dong", "nguoi_co_cong")
_INDUSTRY_TRADE_FIELDS: Final = ("luu_thong_hang_hoa", "thuong_mai_quoc_te", "dien")
_SOCIAL_INSURANCE_FIELDS: Final = ("bao_hiem_xa_hoi", "bao_hiem_y_te")

_DEPARTMENTS: Final = (
    _Department(1, "Sở Nội vụ {label}", _HOME_AFFAIRS_FIELDS),
    _Department(2, "Sở Tư pháp {label}", _JUSTICE_FIELDS),
    _Department(3, "Sở Tài chính {label}", ("doanh_nghiep", "hop_tac_xa", "dau_tu")),
    _Department(4, "Sở Công Thương {label}", _INDUSTRY_TRADE_FIELDS),
    _Department(5, "Sở Nông nghiệp và Môi trường {label}", _AGRICULTURE_FIELDS),
    _Department(6, "Sở Xây dựng {label}", _CONSTRUCTION_FIELDS),
    _Department(7, "Sở Khoa học và Công nghệ {label}", _SCIENCE_FIELDS),
    _Department(8, "Sở Văn hóa, Thể thao và Du lịch {label}", _CULTURE_FIELDS),
    _Department(9, "Sở Giáo dục và Đào tạo {label}", ("giao_duc",)),
    _Department(10, "Sở Y tế {label}", _HEALTH_FIELDS),
    _Department(11, "Sở Dân tộc và Tôn giáo {label}", ("ton_giao",)),
    _Department(12, "Công an {label}", _POLICE_FIELDS),
    _Department(13, "Thuế {label}", ("thue",)),
    _Department(14, "Bảo hiểm xã hội {label}", _SOCIAL_INSURANCE_FIELDS),
)

_MINISTRIES: Final = (
    _Ministry(1, "Bộ Công an", _POLICE_FIELDS),
    _Ministry(2, "Bộ Ngoại giao", ("lanh_su", "ho_tich", "quoc_tich")),
    _Ministry(3, "Bộ Tư pháp", ("chung_thuc", "nuoi_con_nuoi", "cong_chung", "bo_tro_tu_phap")),
    _Ministry(4, "Bộ Tài chính", ("doanh_nghiep", "hop_tac_xa", "dau_tu", "thue")),
    _Ministry(5, "Bảo hiểm xã hội Việt Nam", _SOCIAL_INSURANCE_FIELDS),
    _Ministry(6, "Bộ Nội vụ", _HOME_AFFAIRS_FIELDS),
    _Ministry(7, "Bộ Y tế", _HEALTH_FIELDS),
    _Ministry(8, "Bộ Giáo dục và Đào tạo", ("giao_duc",)),
    _Ministry(9, "Bộ Xây dựng", _CONSTRUCTION_FIELDS),
    _Ministry(10, "Bộ Nông nghiệp và Môi trường", _AGRICULTURE_FIELDS),
    _Ministry(11, "Bộ Công Thương", _INDUSTRY_TRADE_FIELDS),
    _Ministry(12, "Bộ Văn hóa, Thể thao và Du lịch", _CULTURE_FIELDS),
    _Ministry(13, "Bộ Khoa học và Công nghệ", _SCIENCE_FIELDS),
)

_COMMUNE_GROUP: Final = 99


def _fields_at_level(level: AgencyLevel) -> frozenset[str]:
    return frozenset(field_code for _, field_code, t in _PROCEDURE_ROWS if t.level == level)


_LEVEL_FIELDS: Final[dict[AgencyLevel, frozenset[str]]] = {
    "central": _fields_at_level("central"),
    "province": _fields_at_level("province"),
    "commune": _fields_at_level("commune"),
}


def _receivable(candidates: tuple[str, ...], level: AgencyLevel) -> tuple[str, ...]:
    """The candidate fields that have procedures at ``level``, in FIELDS order."""
    present = _LEVEL_FIELDS[level]
    return tuple(sorted((f for f in candidates if f in present), key=_FIELD_ORDER.__getitem__))


_COMMUNE_FIELDS: Final = tuple(sorted(_LEVEL_FIELDS["commune"], key=_FIELD_ORDER.__getitem__))


def _check_tables() -> None:
    known = set(_FIELD_ORDER)
    for unit in (*_DEPARTMENTS, *_MINISTRIES):
        unknown = set(unit.fields) - known
        if unknown:
            raise RuntimeError(f"{unit.name}: unknown field codes {sorted(unknown)}")
    checks: tuple[tuple[AgencyLevel, tuple[_Department | _Ministry, ...]], ...] = (
        ("province", _DEPARTMENTS),
        ("central", _MINISTRIES),
    )
    for level, units in checks:
        covered = {f for unit in units for f in unit.fields}
        missing = _LEVEL_FIELDS[level] - covered
        if missing:
            raise RuntimeError(f"no {level} agency handles {sorted(missing)}")
    numbers = [d.number for d in _DEPARTMENTS]
    if len(set(numbers)) != len(numbers) or max(numbers) >= _COMMUNE_GROUP:
        raise RuntimeError("department numbers must be unique and below the commune group")


_check_tables()


@cache
def _provinces() -> tuple[Province, ...]:
    return tuple(sorted(Province.iter_all(), key=lambda p: int(p.code)))


@cache
def _wards_by_province() -> dict[int, tuple[Ward, ...]]:
    grouped: dict[int, list[Ward]] = {}
    for ward in Ward.iter_all():
        grouped.setdefault(int(ward.province_code), []).append(ward)
    return {
        code: tuple(sorted(wards, key=lambda w: int(w.code))) for code, wards in grouped.items()
    }


def _wards_of(province_code: int) -> tuple[Ward, ...]:
    return _wards_by_province().get(province_code, ())


def _clean(name: str) -> str:
    return " ".join(name.split())


def _province_label(province: Province) -> str:
    name = _clean(province.name)
    return name if name.startswith("Thành phố") else f"tỉnh {name}"


def _select_wards(province_code: int, count: int, seed: int) -> list[tuple[int, Ward]]:
    """(1-based position, ward) of the selected wards, sorted by ward code."""
    indexed = list(enumerate(_wards_of(province_code), 1))
    count = min(count, len(indexed))
    if seed == 0:
        return indexed[:count]
    rng = random.Random(f"portalsim/{seed}/communes/{province_code}")
    return sorted(rng.sample(indexed, count), key=lambda item: item[0])


def generate_agencies(seed: int = 0, communes_per_province: int = 3) -> list[AgencySpec]:
    """Ministries, then per province (ascending code) its departments and commune committees."""
    if communes_per_province < 1:
        raise ValueError("communes_per_province must be at least 1")
    agencies: list[AgencySpec] = []
    for ministry in _MINISTRIES:
        fields = _receivable(ministry.fields, "central")
        if fields:
            agencies.append(
                AgencySpec(
                    code=f"000.00.00.G{ministry.number:02d}",
                    name=ministry.name,
                    level="central",
                    province_code=None,
                    field_codes=fields,
                )
            )
    for province_no, province in enumerate(_provinces(), 1):
        province_code = int(province.code)
        level1 = f"H{province_no:02d}"
        label = _province_label(province)
        for department in _DEPARTMENTS:
            fields = _receivable(department.fields, "province")
            if fields:
                agencies.append(
                    AgencySpec(
                        code=f"000.00.{department.number:02d}.{level1}",
                        name=department.name.format(label=label),
                        level="province",
                        province_code=province_code,
                        field_codes=fields,
                    )
                )
        for position, ward in _select_wards(province_code, communes_per_province, seed):
            agencies.append(
                AgencySpec(
                    code=f"{position:03d}.00.{_COMMUNE_GROUP}.{level1}",
                    name=f"Ủy ban nhân dân {_clean(ward.name)}",
                    level="commune",
                    province_code=province_code,
                    field_codes=_COMMUNE_FIELDS,
                )
            )
    return agencies


def handles(agency: AgencySpec, procedure: ProcedureSpec) -> bool:
    """Whether ``agency`` receives dossiers for ``procedure``."""
    return agency.level == procedure.agency_level and procedure.field_code in agency.field_codes
