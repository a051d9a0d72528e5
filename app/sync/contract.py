"""The national portal's status-sync contract, in its own field names (domain.md,
"Status-sync contract"). Dates are `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.

An item that breaks the contract is refused on its own (see SyncCode); the request envelope
itself is validated by `SyncRequest`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import IntEnum
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
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
    if (
        not isinstance(value, str)
        or len(value) != len("yyyyMMddHHmmss")
        or not (value.isascii() and value.isdigit())
    ):
        raise ValueError("a date is yyyyMMddHHmmss, e.g. 20260303090000")
    try:
        # The digits by position: strptime took most of a batch's validation, to the same
        # result (a 13th month or a 61st second is a ValueError either way).
        local = datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]),
            int(value[12:14]),
        )
    except ValueError as exc:
        raise ValueError(f"{value} is not a real date and time") from exc
    if local.year not in YEARS:
        raise ValueError(f"{value}: the year must be {YEARS.start} to {YEARS.stop - 1}")
    return local.replace(tzinfo=VIETNAM_TZ).astimezone(UTC)


def format_contract_date(value: datetime) -> str:
    return value.astimezone(VIETNAM_TZ).strftime(CONTRACT_DATE)


# What the published schema says of a contract date the portal writes.
DATE_SCHEMA = {
    "type": "string",
    "pattern": (
        "^(199[0-9]|20[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
        "([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]$"
    ),
    "description": "yyyyMMddHHmmss, Asia/Ho_Chi_Minh",
    "examples": ["20260302081500"],
}
# ... and of one it reads: the same digits, also as a JSON number.
DATE_INPUT_SCHEMA = {
    "anyOf": [
        DATE_SCHEMA,
        {"type": "integer", "minimum": 19900101000000, "maximum": 20991231235959},
    ],
    "description": "yyyyMMddHHmmss, Asia/Ho_Chi_Minh, as text or as a number",
}
ContractDate = Annotated[
    datetime,
    BeforeValidator(parse_contract_date),
    PlainSerializer(format_contract_date, return_type=str),
    WithJsonSchema(DATE_INPUT_SCHEMA),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]

# How deployed back offices encode values (OpenCPS's DVCQGIntegrationActionImpl, built with
# Liferay's JSONObject, as Java clients do): numbers as digit strings ("1"), an absent date, code
# or text as "" (its date formatter answers "" for null), flags as "True" / "False". Each is read
# where its meaning is unambiguous; anything else is refused, for that item alone.

BLANK: dict[str, Any] = {"type": "string", "pattern": "^\\s*$"}
NULL: dict[str, Any] = {"type": "null"}


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _absent_if_blank(value: Any) -> Any:
    return None if _is_blank(value) else value


ABSENT_IF_BLANK = BeforeValidator(_absent_if_blank)


def _or_absent(schema: dict[str, Any]) -> WithJsonSchema:
    """What the schema says of an optional field: the value, null, "", or missing."""
    return WithJsonSchema({"anyOf": [schema, BLANK, NULL]})


def _default_if_blank(default: int) -> BeforeValidator:
    return BeforeValidator(lambda value: default if _is_blank(value) else value)


# A number as JSON writes it, or as Java's String.valueOf does (no sign, no leading zero).
_DIGITS = re.compile(r"0|[1-9][0-9]{0,17}")
DIGITS_SCHEMA: dict[str, Any] = {"type": "string", "pattern": f"^({_DIGITS.pattern})$"}


def _contract_number(value: Any) -> Any:
    # JSON true would otherwise pass for the number 1.
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true or false")
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError(f'a number is expected, as 12 or "12", not {value[:20]!r}')
        return int(value)
    return value


NUMBER = BeforeValidator(_contract_number)


def _one_of(values: tuple[int, ...], value: int) -> int:
    if value not in values:
        raise ValueError(f"one of {', '.join(map(str, values))} is expected, not {value}")
    return value


def one_of(*values: int) -> AfterValidator:
    return AfterValidator(partial(_one_of, values))


def choice_schema(*values: int, also: tuple[dict[str, Any], ...] = ()) -> WithJsonSchema:
    """One of the contract's numbered values, as a number or as its digits."""
    texts = {"type": "string", "pattern": f"^({'|'.join(map(str, values))})$"}
    return WithJsonSchema({"anyOf": [{"enum": list(values)}, texts, *also]})


NonNegative = Annotated[
    int,
    NUMBER,
    Field(ge=0),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, DIGITS_SCHEMA]}),
]
StatusCode = Annotated[int, NUMBER, one_of(*range(1, 11)), choice_schema(*range(1, 11))]

# Yes or no: true / false as JSON, Java's Boolean.toString ("true") or .NET's ("True").
TRUTHS = {True: True, False: False, "True": True, "False": False, "true": True, "false": False}
TRUTHS_SCHEMA: dict[str, Any] = {"enum": list(TRUTHS)}


def _truth(value: Any) -> Any:
    # A look-up by type first: 1 == True would let numbers through.
    if isinstance(value, bool | str) and value in TRUTHS:
        return TRUTHS[value]
    raise ValueError('true or false is expected, or "True" / "False"')


def _flag(value: Any) -> Any:
    return int(TRUTHS[value]) if isinstance(value, bool | str) and value in TRUTHS else value


# A yes/no of the records: 0 or 1 (as a number or its digits), or a truth; "" is the default, 0.
Flag = Annotated[
    int,
    # Before-validators run from the last to the first.
    NUMBER,
    BeforeValidator(_flag),
    _default_if_blank(0),
    one_of(0, 1),
    choice_schema(0, 1, also=(TRUTHS_SCHEMA, BLANK)),
]

# Days as a decimal number, or its decimal text as a Java client writes a double.
_DECIMAL = re.compile(r"[0-9]{1,5}(\.[0-9]{1,6})?")


def _contract_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true or false")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f'a number is expected, as 1.5 or "1.5", not {value[:20]!r}')
        return float(value)
    return value


Days = Annotated[float, BeforeValidator(_contract_decimal), Field(ge=0, le=10_000)]
DAYS_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 10_000},
        {"type": "string", "pattern": f"^{_DECIMAL.pattern}$"},
    ]
}
CODE_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 40}
TEXT_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": 2000}
OptionalDate = Annotated[ContractDate | None, ABSENT_IF_BLANK, _or_absent(DATE_INPUT_SCHEMA)]
OptionalCode = Annotated[Code | None, ABSENT_IF_BLANK, _or_absent(CODE_SCHEMA)]
OptionalText = Annotated[Text | None, ABSENT_IF_BLANK, _or_absent(TEXT_SCHEMA)]
OptionalDays = Annotated[Days | None, ABSENT_IF_BLANK, _or_absent(DAYS_SCHEMA)]
# The processing unit: an agency's code, or its name as OpenCPS sends it (getGovAgencyName()).
UNIT_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": 300}
ProcessingUnit = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None,
    ABSENT_IF_BLANK,
    _or_absent(UNIT_SCHEMA),
]


class ContractModel(StorableModel):
    # Back offices send more than the portal reads; unknown fields are kept in the stored
    # payload, not refused.
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


class Fee(ContractModel):
    MaPhiLePhi: Code
    Gia: NonNegative


class Supplement(ContractModel):
    NgayBoSung: ContractDate
    NgayTiepNhanBoSung: OptionalDate = None
    NgayHenTraTruoc: OptionalDate = None
    NgayHenTraMoi: OptionalDate = None


class ResultDocument(ContractModel):
    TenGiayTo: Text
    MaGiayTo: OptionalCode = None
    DuongDanTepTin: OptionalText = None


class DossierRecord(ContractModel):
    """DongBoHoSoMC: a whole dossier as the back office sees it at one moment."""

    MaHoSo: Code
    MaTTHC: Code
    TenTTHC: OptionalText = None
    MaLinhVuc: OptionalCode = None
    ChuHoSo: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    LoaiDoiTuong: Annotated[int, NUMBER, one_of(1, 2), choice_schema(1, 2)]
    SoDinhDanh: Code
    NgayNopHoSo: ContractDate
    NgayTiepNhan: OptionalDate = None
    NgayHenTra: OptionalDate = None
    NgayKetThucXuLy: OptionalDate = None
    NgayTra: OptionalDate = None
    TrangThaiHoSo: StatusCode
    KenhThucHien: Annotated[int, NUMBER, one_of(1, 2, 3), choice_schema(1, 2, 3)]
    # Who processes it: an agency's code, which then may sync the dossier too, or free text
    # (OpenCPS sends the unit's name). It never decides whose dossier a new code is.
    DonViXuLy: ProcessingUnit = None
    HoSoCoThanhPhanSoHoa: Flag = 0
    TaiKhoanDuocXacThucVoiVNeID: Flag = 0
    DuocThanhToanTrucTuyen: Annotated[
        int,
        NUMBER,
        _default_if_blank(0),
        one_of(0, 1, 2),
        choice_schema(0, 1, 2, also=(BLANK,)),
    ] = 0
    ThoiGianThucHien: OptionalDays = None
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
    ThoiDiemCapNhat: OptionalDate = None


class ProgressStep(ContractModel):
    """CapNhatTienDoHoSoMC: one processing step."""

    MaHoSo: Code
    TrangThai: StatusCode
    ThoiDiemXuLy: ContractDate
    NguoiXuLy: OptionalText = None
    ChucDanh: OptionalText = None
    PhongBanXuLy: OptionalText = None
    NoiDungXuLy: OptionalText = None
    NgayBatDau: OptionalDate = None
    NgayKetThucTheoQuyDinh: OptionalDate = None


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
    # Not read by the portal. A truth as JSON, Java or .NET writes it; lax parsing would also
    # take 0.0 or "yes", which say nothing clear.
    isUpdating: Annotated[
        bool | None,
        BeforeValidator(lambda value: value if value is None else _truth(value)),
        ABSENT_IF_BLANK,
        _or_absent(TRUTHS_SCHEMA),
    ] = None
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
