"""From a scope's counts over a period to the Decision 766 scorecard: each indicator's value,
score and reason, each group's score, the total. Pure, so that each formula is tested on
hand-written counts, and the SQL (repository.py) only counts."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from app.indicators.config import GROUPS, INDICATORS, GroupConfig, IndicatorConfig


@dataclass(slots=True)
class Counts:
    """What the formulas read, for one scope and one period. Every field is a count but the
    two sums of hours."""

    # Submitted in the period (3.3, 3.6, the complaint share of 5.4).
    received: int = 0
    received_online: int = 0  # KenhThucHien 2
    received_fee_bearing: int = 0  # of a procedure with a fee above 0
    received_paid_online: int = 0  # of those, DuocThanhToanTrucTuyen 1 or 2
    received_with_complaint: int = 0
    # Processing ended in the period, with a due date (2.1, 2.2).
    finished_with_due: int = 0
    finished_on_time: int = 0
    processing_hours: float = 0.0  # Σ (end of processing - acceptance)
    allowed_hours: float = 0.0  # Σ (due date - acceptance)
    # Ended in the period with a result, status 9 or 10 (4.1, 4.2).
    finished_with_result: int = 0
    result_electronic: int = 0
    result_digitised: int = 0  # inputs digitised and the result electronic
    # Accepted, not finished, at the period's end (or now, if earlier) (2.1).
    open_at_end: int = 0
    open_in_time: int = 0
    # Status sync in the period (1.4).
    sync_items: int = 0
    sync_refused: int = 0
    # The catalogue of the scope (3.1).
    procedures: int = 0
    procedures_online: int = 0

    def add(self, other: Counts) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNT_FIELDS = tuple(f.name for f in fields(Counts))


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    config: IndicatorConfig
    numerator: float | None
    denominator: float | None
    value: float | None
    score: float | None
    threshold: float | None
    reason: str | None = None  # why value is None
    parts: dict[str, float] = field(default_factory=dict)  # a composite's components (5.4)


@dataclass(frozen=True, slots=True)
class GroupResult:
    config: GroupConfig
    score: float
    max_score: float  # the maxima of its indicators that could be computed


@dataclass(frozen=True, slots=True)
class Scorecard:
    indicators: tuple[IndicatorResult, ...]
    groups: tuple[GroupResult, ...]
    total_score: float
    total_max_score: float


def _share(
    config: IndicatorConfig, numerator: float, denominator: float, empty: str
) -> IndicatorResult:
    if denominator <= 0:
        return IndicatorResult(config, numerator, denominator, None, None, config.threshold, empty)
    value = numerator / denominator
    return IndicatorResult(
        config, numerator, denominator, value, _score(config, value), config.threshold
    )


def _score(config: IndicatorConfig, value: float) -> float:
    reach = value if config.threshold is None else value / config.threshold
    return round(config.max_score * min(1.0, max(0.0, reach)), 4)


def _processing_time(config: IndicatorConfig, counts: Counts) -> IndicatorResult:
    if counts.finished_with_due <= 0:
        return IndicatorResult(
            config, None, 0, None, None, None, "no dossier with a due date finished in the period"
        )
    average = counts.processing_hours / counts.finished_with_due
    allowed = counts.allowed_hours / counts.finished_with_due
    reach = 1.0 if average <= allowed else allowed / average
    return IndicatorResult(
        config,
        counts.processing_hours,
        counts.finished_with_due,
        average,
        round(config.max_score * reach, 4),
        allowed,  # the threshold: the average processing time the law allowed these dossiers
    )


def _satisfaction(config: IndicatorConfig, counts: Counts) -> IndicatorResult:
    judged = counts.finished_with_due + counts.open_at_end
    if judged <= 0 or counts.received <= 0:
        return IndicatorResult(
            config,
            None,
            None,
            None,
            None,
            config.threshold,
            "no dossier received, or none processed, in the period",
        )
    overdue = (judged - counts.finished_on_time - counts.open_in_time) / judged
    complaints = counts.received_with_complaint / counts.received
    value = max(0.0, 1.0 - (overdue + complaints))
    return IndicatorResult(
        config,
        None,
        None,
        value,
        _score(config, value),
        config.threshold,
        parts={"overdue_share": overdue, "complaint_share": complaints},
    )


def indicator(config: IndicatorConfig, counts: Counts) -> IndicatorResult:
    match config.id:
        case "1.4":
            return _share(
                config,
                counts.sync_items - counts.sync_refused,
                counts.sync_items,
                "no back office synced in the period",
            )
        case "2.1":
            return _share(
                config,
                counts.finished_on_time + counts.open_in_time,
                counts.finished_with_due + counts.open_at_end,
                "no dossier received or processed in the period",
            )
        case "2.2":
            return _processing_time(config, counts)
        case "3.1":
            return _share(
                config, counts.procedures_online, counts.procedures, "the scope has no procedure"
            )
        case "3.3":
            return _share(
                config,
                counts.received_online,
                counts.received,
                "no dossier received in the period",
            )
        case "3.6":
            return _share(
                config,
                counts.received_paid_online,
                counts.received_fee_bearing,
                "no dossier of a fee-bearing procedure received in the period",
            )
        case "4.1":
            return _share(
                config,
                counts.result_electronic,
                counts.finished_with_result,
                "no result issued in the period",
            )
        case "4.2":
            return _share(
                config,
                counts.result_digitised,
                counts.finished_with_result,
                "no result issued in the period",
            )
        case "5.4":
            return _satisfaction(config, counts)
    raise ValueError(f"no formula for indicator {config.id}")


def scorecard(counts: Counts) -> Scorecard:
    results = tuple(indicator(config, counts) for config in INDICATORS)
    groups = []
    for group in GROUPS:
        members = [r for r in results if r.config.group == group.id and r.score is not None]
        groups.append(
            GroupResult(
                group,
                round(sum(r.score or 0.0 for r in members), 4),
                sum(r.config.max_score for r in members),
            )
        )
    return Scorecard(
        results,
        tuple(groups),
        round(sum(g.score for g in groups), 4),
        sum(g.max_score for g in groups),
    )
