from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.core.schemas import InputModel, reject_unstorable
from app.core.types import LocalDateTime
from app.dossiers.deadlines import Timeliness
from app.dossiers.kinds import ActorKind, Channel, EventOrigin

Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(reject_unstorable),
]
FormText = Annotated[str, StringConstraints(max_length=10_000)]
FormValue = FormText | int | Annotated[float, Field(allow_inf_nan=False)] | bool | None
MAX_FORM_FIELDS = 100


class ApplicantIn(InputModel):
    """The person the dossier is for, when not the account holder (e.g. a child's birth)."""

    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{9,15}$")
    email: EmailStr | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class DossierSubmit(InputModel):
    procedure_code: str = Field(max_length=20, examples=["1.001612"])
    agency_code: str = Field(
        max_length=20, description="the receiving agency", examples=["000.00.01.H01"]
    )
    applicant: ApplicantIn | None = Field(
        default=None, description="defaults to the logged-in account holder"
    )
    form: dict[Annotated[str, StringConstraints(max_length=100)], FormValue] = Field(
        default_factory=dict,
        max_length=MAX_FORM_FIELDS,
        description="the procedure's form fields (tờ khai), free-form",
    )
    note: Note | None = None


class DossierOut(BaseModel):
    code: str
    status: int
    status_label: str
    procedure_code: str
    agency_code: str
    channel: Channel = Field(description="KenhThucHien: 1 in person, 2 online, 3 post")
    applicant: dict[str, Any]
    form: dict[str, FormValue]
    submitted_at: LocalDateTime
    acked_at: LocalDateTime | None
    accepted_at: LocalDateTime | None
    due_at: LocalDateTime | None
    finished_at: LocalDateTime | None
    returned_at: LocalDateTime | None
    paused_since: LocalDateTime | None = Field(
        description="set while the clock is paused for a supplement (requests before acceptance "
        "do not pause a clock that has not started)"
    )
    supplement_requests: int
    timeliness: Timeliness | None
    processing_agency_code: str | None = Field(description="DonViXuLy, from status sync")
    claimed_due_at: LocalDateTime | None = Field(
        description="NgayHenTra as the back office reports it; due_at is the portal's own"
    )
    due_disagreement: bool = Field(description="the two due dates fall on different days")
    synced_at: LocalDateTime | None
    paid_online: int = Field(
        description="DuocThanhToanTrucTuyen: 0 no, 1 national portal, 2 province"
    )
    digitised: bool = Field(
        description="HoSoCoThanhPhanSoHoa: its inputs are digital (uploaded online, or so synced)"
    )
    electronic_result: bool = Field(
        description="an electronic result: a result document attached, or the result marked "
        "electronic by the back office (DanhSachGiayToKetQua)"
    )
    rating: int | None
    rating_comment: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: int | None
    to_status: int
    actor_kind: ActorKind
    actor: str
    at: LocalDateTime
    note: str | None
    origin: EventOrigin
    applied: bool = Field(
        description="false for a reported step kept in the history but not (yet) applied"
    )
    details: dict[str, Any] | None


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: Literal["submission", "supplement", "result"]
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: LocalDateTime


class TransitionIn(InputModel):
    to_status: int = Field(
        ge=1, le=10, description="TrangThaiHoSo 1-10; the status machine decides what is legal"
    )
    note: Note | None = None
    electronic_result: bool | None = Field(
        default=None,
        description="with 9 or 10: whether the result is issued electronically (indicator 4.1)",
    )


class WithdrawIn(InputModel):
    reason: Note | None = None


class RatingIn(InputModel):
    score: int = Field(ge=1, le=5)
    comment: Note | None = None


class ComplaintIn(InputModel):
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ComplaintOut(BaseModel):
    id: int
    dossier_code: str
    agency_code: str
    content: str
    filed_at: LocalDateTime
