"""Who is an admin: Telegram admins (cached, refreshed on change), anonymous admins, owners."""

from __future__ import annotations

import pytest

from tests.dispatcher.conftest import BOSS, GROUP, MEMBER, Harness


async def test_owner_ids_are_admins_everywhere(harness: Harness) -> None:
    harness.fake.send_message(GROUP, BOSS, "/set probation 14d")
    await harness.settle()
    assert "Done" in harness.replies(GROUP)[-1]
    assert (await harness.app.hearth.chat_settings.get(GROUP)).raw("probation") == "2w"


async def test_anonymous_admin_posting_as_the_chat_is_an_admin(harness: Harness) -> None:
    sender_chat = {"id": GROUP, "type": "supergroup", "title": "Circle"}
    harness.fake.add_user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
    harness.fake.send_message(
        GROUP, 1087968824, "/set language ru", sender_chat=sender_chat, force=True
    )
    await harness.settle()
    assert (await harness.app.hearth.chat_settings.get(GROUP)).language == "ru"


async def test_a_member_promoted_to_admin_is_recognised_at_once(harness: Harness) -> None:
    harness.fake.send_message(GROUP, MEMBER, "/set probation 1d")
    await harness.settle()
    assert "administrators" in harness.replies(GROUP)[-1]
    harness.fake.promote(GROUP, MEMBER)
    await harness.settle()
    harness.fake.send_message(GROUP, MEMBER, "/set probation 1d")
    await harness.settle()
    assert "Done" in harness.replies(GROUP)[-1]


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("/set price ²", "price"),  # isdigit() says yes, int() says no
        ("/set timezone Europe", "timezone"),  # a folder of the zone database
        ("/set timezone " + "x" * 5000, "timezone"),  # too long for a file name
    ],
)
async def test_a_malformed_setting_value_gets_one_clear_reply(
    harness: Harness, command: str, key: str
) -> None:
    before = len(harness.replies(GROUP))
    harness.fake.send_message(GROUP, BOSS, command)
    await harness.settle()
    replies = harness.replies(GROUP)[before:]
    assert len(replies) == 1
    assert f"That value does not fit {key}" in replies[0]
