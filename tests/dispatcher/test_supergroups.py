"""A group upgraded to a supergroup: the fake upgrades it like Telegram (a new id, a service
message in each chat, the old id answering 400 with `migrate_to_chat_id`), and the bot keeps
the chat's rules, settings and filters under the new id."""

from __future__ import annotations

from typing import Any

from models.chats import ChatRepository
from tests.dispatcher.conftest import ADMIN, MEMBER, OWNER, Harness
from tests.dispatcher.test_flow_admin import command

BASIC = -400_001
SUPER = -1_000_400_001


async def basic_group(h: Harness) -> None:
    h.fake.add_chat(BASIC, "Basic", type="group")
    h.fake.set_member(BASIC, OWNER, "creator")
    h.fake.set_member(BASIC, ADMIN, "administrator")
    h.fake.set_member(BASIC, MEMBER, "member")
    h.fake.add_bot_to_chat(BASIC, OWNER, admin=True)
    await h.settle()


def upgrade_messages(h: Harness) -> list[dict[str, Any]]:
    return [
        m
        for chat_id in (BASIC, SUPER)
        for m in h.fake.chat(chat_id).messages.values()
        if "migrate_to_chat_id" in m or "migrate_from_chat_id" in m
    ]


async def test_upgraded_group_keeps_rules_settings_and_filters(harness: Harness) -> None:
    h = harness
    await basic_group(h)
    await command(h, BASIC, ADMIN, "/setrules Be kind.")
    await command(h, BASIC, ADMIN, "/set verify_timeout 10m")
    await command(h, BASIC, ADMIN, "/filter add casino")
    assert "casino" in await command(h, BASIC, ADMIN, "/filters")  # cached for the old id

    h.fake.upgrade_group(BASIC, SUPER, OWNER)
    await h.settle()

    assert "Be kind" in await command(h, SUPER, MEMBER, "/rules")
    assert "10m" in await command(h, SUPER, ADMIN, "/settings")
    spam = h.fake.send_message(SUPER, MEMBER, "play casino now")
    assert spam is not None
    await h.settle()
    assert h.fake.is_deleted(SUPER, spam["message"]["message_id"])
    async with h.app.db.transaction() as session:
        assert await ChatRepository(session).get(BASIC) is None

    # both service messages again (a restart before confirming them): nothing changes
    for message in upgrade_messages(h):
        h.fake.enqueue({"message": message})
    await h.settle()
    assert "10m" in await command(h, SUPER, ADMIN, "/settings")
    async with h.app.db.transaction() as session:
        assert await ChatRepository(session).get(BASIC) is None


async def test_a_send_to_the_old_group_id_goes_to_the_supergroup_and_the_chat_follows(
    harness: Harness,
) -> None:
    h = harness
    await basic_group(h)
    await command(h, BASIC, ADMIN, "/set verify_timeout 10m")
    h.fake.upgrade_group(BASIC, SUPER, OWNER)
    h.fake.clear_updates()  # the bot missed the service messages (down for over a day)

    assert await h.app.hearth.notifier.send(BASIC, "still here?") is not None
    assert await h.app.hearth.notifier.send(BASIC, "and now?") is not None

    assert h.replies(SUPER) == ["still here?", "and now?"]
    refused = [c for c in h.fake.calls_of("sendMessage") if not c.response["ok"]]
    assert len(refused) == 1  # the second went straight to the new id
    assert refused[0].response["parameters"] == {"migrate_to_chat_id": SUPER}
    assert (await h.app.hearth.chat_settings.get(SUPER)).verify_timeout.seconds == 600
