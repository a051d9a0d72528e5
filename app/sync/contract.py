"""The national portal's status-sync contract, in its own field names (domain.md,
"Status-sync contract"). Dates are `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.

An item that breaks the contract is refused on its own (see SyncCode); the request envelope
itself is validated by `SyncRequest`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from app.core.calendar import VIETNAM_TZ
from app.core.schemas import StorableModel, reject_unstorable

CONTRACT_DATE = "%Y%m%d%H%M%S"
# Dates outside these years are typing errors, and near datetime's limits the deadline
# arithmetic itself would overflow.
YEARS = range(1990, 2100)
MAX_BATCH = 500
SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSo")
Service = Literal["DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSo"]


class SyncCode(IntEnum):
    """error_code of the contract's replies, for the call and for each item."""

    OK = 0
    # The call
    BAD_CREDENTIALS = 1
    BAD_SESSION = 2
    SESSION_EXPIRED = 3
    WRONG_AGENCY = 4
    UNKNOWN_SERVICE = 5
    MALFORMED_REQUEST = 6
    BATCH_SIZE = 7
    # One item
    INVALID_ITEM = 10
    UNKNOWN_PROCEDURE = 11
    OTHER_AGENCYS_DOSSIER = 12
    ILLEGAL_TRANSITION = 13
    DOSSIER_NOT_FOUND = 14
    CODE_CONFLICT = 15
    INCONSISTENT_HISTORY = 16


def parse_contract_date(value: Any) -> datetime:
    """`yyyyMMddHHmmss` (Vietnam time) to an aware UTC instant; numbers are accepted as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) != len("yyyyMMddHHmmss") or not value.isdigit():
        raise ValueError("a date is yyyyMMddHHmmss, e.g. 20260303090000")
    try:
        local = datetime.strptime(value, CONTRACT_DATE)
    except ValueError as exc:
        raise ValueError(f"{value} is not a real date and time") from exc
    if local.year not in YEARS:
        raise ValueError(f"{value}: the year must be {YEARS.start} to {YEARS.stop - 1}")
    return local.replace(tzinfo=VIETNAM_TZ).astimezone(UTC)


def format_contract_date(value: datetime) -> str:
    return value.astimezone(VIETNAM_TZ).strftime(CONTRACT_DATE)


ContractDate = Annotated[
    datetime,
    BeforeValidator(parse_contract_date),
    PlainSerializer(format_contract_date, return_type=str),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


def _not_a_boolean(value: Any) -> Any:
    # JSON true would otherwise pass for the number 1.
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true or false")
    return value


Number = Annotated[int, BeforeValidator(_not_a_boolean)]
Flag = Annotated[Number, Field(ge=0, le=1)]
StatusCode = Annotated[Number, Field(ge=1, le=10)]


class ContractModel(StorableModel):
    # Back offices send more than the portal reads; unknown fields are kept in the stored
    # payload, not refused.
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


class Fee(ContractModel):
    MaPhiLePhi: Code
    Gia: Annotated[Number, Field(ge=0)]


class Supplement(ContractModel):
    NgayBoSung: ContractDate
    NgayTiepNhanBoSung: ContractDate | None = None
    NgayHenTraTruoc: ContractDate | None = None
    NgayHenTraMoi: ContractDate | None = None


class ResultDocument(ContractModel):
    TenGiayTo: Text
    MaGiayTo: Code | None = None
    DuongDanTepTin: Text | None = None


class DossierRecord(ContractModel):
    """DongBoHoSoMC: a whole dossier as the back office sees it at one moment."""

    MaHoSo: Code
    MaTTHC: Code
    TenTTHC: Text | None = None
    MaLinhVuc: Code | None = None
    ChuHoSo: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    LoaiDoiTuong: Annotated[Literal[1, 2], BeforeValidator(_not_a_boolean)]
    SoDinhDanh: Code
    NgayNopHoSo: ContractDate
    NgayTiepNhan: ContractDate | None = None
    NgayHenTra: ContractDate | None = None
    NgayKetThucXuLy: ContractDate | None = None
    NgayTra: ContractDate | None = None
    TrangThaiHoSo: StatusCode
    KenhThucHien: Annotated[Literal[1, 2, 3], BeforeValidator(_not_a_boolean)]
    DonViXuLy: Code | None = None
    HoSoCoThanhPhanSoHoa: Flag = 0
    TaiKhoanDuocXacThucVoiVNeID: Flag = 0
    DuocThanhToanTrucTuyen: Annotated[Literal[0, 1, 2], BeforeValidator(_not_a_boolean)] = 0
    ThoiGianThucHien: Annotated[float, Field(ge=0, le=10_000)] | None = None
    DanhSachLePhi: Annotated[list[Fee], Field(max_length=50)] = Field(default_factory=list)
    DanhSachHoSoBoSung: Annotated[list[Supplement], Field(max_length=50)] = Field(
        default_factory=list
    )
    DanhSachGiayToKetQua: Annotated[list[ResultDocument], Field(max_length=50)] = Field(
        default_factory=list
    )
    # Not in the published field list: when the record was taken. Without it, a record's time
    # is its latest date, which cannot order two records that differ only by a status without
    # a date of its own (6, 7).
    ThoiDiemCapNhat: ContractDate | None = None


class ProgressStep(ContractModel):
    """CapNhatTienDoHoSoMC: one processing step."""

    MaHoSo: Code
    TrangThai: StatusCode
    ThoiDiemXuLy: ContractDate
    NguoiXuLy: Text | None = None
    ChucDanh: Text | None = None
    PhongBanXuLy: Text | None = None
    NoiDungXuLy: Text | None = None
    NgayBatDau: ContractDate | None = None
    NgayKetThucTheoQuyDinh: ContractDate | None = None


class LookUp(ContractModel):
    """TraCuuHoSo: a dossier code to look up."""

    MaHoSo: Code


ITEM_MODELS: dict[str, type[ContractModel]] = {
    "DongBoHoSoMC": DossierRecord,
    "CapNhatTienDoHoSoMC": ProgressStep,
    "TraCuuHoSo": LookUp,
}


Storable = Annotated[str, AfterValidator(reject_unstorable)]


class SyncLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[Storable, StringConstraints(max_length=100)]
    password: Annotated[Storable, StringConstraints(max_length=200)]


class SyncRequest(BaseModel):
    """The envelope; items are validated one by one so that one bad item refuses only itself."""

    model_config = ConfigDict(extra="ignore")

    session: Annotated[Storable, StringConstraints(max_length=2000)]
    madonvi: Annotated[Storable, StringConstraints(max_length=40)]
    service: Annotated[Storable, StringConstraints(max_length=100)]
    isUpdating: bool | None = None
    data: list[Any]


ItemOutcome = Literal["applied", "created", "duplicate", "stale", "refused", "found"]


class ItemResult(BaseModel):
    MaHoSo: str | None
    error_code: int
    message: str
    result: ItemOutcome
    TrangThaiHoSo: int | None = None


class SyncReply(BaseModel):
    error_code: int
    message: str
    results: list[ItemResult] = []
    data: list[dict[str, Any]] = []
