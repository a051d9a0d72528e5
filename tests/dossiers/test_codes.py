"""Dossier codes and their parts (pure): every code the portal numbers reads back as its day and
number, and no text read as a code yields a number the daily counter cannot hold."""

from __future__ import annotations

from datetime import date, datetime, time

from hypothesis import given
from hypothesis import strategies as st

from app.core.calendar import VIETNAM_TZ
from app.dossiers.service import MAX_SEQUENCE, code_agency, code_numbering, dossier_code

AGENCY = "001.00.99.H01"


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2068, 12, 31)),
    sequence=st.integers(min_value=1, max_value=MAX_SEQUENCE),
)
def test_every_code_the_portal_numbers_reads_back_as_its_day_and_number(
    day: date, sequence: int
) -> None:
    code = dossier_code(AGENCY, datetime.combine(day, time(9), VIETNAM_TZ), sequence)

    assert code_agency(code) == AGENCY
    assert code_numbering(code) == (day, sequence)


@given(rest=st.text(alphabet="0123456789-X", max_size=30))
def test_a_code_is_another_numbering_or_a_real_day_and_a_number_the_counter_holds(
    rest: str,
) -> None:
    try:
        numbering = code_numbering(f"{AGENCY}-{rest}")
    except ValueError:
        return
    if numbering is not None:
        _, number = numbering
        assert 0 <= number <= MAX_SEQUENCE
