"""/stats arguments and the sparkline."""

from __future__ import annotations

from bot.views.stats import sparkline, wait
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


def test_a_wait_reads_in_minutes_hours_or_days() -> None:
    assert wait("en", 29.6) == "30 min"
    assert wait("en", 150) == "2.5 h"
    assert wait("en", 13 * 60) == "13 h"
    assert wait("en", 3 * 1440) == "3 d"
    assert wait("ru", 45) == "45 мин"
