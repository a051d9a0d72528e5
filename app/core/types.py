"""Shared field types of the HTTP schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer

from app.core.calendar import VIETNAM_TZ

# Instants are stored in UTC and presented in Asia/Ho_Chi_Minh, offset included, so
# "2026-02-24T10:00:00+07:00" reads as the clock on the agency's wall and parses unambiguously.
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.astimezone(VIETNAM_TZ).isoformat(), return_type=str),
]
