"""A dossier as the API shows it, built straight to JSON bytes.

The hot reads (a dossier by code, the agency's inbox) and the answers of the writes go from a
row (a Core row or an ORM object: both carry the column names as attributes) to bytes in one
pass, with orjson: no Pydantic model is built, and none validated again on the way out.
`DossierOut` stays the published schema; tests/dossiers/test_presentation.py holds these bytes
to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import orjson

from app.core.calendar import VIETNAM_TZ
from app.core.pagination import PageParams
from app.dossiers.deadlines import classify, due_disagrees
from app.dossiers.lifecycle import StoredProgress
from app.dossiers.states import Status


class DossierColumns(StoredProgress, Protocol):
    """What the presentation reads of a dossier: columns of the `dossiers` table (its clock's
    among them)."""

    @property
    def procedure_code(self) -> str: ...
    @property
    def agency_code(self) -> str: ...
    @property
    def channel(self) -> int: ...
    @property
    def applicant(self) -> dict[str, Any]: ...
    @property
    def form(self) -> dict[str, Any]: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def acked_at(self) -> datetime | None: ...
    @property
    def processing_agency_code(self) -> str | None: ...
    @property
    def claimed_due_at(self) -> datetime | None: ...
    @property
    def synced_at(self) -> datetime | None: ...
    @property
    def paid_online(self) -> int: ...
    @property
    def digitised(self) -> bool: ...
    @property
    def electronic_result(self) -> bool: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def rating_comment(self) -> str | None: ...


def _local(instant: datetime | None) -> str | None:
    # As LocalDateTime presents instants: the wall clock in Vietnam, offset included.
    return None if instant is None else instant.astimezone(VIETNAM_TZ).isoformat()


def dossier_fields(dossier: DossierColumns, now: datetime) -> dict[str, Any]:
    """The fields of DossierOut, as JSON values."""
    return {
        "code": dossier.code,
        "status": dossier.status,
        "status_label": Status(dossier.status).label,
        "procedure_code": dossier.procedure_code,
        "agency_code": dossier.agency_code,
        "channel": dossier.channel,
        "applicant": dossier.applicant,
        "form": dossier.form,
        "submitted_at": _local(dossier.submitted_at),
        "acked_at": _local(dossier.acked_at),
        "accepted_at": _local(dossier.accepted_at),
        "due_at": _local(dossier.due_at),
        "finished_at": _local(dossier.finished_at),
        "returned_at": _local(dossier.returned_at),
        "paused_since": _local(dossier.paused_at),
        "supplement_requests": dossier.supplement_requests,
        "timeliness": classify(
            due_at=dossier.due_at,
            finished_at=dossier.finished_at,
            paused_at=dossier.paused_at,
            supplement_requests=dossier.supplement_requests,
            now=now,
        ),
        "processing_agency_code": dossier.processing_agency_code,
        "claimed_due_at": _local(dossier.claimed_due_at),
        "due_disagreement": due_disagrees(dossier.claimed_due_at, dossier.due_at),
        "synced_at": _local(dossier.synced_at),
        "paid_online": dossier.paid_online,
        "digitised": dossier.digitised,
        "electronic_result": dossier.electronic_result,
        "rating": dossier.rating,
        "rating_comment": dossier.rating_comment,
    }


def dossier_json(dossier: DossierColumns, now: datetime) -> bytes:
    """A `DossierOut`."""
    return orjson.dumps(dossier_fields(dossier, now))


def page_json(
    dossiers: Iterable[DossierColumns], total: int, page: PageParams, now: datetime
) -> bytes:
    """A `Page[DossierOut]`."""
    body = {
        "items": [dossier_fields(dossier, now) for dossier in dossiers],
        "total": total,
        "page": page.page,
        "size": page.size,
    }
    return orjson.dumps(body)
