from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class FeeOut(BaseModel):
    code: str
    name: str
    amount: int  # VND


class ProcedureOut(BaseModel):
    code: str
    name: str
    field: str
    field_name: str
    agency_level: Literal["central", "province", "commune"]
    processing_time: int
    processing_unit: Literal["working_day", "working_hour"]
    fees: list[FeeOut]
    online_level: Literal["full", "partial"]


class FieldOut(BaseModel):
    code: str
    name: str
    procedures: int


class AgencyOut(BaseModel):
    code: str
    name: str
    level: Literal["central", "province", "commune"]
    province_code: int | None
    field_codes: list[str]


class ProvinceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: int
    name: str
    codename: str
