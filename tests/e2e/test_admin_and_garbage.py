"""What needs the real process: command menus registered at start-up, and surviving
garbage and Telegram errors (admin commands are in tests/dispatcher/test_flow_admin.py)."""

from __future__ import annotations

from bot.db import Database
from models.users import User
from tests.e2e.conftest import GROUP, MEMBER, BotProcess, seed_chat
from tests.fakegram.server import FakeTelegram


def replies_to(fake: FakeTelegram, chat_id: int, message_id: int) -> list[dict]:
    return [
        m
        for m in fake.sent_messages(chat_id)
        if (m.get("reply_to_message") or {}).get("message_id") == message_id
    ]


async def command(fake: FakeTelegram, chat_id: int, user_id: int, text: str) -> str:
    update = fake.send_message(chat_id, user_id, text)
    assert update is not None
    message_id = update["message"]["message_id"]
    reply = await fake.wait_for(lambda: replies_to(fake, chat_id, message_id))
    return str(reply[-1]["text"])


async def assert_command_menus_registered(fake: FakeTelegram) -> None:
    scopes = {(scope, language) for scope, _chat, language in fake.commands}
    for scope in ("all_private_chats", "all_group_chats", "all_chat_administrators"):
        for language in ("ru", "en"):
            assert (scope, language) in scopes
    # a call is recorded when it returns: the first long poll may still be waiting
    polls = await fake.wait_for(lambda: fake.calls_of("getUpdates"))
    updates = polls[-1].params.get("allowed_updates")
    for kind in (
        "message",
        "edited_message",
        "callback_query",
        "chat_member",
        "my_chat_member",
        "chat_join_request",
    ):
        assert kind in updates


async def test_start_up_registers_command_menus_and_survives_garbage_and_telegram_errors(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    """One start for both (each start of the process costs seconds)."""
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", language="en")
    bot_process.exec_python = True  # `python -m bot` itself, as `make run` starts it
    await bot_process.start()
    date = 1_700_000_000
    chat = {"id": GROUP, "type": "supergroup", "title": "Hearth Test"}
    maria = {"id": MEMBER, "is_bot": False, "first_name": "Maria"}
    fake.enqueue(
        {
            "poll": {
                "id": "1",
                "question": "?",
                "options": [],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            }
        }
    )
    fake.enqueue(
        {"message": {"message_id": 9001, "date": date, "chat": chat}}
    )  # no sender, no text
    fake.enqueue(
        {
            "message": {
                "message_id": 9002,
                "date": date,
                "chat": chat,
                "from": maria,
                "sticker": {
                    "file_id": "x",
                    "file_unique_id": "y",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                },
            }
        }
    )
    fake.enqueue({"some_future_update": {"x": 1}})
    fake.send_message(GROUP, MEMBER, "/settings@some_other_bot")
    fake.send_message(GROUP, MEMBER, "😀" * 4096)
    fake.send_message(GROUP, MEMBER, "/set " + "🙂" * 3000)
    sent = fake.send_message(GROUP, MEMBER, "a message to edit")
    assert sent is not None
    fake.edit_message(GROUP, MEMBER, sent["message"]["message_id"], "edited ✏️")
    fake.send_message(MEMBER, MEMBER, "\u202e\u200b\x00 weird")

    # Telegram errors: a 429 and a 500 on the next replies are waited out and retried
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    fake.fail_next("sendMessage", 500, "Internal Server Error")
    assert "Be kind" not in await command(fake, GROUP, MEMBER, "/rules")

    # a user who blocked the bot asks to join: the private offer fails with 403, the request
    # is left to the admins, the person is marked unreachable, and the bot carries on
    fake.add_user(42, "Blocker", language_code="en")
    fake.send_message(42, 42, "/start")
    await fake.wait_for(lambda: fake.sent_messages(42))
    fake.block_bot(42)
    fake.join_request(GROUP, 42)
    await fake.wait_for(
        lambda: [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == 42 and not c.ok]
    )
    assert "/me" in await command(fake, MEMBER, MEMBER, "/help")
    await assert_command_menus_registered(fake)
    assert not bot_process.exited()
    assert " ERROR " not in bot_process.log(), bot_process.log()[-3000:]
    assert await bot_process.stop() == 0
    assert not fake.calls_of("declineChatJoinRequest")
    db = Database(bot_process.db_url)
    async with db.transaction() as session:
        blocker = await session.get(User, 42)
        assert blocker is not None and blocker.reachable is False
    await db.close()
