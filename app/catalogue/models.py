"""Catalogue tables: provinces, fields, agencies and administrative procedures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, JSONValue


class Province(Base):
    __tablename__ = "provinces"

    code: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    codename: Mapped[str] = mapped_column(String(100), unique=True)


class ProcedureField(Base):
    """A field (lĩnh vực) of administrative procedures."""

    __tablename__ = "procedure_fields"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(10), index=True)
    province_code: Mapped[int | None] = mapped_column(
        ForeignKey("provinces.code"), index=True, default=None
    )


class AgencyField(Base):
    """A field whose procedures (at the agency's level) the agency receives."""

    __tablename__ = "agency_fields"

    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)
    field_code: Mapped[str] = mapped_column(
        ForeignKey("procedure_fields.code"), primary_key=True, index=True
    )


class Procedure(Base):
    __tablename__ = "procedures"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # Lower-cased, diacritics-free name, so "dang ky khai sinh" finds "Đăng ký khai sinh".
    search_text: Mapped[str] = mapped_column(Text)
    field_code: Mapped[str] = mapped_column(ForeignKey("procedure_fields.code"), index=True)
    agency_level: Mapped[str] = mapped_column(String(10))
    processing_time: Mapped[int] = mapped_column()
    processing_unit: Mapped[str] = mapped_column(String(20))
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue)
    online_level: Mapped[str] = mapped_column(String(10))
    # Whether any fee line is above 0: the denominator of indicator 3.6 (online payment).
    has_fees: Mapped[bool] = mapped_column(default=False)
