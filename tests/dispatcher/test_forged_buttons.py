"""Button data can be forged. Numbers beyond what the database columns hold are answered
like any stale button, on SQLite and on PostgreSQL (which refuses such integers), instead of
failing in a handler and leaving the button spinning."""

from __future__ import annotations

import pytest

from tests.dispatcher.conftest import GROUP, MEMBER, Harness
from tests.dispatcher.test_moderation import say

FORGED = [
    "idea:2147483648:1",  # one past INTEGER
    "kb:o:99999999999",
    "kb:h:0",
    "cc:t:-5",
    "rep:9223372036854775807:ban",
    "st:-1001:999999:0",
]


@pytest.mark.parametrize("data", FORGED)
async def test_a_forged_number_is_a_stale_button(harness: Harness, data: str) -> None:
    h = harness
    message_id = await say(h, MEMBER, "hello")
    h.fake.press_button(MEMBER, GROUP, message_id, data)
    await h.settle()
    answers = h.fake.calls_of("answerCallbackQuery")
    assert answers, "the press must be answered"
    assert "out of date" in str(answers[-1].params.get("text"))
