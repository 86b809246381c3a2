"""The fake's forum topics and group upgrades, driven through a real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramMigrateToChat
from aiogram.types import ReplyParameters

from .server import FakeTelegram
from .test_fakegram import ADMIN, ANNA, make_bot

FORUM = -1001234567001
BASIC = -4567001
SUPER = -1004567001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(ADMIN, "Olga")
    server.add_user(ANNA, "Anna")
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    yield client
    await client.session.close()


def forum(fake: FakeTelegram, **rights: bool) -> None:
    fake.add_chat(FORUM, "Forum", is_forum=True)
    fake.set_member(FORUM, ADMIN, "creator")
    fake.set_member(FORUM, ANNA, "member")
    fake.add_bot_to_chat(FORUM, ADMIN)
    if rights:
        fake.promote(FORUM, fake.bot_id, by_user_id=ADMIN, **rights)


async def test_topics_carry_their_thread_and_replies_stay_in_them(
    bot: Bot, fake: FakeTelegram
) -> None:
    forum(fake)
    thread = fake.create_topic(FORUM, "Lobby", ADMIN)
    posted = fake.post_in_topic(FORUM, ANNA, thread, "hello")
    assert posted is not None
    assert posted["message"]["message_thread_id"] == thread
    assert posted["message"]["is_topic_message"] is True

    sent = await bot.send_message(FORUM, "in the topic", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    general = await bot.send_message(FORUM, "in General")
    assert general.message_thread_id is None and not general.is_topic_message
    reply = await bot.send_message(
        FORUM,
        "a reply",
        reply_parameters=ReplyParameters(message_id=posted["message"]["message_id"]),
    )
    assert reply.message_thread_id == thread


async def test_closed_and_unknown_topics_refuse_like_telegram(bot: Bot, fake: FakeTelegram) -> None:
    forum(fake)
    thread = fake.create_topic(FORUM, "Lobby", ADMIN)
    fake.close_topic(FORUM, thread, ADMIN)
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(FORUM, "x", message_thread_id=thread)
    assert fake.post_in_topic(FORUM, ANNA, thread, "x") is None  # members cannot either
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM, "x", message_thread_id=9999)
    fake.delete_topic(FORUM, thread)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM, "x", message_thread_id=thread)


async def test_bot_manages_topics_with_the_right(bot: Bot, fake: FakeTelegram) -> None:
    forum(fake)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_forum_topic(FORUM, "News")
    fake.promote(FORUM, fake.bot_id, by_user_id=ADMIN, can_manage_topics=True)
    topic = await bot.create_forum_topic(FORUM, "News")
    assert await bot.close_forum_topic(FORUM, topic.message_thread_id)
    sent = await bot.send_message(FORUM, "admins may", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id
    assert await bot.reopen_forum_topic(FORUM, topic.message_thread_id)
    assert await bot.delete_forum_topic(FORUM, topic.message_thread_id)


async def test_upgraded_group_sends_both_service_messages_and_refuses_the_old_id(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.add_chat(BASIC, "Basic", type="group")
    fake.set_member(BASIC, ADMIN, "creator")
    fake.set_member(BASIC, ANNA, "member")
    fake.add_bot_to_chat(BASIC, ADMIN)
    fake.clear_updates()

    fake.upgrade_group(BASIC, SUPER, ADMIN)

    updates = await bot.get_updates(timeout=0)
    old, new = (u.message for u in updates)
    assert old is not None and old.chat.id == BASIC and old.migrate_to_chat_id == SUPER
    assert new is not None and new.migrate_from_chat_id == BASIC
    assert new.chat.id == SUPER and new.chat.type == "supergroup"
    with pytest.raises(TelegramMigrateToChat) as raised:
        await bot.send_message(BASIC, "x")
    assert raised.value.migrate_to_chat_id == SUPER
    assert (await bot.get_chat_member(SUPER, ANNA)).status == "member"
