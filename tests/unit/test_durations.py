from datetime import timedelta

import pytest

from bot.durations import format_duration, parse_duration, take_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
        ("0s", timedelta(0)),
    ],
)
def test_parses_the_documented_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10min", timedelta(minutes=10)),
        ("10 mins", timedelta(minutes=10)),
        ("1 hour", timedelta(hours=1)),
        ("3hours", timedelta(hours=3)),
        ("2 hrs", timedelta(hours=2)),
        ("7days", timedelta(days=7)),
        ("1 day", timedelta(days=1)),
        ("2 weeks", timedelta(weeks=2)),
        ("1 week", timedelta(weeks=1)),
        ("30 seconds", timedelta(seconds=30)),
        ("10 мин", timedelta(minutes=10)),
        ("5минут", timedelta(minutes=5)),
        ("1 ч", timedelta(hours=1)),
        ("1 час", timedelta(hours=1)),
        ("2 часа", timedelta(hours=2)),
        ("5 часов", timedelta(hours=5)),
        ("3д", timedelta(days=3)),
        ("3 дн", timedelta(days=3)),
        ("1 день", timedelta(days=1)),
        ("2 дня", timedelta(days=2)),
        ("5 дней", timedelta(days=5)),
        ("1нед", timedelta(weeks=1)),
        ("2 недели", timedelta(weeks=2)),
        ("1 hour 30 min", timedelta(minutes=90)),
        ("1Д 2Ч", timedelta(hours=26)),
    ],
)
def test_parses_the_words_people_type(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        ("7days spam", timedelta(days=7), "spam"),
        ("1 hour", timedelta(hours=1), ""),
        ("10min  too loud", timedelta(minutes=10), "too loud"),
        ("2 дня флуд", timedelta(days=2), "флуд"),
        ("1h30m", timedelta(minutes=90), ""),
        ("10min, flooding", timedelta(minutes=10), "flooding"),
        ("10m.", timedelta(minutes=10), ""),
        ("15 м спам", timedelta(minutes=15), "спам"),
        ("spam 7d", None, "spam 7d"),
        ("", None, ""),
    ],
)
def test_takes_a_leading_duration_and_leaves_the_reason(
    text: str, expected: timedelta | None, rest: str
) -> None:
    assert take_duration(text) == (expected, rest)


@pytest.mark.parametrize("text", ["7dayz spam", "7 spam", "3 links in a row", "1.5h", "1", "5 d3"])
def test_a_leading_number_that_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        take_duration(text)


def test_a_sum_too_long_for_a_timedelta_is_refused_not_overflowed() -> None:
    with pytest.raises(ValueError):
        parse_duration("999999w" * 200)
    with pytest.raises(ValueError):
        take_duration("999999w" * 200 + " spam")


@pytest.mark.parametrize(
    "text", ["", "5", "m5", "5x", "-5m", "5 minutez", "1.5h", "9999999d", "🙂", "7dayz", "5 d3"]
)
def test_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(days=7), "1w"),
        (timedelta(0), "0s"),
        (timedelta(days=365), "52w1d"),
    ],
)
def test_formats_the_shortest_exact_spelling(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
    assert parse_duration(text) == delta


def test_a_duration_longer_than_any_date_is_rejected_not_an_overflow() -> None:
    with pytest.raises(ValueError):
        parse_duration("999999w" * 200)
