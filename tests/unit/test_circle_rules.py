"""The pure rules of circles: names, hashtags, limits and who is reached how."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.messages import MESSAGE_LIMIT, utf16_length
from bot.services.circles.rules import (
    Recipient,
    call_refusal,
    chunks,
    circle_key,
    defuse_mentions,
    hashtag_keys,
    message_link,
    route,
    valid_name,
)
from bot.views import circles as circles_views

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_names_compare_without_case_and_with_yo_as_ye() -> None:
    assert circle_key("Ёлка") == circle_key("ЕЛКА") == "елка"
    assert valid_name("x" * 32) and not valid_name("x" * 33)
    assert not valid_name("two words") and not valid_name("bad-name") and valid_name("go_2")


def test_hashtags_are_found_once_each_and_cheaply_skipped_without_a_hash() -> None:
    assert hashtag_keys("no tags here") == []
    assert hashtag_keys("#Yoga and #yoga, #ёлка!") == ["yoga", "елка"]


def test_a_link_to_a_supergroup_message() -> None:
    assert message_link(-1001000000001, 42) == "https://t.me/c/1000000001/42"


def test_one_call_per_circle_an_hour_and_three_per_caller_a_day() -> None:
    assert call_refusal(NOW, [], []) is None
    last = NOW - timedelta(minutes=10)
    refused = call_refusal(NOW, [last], [])
    assert (
        refused is not None and refused.circle_limit and refused.until == last + timedelta(hours=1)
    )
    day = [NOW - timedelta(hours=h) for h in (20, 5, 2)]
    refused = call_refusal(NOW, [], day)
    assert refused is not None and refused.until == day[0] + timedelta(days=1)
    assert call_refusal(NOW, [], day[1:]) is None


def test_routes_follow_choices_except_big_circles_and_unreachable_people() -> None:
    people = [
        Recipient(1, "mention", True),  # the caller
        Recipient(2, "mention", True),
        Recipient(3, "private", True),
        Recipient(4, "private", False),  # blocked the bot
        Recipient(5, "digest", True),
        Recipient(6, "off", True),
    ]
    routes = route(people, caller_id=1)
    assert (routes.mention, routes.private, routes.digest) == ([2], [3], [4, 5])
    crowd = [Recipient(n, "mention", True) for n in range(100, 111)]  # eleven
    routes = route(crowd, caller_id=1)
    assert routes.mention == [] and len(routes.private) == 11


def test_mentions_come_five_to_a_message() -> None:
    assert [len(c) for c in chunks(list(range(12)))] == [5, 5, 2]


def test_names_count_what_is_stored_the_name_and_its_folded_key() -> None:
    assert not valid_name("ß" * 17)  # the key is "ss" * 17: 34 characters
    assert valid_name("ß" * 16) and len(circle_key("ß" * 16)) == 32
    assert not valid_name("e\u0301" * 17)  # 34 characters as typed and stored
    assert valid_name("e\u0301" * 16)


def test_a_hash_inside_a_link_is_no_hashtag() -> None:
    text = "https://docs.example.com/setup#rules … docs.example.com/issues/3#faq x/#a"
    assert hashtag_keys(text) == []
    assert hashtag_keys("a#b ##c https://x.org/?q=1&#d #ok, (#fine)") == ["ok", "fine"]
    assert hashtag_keys("#" + "x" * 33) == []  # longer than any circle's name


def test_a_callers_text_mentions_nobody() -> None:
    assert defuse_mentions("ask @spammer_bot") == "ask @\u2060spammer_bot"
    assert defuse_mentions("a @ sign") == "a @ sign"


def test_a_busy_weeks_digest_fits_one_message() -> None:
    calls = [(f"circle_{n % 3}", f"https://t.me/c/1000000001/{100000 + n}") for n in range(500)]
    text = circles_views.digest("en", calls)
    assert utf16_length(text) <= MESSAGE_LIMIT
    assert "460 earlier calls" in text and text.endswith("/100499")
