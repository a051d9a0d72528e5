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
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from app.accounts.identifiers import AccountKind
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


# What the published schema says of a contract date (the parser also takes it as a number).
DATE_SCHEMA = {
    "type": "string",
    "pattern": (
        "^(199[0-9]|20[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
        "([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]$"
    ),
    "description": "yyyyMMddHHmmss, Asia/Ho_Chi_Minh",
    "examples": ["20260302081500"],
}
ContractDate = Annotated[
    datetime,
    BeforeValidator(parse_contract_date),
    PlainSerializer(format_contract_date, return_type=str),
    WithJsonSchema(DATE_SCHEMA),
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

    @property
    def applicant_kind(self) -> AccountKind:
        return AccountKind.CITIZEN if self.LoaiDoiTuong == 1 else AccountKind.BUSINESS

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


def _raw_items(value: Any) -> list[Any]:
    # Items stay raw here, each is validated on its own by the service; the published schema
    # still names the item models (json_schema_input_type).
    if not isinstance(value, list):
        raise PydanticCustomError("list_type", "Input should be a valid list")
    return value


Items = Annotated[
    list[Any],
    PlainValidator(
        _raw_items,
        json_schema_input_type=Annotated[
            list[DossierRecord | ProgressStep | LookUp], Field(min_length=1, max_length=MAX_BATCH)
        ],
    ),
]


class SyncRequest(BaseModel):
    """The envelope; items are validated one by one so that one bad item refuses only itself."""

    model_config = ConfigDict(extra="ignore")

    session: Annotated[Storable, StringConstraints(max_length=2000)] = Field(
        description="from POST /api/v1/sync/login"
    )
    madonvi: Annotated[Storable, StringConstraints(max_length=40)] = Field(
        description="the session's agency code"
    )
    # A string, not an enum, at validation: another service is answered in the contract's own
    # shape (error_code 5), not with the portal's 422.
    service: Annotated[Storable, StringConstraints(max_length=100)] = Field(
        json_schema_extra={"enum": list(SERVICES)},
        description="DongBoHoSoMC: DossierRecord items; CapNhatTienDoHoSoMC: ProgressStep "
        "items; TraCuuHoSo: LookUp items",
    )
    # Not read by the portal; a boolean as published (lax parsing would take 0.0 or "yes").
    isUpdating: Annotated[bool, Strict()] | None = None
    data: Items = Field(description=f"1 to {MAX_BATCH} items of the service's kind")


class SyncSession(BaseModel):
    """A sync session, to send with every call until it expires."""

    error_code: int
    message: str
    session: str
    madonvi: str
    expires_at: Annotated[str, WithJsonSchema(DATE_SCHEMA)]


class SyncRefusal(BaseModel):
    """A refused call, in the contract's own shape."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error_code": 3, "message": "session expired"}]}
    )

    error_code: int = Field(description="see SyncCode: 1-7 for a call")
    message: str


ItemOutcome = Literal["applied", "created", "duplicate", "stale", "refused", "found"]


class ItemResult(BaseModel):
    """What became of one item. Every item has exactly one outcome, and the daily stats count
    each item once, under its outcome."""

    MaHoSo: str | None
    error_code: int = Field(description="0, or why the item was refused (10-16)")
    message: str = Field(description="the outcome explained: the status and why")
    result: ItemOutcome = Field(
        description="created: applied, and it opened the dossier (one item per new dossier); "
        "applied: applied to a dossier; duplicate: received before, nothing changed; stale: "
        "older than the dossier's latest update, kept in its history, the current status "
        "unchanged; refused: error_code says why; found: a look-up's dossier"
    )
    TrangThaiHoSo: int | None = Field(
        default=None,
        description="the dossier's status after this item: for created and applied, the status "
        "it reached at this item's place in the history (later items may move it on, the "
        "message says where it is now); for an illegal transition (13), the status it stayed "
        "in there; for duplicate, stale and found, the current status; null when there is no "
        "dossier",
    )


ContractDateText = Annotated[str, WithJsonSchema(DATE_SCHEMA)]


class LookUpRecord(BaseModel):
    """TraCuuHoSo's answer: the portal's own state and due date, with the back office's
    claimed due date beside it (`NgayHenTraBaoCao`, the NgayHenTra it last reported)."""

    MaHoSo: str
    MaTTHC: str
    TrangThaiHoSo: int
    KenhThucHien: int
    ChuHoSo: str | None
    SoDinhDanh: str | None
    NgayNopHoSo: ContractDateText | None
    NgayTiepNhan: ContractDateText | None
    NgayHenTra: ContractDateText | None = Field(description="the portal's own due date")
    NgayHenTraBaoCao: ContractDateText | None = Field(
        description="the due date the back office reported (NgayHenTra of its latest record)"
    )
    NgayKetThucXuLy: ContractDateText | None
    NgayTra: ContractDateText | None
    DonViXuLy: str | None
    DuocThanhToanTrucTuyen: int


class SyncReply(BaseModel):
    error_code: int
    message: str
    results: list[ItemResult] = []
    data: list[LookUpRecord] = Field(default=[], description="TraCuuHoSo: the dossiers found")
