"""What back offices sent: every distinct item, and the daily counts of each agency's sync."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, BigIntPK, JSONValue, UTCDateTime


class SyncItem(Base):
    """One distinct update of a dossier as received; replays re-read these."""

    __tablename__ = "sync_items"
    __table_args__ = (UniqueConstraint("dossier_id", "item_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    service: Mapped[str] = mapped_column(String(30))
    item_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the item as validated
    item_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the update's own time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONValue)


class SyncDailyStat(Base):
    """Per agency and day (Vietnam time): what its back office synced, for indicator 1.4 and
    for reviewers who want to see who misreports deadlines."""

    __tablename__ = "sync_daily_stats"

    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    items: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    stale: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    due_disagreements: Mapped[int] = mapped_column(default=0)
