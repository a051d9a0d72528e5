"""The indicator table of Decision 766/QĐ-TTg as the mock computes it: one row per indicator,
with its group, its name in the decision's words, its maximum score, its threshold and which
dossiers of a period it counts. The one place to change a weight.

Sources and assumptions (../shared/domain.md, "Decision 766/QĐ-TTg indicators"):
- The five groups and their weights (18, 20, 22, 22, 18 = 100) are the national dashboard's; the
  22/22 split of groups 3 and 4 comes from third-party dashboards, not the decision's text.
- The thresholds are the decision's: 3.1 full points at 80%, 3.3 at 50%, 4.2 at 80%, 5.4 at 90%.
- ASSUMPTION: the mock computes nine of the decision's indicators; no public source gives their
  maxima within a group, so each group's weight is split among the ones computed here (a group
  of one indicator gives it the whole weight).
- ASSUMPTION: an indicator without a threshold scores in proportion to its rate (max x rate);
  one with a threshold scores full points at it and in proportion below (max x rate ÷ threshold).
- ASSUMPTION: 2.2 (average processing time) scores full points when the dossiers took no longer
  on average than the law allowed them (due date minus acceptance, in calendar hours), and
  max x allowed ÷ taken beyond.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Basis(StrEnum):
    """Which dossiers of a period an indicator counts (the decision's own rule per formula)."""

    RECEIVED = "received"  # submitted in the period
    FINISHED = "finished"  # processing ended in the period
    RECEIVED_OR_PROCESSED = "received_or_processed"  # finished in it, or still open at its end
    SYNC_ITEMS = "sync_items"  # what back offices reported in the period
    CATALOGUE = "catalogue"  # the procedures on offer: no period


@dataclass(frozen=True, slots=True)
class GroupConfig:
    id: str
    name: str
    weight: float


@dataclass(frozen=True, slots=True)
class IndicatorConfig:
    id: str
    group: str
    name: str
    max_score: float
    basis: Basis
    threshold: float | None = None  # a share at which the score is full; None: proportional
    unit: str = "share"  # "share" in [0, 1], or "hours"


GROUPS: tuple[GroupConfig, ...] = (
    GroupConfig("1", "Công khai, minh bạch", 18),
    GroupConfig("2", "Tiến độ giải quyết", 20),
    GroupConfig("3", "Dịch vụ công trực tuyến", 22),
    GroupConfig("4", "Số hóa hồ sơ", 22),
    GroupConfig("5", "Mức độ hài lòng", 18),
)

INDICATORS: tuple[IndicatorConfig, ...] = (
    IndicatorConfig(
        "1.4",
        "1",
        "Tỷ lệ đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia",
        18,
        Basis.SYNC_ITEMS,
    ),
    IndicatorConfig("2.1", "2", "Tỷ lệ hồ sơ xử lý đúng hạn", 12, Basis.RECEIVED_OR_PROCESSED),
    IndicatorConfig("2.2", "2", "Thời gian xử lý trung bình", 8, Basis.FINISHED, unit="hours"),
    IndicatorConfig(
        "3.1",
        "3",
        "Tỷ lệ thủ tục hành chính cung cấp dịch vụ công trực tuyến",
        8,
        Basis.CATALOGUE,
        threshold=0.8,
    ),
    IndicatorConfig("3.3", "3", "Tỷ lệ hồ sơ nộp trực tuyến", 8, Basis.RECEIVED, threshold=0.5),
    IndicatorConfig("3.6", "3", "Tỷ lệ thanh toán trực tuyến", 6, Basis.RECEIVED),
    IndicatorConfig("4.1", "4", "Tỷ lệ cấp kết quả điện tử", 11, Basis.FINISHED),
    IndicatorConfig(
        "4.2",
        "4",
        "Tỷ lệ số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
        11,
        Basis.FINISHED,
        threshold=0.8,
    ),
    IndicatorConfig(
        "5.4",
        "5",
        "Mức độ hài lòng trong tiếp nhận, giải quyết thủ tục hành chính",
        18,
        Basis.RECEIVED_OR_PROCESSED,
        threshold=0.9,
    ),
)
