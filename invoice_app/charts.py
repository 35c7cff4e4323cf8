"""Geometry of the overview's bar chart, worked out on the server for an SVG.

No JavaScript and no inline style: the template draws rectangles at the
coordinates given here and colours them by class (CSP allows only our CSS).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from .monthly import Month

SERIES = (
    ("invoiced", "Invoiced"),
    ("collected", "Collected"),
    ("overdue", "Overdue at month end"),
)
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 80, 10, 10, 40


@dataclass(frozen=True)
class Bar:
    series: str
    x: float
    y: float
    width: float
    height: float
    value: Decimal


@dataclass(frozen=True)
class Group:
    month: Month
    label_x: float
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_right: int
    ticks: list[tuple[float, Decimal]]  # (y, value) of the axis' marks
    groups: list[Group]


def _nice_top(value: Decimal) -> Decimal:
    """A round number at or above value (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (value.adjusted())
    for step in (1, 2, 5, 10):
        top = power * step
        if top >= value:
            return top.quantize(Decimal(1), rounding=ROUND_CEILING) if top >= 1 else top
    return power * 10


def bar_chart(months: list[Month]) -> Chart:
    """Bars of each month's invoiced, collected and overdue, on one scale."""
    peak = max(
        (getattr(m, name) for m in months for name, _ in SERIES), default=Decimal(0)
    )
    top = _nice_top(peak)
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(months), 1)
    bar_w = slot / (len(SERIES) + 1)
    groups = []
    for i, month in enumerate(months):
        x0 = LEFT + i * slot + bar_w / 2
        bars = []
        for j, (name, _) in enumerate(SERIES):
            value = getattr(month, name)
            h = float(max(value, Decimal(0)) / top) * plot_h
            bars.append(
                Bar(
                    name,
                    round(x0 + j * bar_w, 1),
                    round(TOP + plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    value,
                )
            )
        groups.append(Group(month, round(LEFT + (i + 0.5) * slot, 1), bars))
    ticks = [(round(TOP + plot_h - plot_h * k / 4, 1), top * k / 4) for k in range(5)]
    return Chart(WIDTH, HEIGHT, LEFT, TOP + plot_h, WIDTH - RIGHT, ticks, groups)
