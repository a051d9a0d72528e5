"""The reviewers' dashboard: one server-rendered page per scope (the country, a province, an
agency) with the scorecard, each indicator's numerator and denominator, the ranking below it,
and the online and on-time shares over the period. Self-contained HTML (inline CSS and SVG, no
script, no CDN), so it works offline; in Vietnamese, numbers written the Vietnamese way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.indicators.schemas import IndicatorOut, IndicatorsOut, RankingOut, SeriesPoint
from app.indicators.service import Step

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
CHART_WIDTH, CHART_HEIGHT = 640, 160
BASIS_LABELS = {
    "received": "hồ sơ tiếp nhận trong kỳ",
    "finished": "hồ sơ giải quyết xong trong kỳ",
    "received_or_processed": "hồ sơ giải quyết trong kỳ và đang xử lý cuối kỳ",
    "sync_items": "bản ghi đồng bộ trong kỳ",
    "catalogue": "danh mục thủ tục",
}
SCOPE_LABELS = {"national": "Toàn quốc", "province": "Tỉnh, thành phố", "agency": "Cơ quan"}


def decimal(value: float, places: int = 1) -> str:
    """Vietnamese notation: a comma before the decimals, a dot between thousands."""
    text = f"{value:,.{places}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def shown(indicator: IndicatorOut) -> str:
    if indicator.value is None:
        return "—"
    if indicator.unit == "hours":
        return f"{decimal(indicator.value)} giờ"
    return f"{decimal(indicator.value * 100)} %"


def count(value: float | None) -> str:
    if value is None:
        return "—"
    return decimal(value, 0 if float(value).is_integer() else 1)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the step's first day and its share, for the tooltip
    share: float | None


def bars(points: list[SeriesPoint], share: str) -> list[Bar]:
    """A bar per step, its height the share (0 to 100%); a step with no dossier has none."""
    if not points:
        return []
    slot = CHART_WIDTH / len(points)
    drawn = []
    for index, point in enumerate(points):
        value: float | None = getattr(point, share)
        height = (value or 0.0) * CHART_HEIGHT
        label = point.start.strftime("%d/%m/%Y") + (
            f": {decimal(value * 100)} %" if value is not None else ": không có hồ sơ"
        )
        drawn.append(
            Bar(
                x=round(index * slot + slot * 0.1, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                label=label,
                share=value,
            )
        )
    return drawn


def render_dashboard(
    card: IndicatorsOut, points: list[SeriesPoint], ranking: RankingOut | None, step: Step
) -> str:
    template = _ENVIRONMENT.get_template("dashboard.html.j2")
    return template.render(
        card=card,
        points=points,
        ranking=ranking,
        step=step,
        online_bars=bars(points, "online_share"),
        on_time_bars=bars(points, "on_time_share"),
        chart_width=CHART_WIDTH,
        chart_height=CHART_HEIGHT,
        decimal=decimal,
        shown=shown,
        count=count,
        basis_labels=BASIS_LABELS,
        scope_labels=SCOPE_LABELS,
    )
