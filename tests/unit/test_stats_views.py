"""/stats arguments and the sparkline."""

from __future__ import annotations

from bot.views.stats import sparkline
from handlers.stats import parse_args


def test_stats_arguments_are_a_period_and_csv_in_any_order() -> None:
    assert parse_args(None) == (30, False)
    assert parse_args("7d") == (7, False)
    assert parse_args("CSV 90d") == (90, True)
    assert parse_args("90d csv") == (90, True)
    for wrong in ("5d", "30", "csv csv", "7d 90d", "week"):
        assert parse_args(wrong) is None, wrong


def test_the_sparkline_scales_to_the_busiest_day() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 2, 4, 14]) == "▁▂▃█"
    assert sparkline([]) == ""
