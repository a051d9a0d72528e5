"""The bytes the dossier routes send are exactly what the published schema (DossierOut) would
send for the same dossier: the hot reads build them from rows without the model."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.pagination import PageParams
from app.dossiers.presentation import dossier_json, page_json
from app.dossiers.schemas import DossierOut

instants = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.just(UTC),
)
maybe_instants = st.none() | instants
codes = st.text("0123456789.H-", min_size=1, max_size=30)
json_text = st.text(max_size=20)
form_values = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | json_text

dossiers = st.builds(
    SimpleNamespace,
    code=codes,
    status=st.integers(1, 10),
    procedure_code=codes,
    agency_code=codes,
    channel=st.sampled_from([1, 2, 3]),
    applicant=st.dictionaries(json_text, json_text, max_size=3),
    form=st.dictionaries(json_text, form_values, max_size=3),
    submitted_at=instants,
    acked_at=maybe_instants,
    accepted_at=maybe_instants,
    due_at=maybe_instants,
    paused_at=maybe_instants,
    supplement_requests=st.integers(0, 3),
    finished_at=maybe_instants,
    returned_at=maybe_instants,
    processing_agency_code=st.none() | codes,
    claimed_due_at=maybe_instants,
    synced_at=maybe_instants,
    paid_online=st.sampled_from([0, 1, 2]),
    digitised=st.booleans(),
    electronic_result=st.booleans(),
    rating=st.none() | st.integers(1, 5),
    rating_comment=st.none() | json_text,
)


def as_schema_sends(sent: bytes) -> Any:
    """What DossierOut sends for the values the bytes carry."""
    return DossierOut.model_validate_json(sent).model_dump(mode="json")


@settings(max_examples=300)
@given(dossier=dossiers, now=instants)
def test_a_dossier_is_sent_as_the_schema_sends_it(dossier: SimpleNamespace, now: datetime) -> None:
    sent = dossier_json(dossier, now)
    assert orjson.loads(sent) == as_schema_sends(sent)


@settings(max_examples=50)
@given(items=st.lists(dossiers, max_size=4), total=st.integers(0, 10_000), now=instants)
def test_a_page_is_sent_as_the_schema_sends_it(
    items: list[SimpleNamespace], total: int, now: datetime
) -> None:
    page = PageParams(page=2, size=4)
    sent = orjson.loads(page_json(items, total, page, now))
    assert (sent["total"], sent["page"], sent["size"]) == (total, 2, 4)
    assert sent["items"] == [as_schema_sends(dossier_json(dossier, now)) for dossier in items]


def test_instants_are_shown_on_vietnams_wall_clock() -> None:
    submitted = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    dossier = SimpleNamespace(
        **dict.fromkeys(DossierOut.model_fields),
        paused_at=None,
    )
    dossier.__dict__.update(
        code="000.00.01.H01-260303-0001",
        status=1,
        procedure_code="1.001612",
        agency_code="000.00.01.H01",
        channel=2,
        applicant={},
        form={},
        submitted_at=submitted,
        supplement_requests=0,
        paid_online=0,
        digitised=False,
        electronic_result=False,
    )
    sent = orjson.loads(dossier_json(dossier, submitted))
    assert sent["submitted_at"] == "2026-03-03T09:00:00+07:00"
    assert sent["status_label"]
    assert sent["timeliness"] is None
