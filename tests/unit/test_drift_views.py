"""/atrisk's private answer: long lists split between lines, the buttons under the last part."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages import MESSAGE_LIMIT, utf16_length
from bot.services.drift import Drifter, DriftReport
from bot.views import drift as views


def test_a_long_list_is_split_and_the_buttons_go_under_the_last_message() -> None:
    drifters = [Drifter(n, f"Person {n} " + "x" * 200, 30 - n % 5, n % 2 == 0) for n in range(30)]
    answers = views.report("en", -1001, "Circle", DriftReport(drifters), UTC)
    assert len(answers) > 1
    assert all(utf16_length(text) <= MESSAGE_LIMIT for text, _ in answers)
    assert [keyboard is None for _, keyboard in answers] == [True] * (len(answers) - 1) + [False]
    keyboard = answers[-1][1]
    assert keyboard is not None and len(keyboard) == 15
    text = "\n".join(t for t, _ in answers)
    assert all(f"{n + 1}. Person {n} " in text for n in range(30))


def test_no_history_yet_says_since_when_it_collects() -> None:
    since = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    [(text, keyboard)] = views.report("en", -1001, "Circle", DriftReport([], since), UTC)
    assert "since 2026-11-20 09:00" in text and keyboard is None
