"""Dossiers, their timeline, their documents, and the per-agency daily code counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, BigIntPK, JSONValue, UTCDateTime


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("owner_id", "idempotency_key"),
        # The back office's inbox: its agency's unacknowledged dossiers, oldest first.
        Index("ix_dossiers_agency_inbox", "agency_code", "acked_at", "submitted_at"),
        Index("ix_dossiers_owner_submitted", "owner_id", "submitted_at"),
        # The inbox filtered by status, acknowledged dossiers included.
        Index("ix_dossiers_agency_status", "agency_code", "status", "submitted_at"),
        # The indicators (app/indicators): an agency's dossiers received in a period, and
        # those finished in it or still open (finished_at NULL) at its end.
        Index("ix_dossiers_agency_submitted", "agency_code", "submitted_at"),
        Index("ix_dossiers_agency_finished", "agency_code", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    procedure_code: Mapped[str] = mapped_column(ForeignKey("procedures.code"))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    owner_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("accounts.id"),
    )
    status: Mapped[int] = mapped_column(SmallInteger)
    # KenhThucHien: 1 in person, 2 online, 3 post
    channel: Mapped[int] = mapped_column(SmallInteger)
    # The procedure's processing time when the dossier was received: the deadline follows the
    # rule in force then, whatever the catalogue says later.
    processing_time: Mapped[int] = mapped_column()
    processing_unit: Mapped[str] = mapped_column(String(20))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    form: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    supplement_requests: Mapped[int] = mapped_column(SmallInteger, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # What back offices report (status sync): the processing agency when it is not the
    # receiving one, their claimed due date (NgayHenTra, kept beside the portal's own), when
    # the latest whole-dossier record was taken and received, and the record's flags.
    processing_agency_code: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.code"), default=None
    )
    claimed_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    record_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The indicators' inputs, set by sync records and by the portal's own routes alike:
    # inputs digitised (HoSoCoThanhPhanSoHoa; an online upload), paid online
    # (DuocThanhToanTrucTuyen; a confirmed payment), an electronic result (DanhSachGiayToKetQua;
    # a result document attached, or the result marked electronic, by the back office).
    digitised: Mapped[bool] = mapped_column(default=False)
    vneid_verified: Mapped[bool] = mapped_column(default=False)  # TaiKhoanDuocXacThucVoiVNeID
    paid_online: Mapped[int] = mapped_column(SmallInteger, default=0)
    electronic_result: Mapped[bool] = mapped_column(default=False)

    rating: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    rating_comment: Mapped[str | None] = mapped_column(Text, default=None)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DossierEvent(Base):
    """One status change of a dossier: the timeline."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    from_status: Mapped[int | None] = mapped_column(SmallInteger)  # None for the submission
    to_status: Mapped[int] = mapped_column(SmallInteger)
    actor_kind: Mapped[str] = mapped_column(String(10))  # "citizen" | "agency" | "system"
    actor: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    # "portal" for the portal's own transitions; "sync" for what back offices reported, which
    # is rebuilt from sync_items on every replay and may be kept without being applied.
    origin: Mapped[str] = mapped_column(String(10), default="portal")
    applied: Mapped[bool] = mapped_column(default=True)
    sync_item_id: Mapped[int | None] = mapped_column(ForeignKey("sync_items.id"), default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, default=None)


class DossierDocument(Base):
    __tablename__ = "dossier_documents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "submission" | "supplement"
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DossierCodeCounter(Base):
    """The last sequence number handed out per receiving agency and receipt day. Incremented in
    the submitting transaction, so a rolled-back submission gives its number back: no gaps."""

    __tablename__ = "dossier_code_counters"

    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column()


class DossierComplaint(Base):
    """A citizen's complaint (phản ánh, kiến nghị) about one dossier: indicator 5.4's input."""

    __tablename__ = "dossier_complaints"
    __table_args__ = (Index("ix_dossier_complaints_agency_filed", "agency_code", "filed_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    content: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DossierStatusMove(Base):
    """A change in how many dossiers are at a status, appended by triggers on `dossiers`
    (migration 20261202_1600): whatever writes a dossier, the count follows. Folded into
    `DossierStatusTally` when /metrics is scraped, so that a scrape costs what changed since
    the last one, not a count of every dossier."""

    __tablename__ = "dossier_status_moves"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    status: Mapped[int] = mapped_column(SmallInteger)
    delta: Mapped[int] = mapped_column(BigInteger)


class DossierStatusTally(Base):
    """How many dossiers were at each status when the moves were last folded in."""

    __tablename__ = "dossier_status_tally"

    status: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    dossiers: Mapped[int] = mapped_column(BigInteger)


class AgencyInboxTally(Base):
    """How many online dossiers wait unacknowledged at each receiving agency: the total of its
    inbox's default listing, kept by triggers on `dossiers` (migration 20261207_0900)."""

    __tablename__ = "agency_inbox_tally"

    agency_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    waiting: Mapped[int] = mapped_column(BigInteger)
