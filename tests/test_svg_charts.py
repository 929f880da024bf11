"""controllers/svg_charts.py, the pure geometry: round ticks, bars in proportion, lines inside
the plot, labels apart, units people read."""

from __future__ import annotations

import pytest

from controllers import svg_charts as svg


@pytest.mark.parametrize(
    ("maximum", "want"),
    [
        (0, [0.0, 1.0]),
        (1, [0.0, 0.5, 1.0]),
        (7, [0.0, 2.0, 4.0, 6.0, 8.0]),
        (100, [0.0, 50.0, 100.0]),
        (1234, [0.0, 500.0, 1000.0, 1500.0]),
    ],
)
def test_ticks_are_round_and_reach_the_maximum(maximum: float, want: list[float]) -> None:
    assert svg.ticks(maximum) == want
    assert svg.ticks(maximum)[-1] >= maximum


def test_integer_ticks_never_step_below_one() -> None:
    assert svg.ticks(2, integer=True) == [0.0, 1.0, 2.0]


def test_bars_are_in_proportion_and_inside_the_plot() -> None:
    chart = svg.bars("c", "t", "d", ["a", "b", "c"], [400.0, 200.0, 0.0], svg.size)
    widths = [b.width for b in chart.bars]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert all(chart.left + w <= chart.right for w in widths)
    assert [b.label for b in chart.bars] == ["a", "b", "c"]


def test_columns_share_one_baseline_and_a_lone_one_is_not_a_wall() -> None:
    chart = svg.columns("c", "t", "d", ["#1"], [3.0], svg.count, integer=True)
    (bar,) = chart.bars
    assert bar.y + bar.height == pytest.approx(chart.bottom) and bar.width <= 48


def test_lines_stay_in_the_plot_and_their_labels_apart() -> None:
    chart = svg.lines(
        "c", "t", "d", ["a", "b"], [("x", "x", [0.0, 10.0]), ("y", "y", [0.0, 10.0])], svg.count
    )
    for line in chart.lines:
        for point in line.points.split():
            x, y = map(float, point.split(","))
            assert chart.left <= x <= chart.right and chart.top <= y <= chart.bottom
    assert abs(chart.lines[0].end_y - chart.lines[1].end_y) >= 14


@pytest.mark.parametrize(
    ("value", "want"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 1024**3, "5.0 GiB")],
)
def test_sizes_read_in_binary_units(value: float, want: str) -> None:
    assert svg.size(value) == want


def test_counts_and_seconds_stay_short() -> None:
    assert [svg.count(v) for v in (999, 12_345, 2_500_000)] == ["999", "12k", "2.5M"]
    assert [svg.seconds(v) for v in (0.5, 42, 90, 7200)] == ["0.5 s", "42 s", "1.5 min", "2.0 h"]
