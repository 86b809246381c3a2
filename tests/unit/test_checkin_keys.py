"""The outbox keys of check-in messages: the exact strings rows already in the outbox carry."""

from __future__ import annotations

import pytest

from bot.services.checkins import keys


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (keys.GroupPost(42), "ci:42:g"),
        (keys.Digest(42), "ci:42:d"),
        (keys.Invite(42, 1001), "ci:42:p:1001"),
        (keys.Reminder(42, 1001), "ci:42:r:1001"),
        (keys.Support(42, 1001, 2, 7), "ci:42:h:1001:2:7"),
        (keys.Nudge(-1001234, 1001, "20261201"), "nudge:-1001234:1001:20261201"),
        (keys.Nudge(-1001234, 1001, "20261201", buddy=True), "nudge:-1001234:1001:20261201:b"),
    ],
)
def test_keys_keep_their_stored_strings_and_parse_back(key: keys.Key, text: str) -> None:
    assert key.encode() == text
    assert keys.parse(text) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ci:",
        "ci:x:p:1",
        "ci:42:p",
        "ci:42:p:abc",
        "ci:42:q:1",
        "ci:42:g:1",
        "ci:42:h:1:2",
        "ci:a:42",  # a button's callback data, not an outbox key
        "nudge:1:2",
        "nudge:1:2:2026120:b",
        "nudge:1:2:20261201:x",
        "ban:1:2",
        "ci:٤٢:p:1",  # digits, but not ASCII ones
    ],
)
def test_anything_else_is_not_a_checkin_key(text: str) -> None:
    assert keys.parse(text) is None


def test_prompts_are_the_invite_and_the_reminder() -> None:
    assert keys.prompts(5, 9) == ["ci:5:p:9", "ci:5:r:9"]
    assert all(k.startswith(keys.PREFIX) for k in keys.prompts(5, 9))
