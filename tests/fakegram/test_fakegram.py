"""Tests of the fake Telegram server itself, driven through a real aiogram Bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    ChatFullInfo,
    ChatInviteLink,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from .server import FakeTelegram

GROUP = -1001234567890
ADMIN = 10
ANNA = 11
BORIS = 12


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    return Bot(token or fake.token, session=session)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    yield client
    await client.session.close()


@pytest.fixture
def group(fake: FakeTelegram) -> int:
    """A supergroup with an owner, two members and the bot as a full admin."""
    fake.add_user(ADMIN, "Olga", username="olga")
    fake.add_user(ANNA, "Anna")
    fake.add_user(BORIS, "Boris", username="boris")
    fake.add_chat(GROUP, "Hearth Lounge")
    fake.set_member(GROUP, ADMIN, "creator")
    fake.set_member(GROUP, ANNA, "member")
    fake.set_member(GROUP, BORIS, "member")
    fake.add_bot_to_chat(GROUP, ADMIN)
    fake.clear_updates()
    return GROUP


async def drain(bot: Bot, fake: FakeTelegram, allowed: list[str] | None = None) -> list[Update]:
    """Fetch and confirm everything pending."""
    updates = await bot.get_updates(timeout=0, allowed_updates=allowed)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


# ---------------------------------------------------------------------- transport


async def test_get_me_parses(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.id == fake.bot_id == 123456
    assert me.is_bot and me.username == "hearth_test_bot" and me.can_join_groups
    assert fake.calls_of("getMe")[0].response["ok"] is True


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    wrong = make_bot(fake, "999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()


async def test_raw_http_forms(fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    base = f"{fake.url}/bot{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/GETME") as resp:
            assert resp.status == 200
            assert (await resp.json())["result"]["id"] == fake.bot_id
        async with http.post(f"{base}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{base}/sendMessage?chat_id={ANNA}&text=123") as resp:
            assert (await resp.json())["result"]["text"] == "123"
        markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
        body = {"chat_id": str(ANNA), "text": "json", "reply_markup": markup}
        async with http.post(f"{base}/sendmessage", json=body) as resp:
            result = (await resp.json())["result"]
            assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
        form = aiohttp.FormData()
        form.add_field("chat_id", str(ANNA))
        form.add_field("text", "multi")
        form.add_field("disable_notification", "true")
        form.add_field("doc", b"bytes", filename="a.txt")
        async with http.post(f"{base}/sendMessage", data=form) as resp:
            assert (await resp.json())["result"]["text"] == "multi"
    last = fake.calls_of("sendMessage")[-1]
    assert last.params["chat_id"] == ANNA and last.params["disable_notification"] is True
    assert fake.calls_of("sendMessage")[1].params["reply_markup"]["inline_keyboard"]


# ---------------------------------------------------------------------- updates


async def test_long_poll_wakes_on_update_and_confirms_by_offset(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.add_user(ANNA, "Anna")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda: fake.polls_started == 1)  # the poll is waiting
    fake.send_message(ANNA, ANNA, "/start")
    updates = await poll
    assert time.monotonic() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert isinstance(message, Message)
    assert message.text == "/start" and message.chat.type == "private"
    assert message.entities and message.entities[0].type == "bot_command"
    assert fake.users[ANNA].started_bot

    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [updates[0].update_id]
    assert fake.pending_updates == 1
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []
    assert fake.pending_updates == 0


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_allowed_updates_filtering(bot: Bot, fake: FakeTelegram, group: int) -> None:
    fake.add_user(20, "Vera")
    fake.user_joins(group, 20)  # chat_member + service message
    updates = await bot.get_updates(timeout=0)  # default: no chat_member
    assert [u.event_type for u in updates] == ["message"]
    assert updates[0].message and updates[0].message.new_chat_members

    fake.user_leaves(group, 20)
    updates = await drain(bot, fake, ["message", "chat_member"])
    assert [u.event_type for u in updates] == ["message", "chat_member", "message"]
    # the list is remembered by later calls without allowed_updates
    joined = fake.user_joins(group, 20, via_link=True)
    updates = await drain(bot, fake)
    assert updates[0].chat_member is not None
    assert updates[0].chat_member.invite_link is not None
    assert updates[0].update_id == joined["update_id"]


async def test_second_poller_terminates_first(bot: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda: fake.polls_started == 1)
    other = make_bot(fake)
    try:
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await first
        assert await second == []
    finally:
        await other.session.close()


async def test_stop_releases_long_poll(bot: Bot, fake: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for(lambda: fake.polls_started == 1)
    started = time.monotonic()
    await fake.stop()
    assert await poll == []
    assert time.monotonic() - started < 2


async def test_webhook_blocks_polling(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna")
    fake.send_message(ANNA, ANNA, "hi")
    assert await bot.set_webhook("https://example.com/hook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook" and info.pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


async def test_garbage_update_is_delivered(bot: Bot, fake: FakeTelegram) -> None:
    stored = fake.enqueue({"message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "x"}}})
    assert stored["update_id"] == 1
    updates = await bot.get_updates(timeout=0)
    assert updates[0].update_id == 1


async def test_dispatcher_polling_end_to_end(fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna")
    dp = Dispatcher()

    @dp.message(F.text == "/start")
    async def hello(message: Message) -> None:
        await message.answer("<b>Hello</b>, friend", parse_mode="HTML")

    client = make_bot(fake)
    polling = asyncio.create_task(dp.start_polling(client, handle_signals=False))
    try:
        fake.send_message(ANNA, ANNA, "/start")
        sent = await fake.wait_for(lambda: fake.sent_messages(ANNA))
        assert sent[0]["text"] == "Hello, friend"
        assert sent[0]["entities"] == [{"offset": 0, "length": 5, "type": "bold"}]
        await fake.wait_for(lambda: fake.pending_updates == 0)
    finally:
        await dp.stop_polling()
        await polling
        await client.session.close()


# ---------------------------------------------------------------------- sendMessage


async def test_private_chat_rules(bot: Bot, fake: FakeTelegram, group: int) -> None:
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(ANNA, "hi")
    fake.send_message(ANNA, ANNA, "/start")
    first = await bot.send_message(ANNA, "hi")
    second = await bot.send_message(ANNA, "again")
    assert (first.message_id, second.message_id) == (2, 3)  # the user's /start took id 1
    fake.block_bot(ANNA)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hi")

    fake.join_request(group, BORIS)  # opens a 5 minute window for a DM
    assert (await bot.send_message(BORIS, "Please answer the question")).chat.id == BORIS
    fake.advance(301)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(BORIS, "late")


async def test_text_validation(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ANNA, "")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ANNA, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANNA, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANNA, "😀" * 2049)  # 4098 UTF-16 code units
    ok = await bot.send_message(ANNA, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert ok.text is not None and len(ok.text) == 4096

    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ANNA, "buttons", reply_markup=markup)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("a <b>x</i>", 'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
    ],
)
async def test_html_parse_errors(bot: Bot, fake: FakeTelegram, html: str, error: str) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
        await bot.send_message(ANNA, html, parse_mode="HTML")
    assert error in caught.value.message


async def test_html_entities(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    html = (
        "😀 <b>bold <i>both</i></b> &lt;tag&gt; &amp; AT&T &quot;q&quot; "
        '<a href="https://example.com/?a=1&amp;b=2">link</a> <tg-spoiler>s</tg-spoiler> '
        '<span class="tg-spoiler">p</span> <pre><code class="language-python">x=1</code></pre> '
        "<blockquote expandable>quote</blockquote> "
        f'<a href="tg://user?id={ANNA}">Anna</a>'
    )
    message = await bot.send_message(ANNA, html, parse_mode="HTML")
    assert message.text == '😀 bold both <tag> & AT&T "q" link s p x=1 quote Anna'
    entities = [(e.type, e.offset, e.length) for e in message.entities or []]
    assert entities[:2] == [("bold", 3, 9), ("italic", 8, 4)]  # the emoji counts as 2
    by_type = {e.type: e for e in message.entities or []}
    assert by_type["text_link"].url == "https://example.com/?a=1&b=2"
    assert by_type["pre"].language == "python" and "code" not in by_type
    assert {"spoiler", "expandable_blockquote", "text_mention"} <= by_type.keys()
    assert by_type["text_mention"].user is not None and by_type["text_mention"].user.id == ANNA


async def test_group_membership_rules(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ADMIN, "Olga")
    fake.add_chat(GROUP, "Lounge")
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup"):
        await bot.send_message(GROUP, "hi")
    fake.set_member(GROUP, fake.bot_id, "restricted", can_send_messages=False)
    with pytest.raises(TelegramBadRequest, match="not enough rights to send text messages"):
        await bot.send_message(GROUP, "hi")
    update = fake.add_bot_to_chat(GROUP, ADMIN, admin=False)
    assert update["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert (await bot.send_message(GROUP, "hi")).chat.id == GROUP


async def test_reply_and_user_posting_rules(bot: Bot, fake: FakeTelegram, group: int) -> None:
    fake.add_user(30, "Stranger")
    assert fake.send_message(group, 30, "spam") is None  # not a member
    assert fake.send_message(group, 30, "race", force=True) is not None
    posted = fake.send_message(group, ANNA, "question?")
    assert posted is not None
    asked = posted["message"]["message_id"]
    answer = await bot.send_message(group, "answer", reply_to_message_id=asked)
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "question?"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(group, "x", reply_to_message_id=999)
    reply = fake.send_message(group, BORIS, "thanks", reply_to_message_id=answer.message_id)
    assert reply is not None
    assert reply["message"]["reply_to_message"]["from"]["id"] == fake.bot_id
    assert [m["text"] for m in fake.live_messages(group)][-3:] == ["question?", "answer", "thanks"]


# ---------------------------------------------------------------------- flood limits


async def test_group_limit_kicks_in_at_21st_message(
    bot: Bot, fake: FakeTelegram, group: int
) -> None:
    for i in range(20):
        await bot.send_message(group, f"message {i}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group, "one too many")
    assert 1 <= caught.value.retry_after <= 60
    assert fake.rate_limited == 1
    assert fake.calls_of("sendMessage")[-1].response["parameters"]["retry_after"] >= 1
    assert len(fake.sent_messages(group)) == 20
    fake.advance(61)
    await bot.send_message(group, "the window moved on")


async def test_private_chat_token_bucket(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    for i in range(5):  # the burst
        await bot.send_message(ANNA, f"burst {i}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANNA, "sixth")
    assert caught.value.retry_after == 1
    fake.advance(1.0)  # one token back at 1 message per second
    await bot.send_message(ANNA, "refilled")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ANNA, "again")
    assert fake.rate_limited == 2


async def test_global_limit_per_second() -> None:
    fake = FakeTelegram(global_limit_per_second=3)
    await fake.start()
    client = make_bot(fake)
    try:
        for user_id in (1, 2, 3, 4):
            fake.add_user(user_id, f"U{user_id}", started_bot=True)
        for user_id in (1, 2, 3):
            await client.send_message(user_id, "hi")
        with pytest.raises(TelegramRetryAfter) as caught:
            await client.send_message(4, "hi")  # 4th message within one second overall
        assert caught.value.retry_after == 1
        fake.advance(1.0)
        await client.send_message(4, "hi")
        assert fake.rate_limited == 1
    finally:
        await client.session.close()
        await fake.stop()


async def test_injected_failures(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    fake.add_user(BORIS, "Boris", started_bot=True)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANNA, "hi")
    assert caught.value.retry_after == 7
    await bot.send_message(ANNA, "hi")
    fake.fail_next(
        "sendmessage",
        403,
        "Forbidden: user is deactivated",
        times=2,
        when=lambda params: params["chat_id"] == BORIS,
    )
    await bot.send_message(ANNA, "fine")
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="deactivated"):
            await bot.send_message(BORIS, "hi")
    await bot.send_message(BORIS, "hi")
    assert fake.rate_limited == 0


# ---------------------------------------------------------------------- edit & delete


async def test_edit_message(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", started_bot=True)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]]
    )
    sent = await bot.send_message(ANNA, "v1", reply_markup=markup)
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "ok"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "v1", chat_id=ANNA, message_id=sent.message_id, reply_markup=markup
        )
    edited = await bot.edit_message_text("v2", chat_id=ANNA, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "v2"
    assert edited.reply_markup is None  # Telegram drops the keyboard when not re-sent
    await bot.edit_message_reply_markup(
        chat_id=ANNA, message_id=sent.message_id, reply_markup=markup
    )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ANNA, message_id=999)
    assert fake.sent_messages(ANNA)[0]["text"] == "v2"
    assert fake.sent_messages(ANNA)[0]["reply_markup"]["inline_keyboard"]


async def test_delete_message_rights(bot: Bot, fake: FakeTelegram, group: int) -> None:
    own = await bot.send_message(group, "mine")
    assert await bot.delete_message(group, own.message_id)
    assert fake.is_deleted(group, own.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(group, own.message_id)
    assert len(fake.sent_messages(group)) == 1 and fake.live_messages(group) == []

    posted = fake.send_message(group, ANNA, "spam")
    assert posted is not None
    spam_id = posted["message"]["message_id"]
    fake.set_member(group, fake.bot_id, "administrator", can_delete_messages=False)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(group, spam_id)
    fake.set_member(group, fake.bot_id, "administrator")
    assert await bot.delete_messages(group, [spam_id, 12345])
    assert fake.is_deleted(group, spam_id)


# ---------------------------------------------------------------------- moderation


async def test_restrict_chat_member(bot: Bot, fake: FakeTelegram, group: int) -> None:
    mute = ChatPermissions(can_send_messages=False)
    with pytest.raises(TelegramBadRequest, match="user is an administrator of the chat"):
        await bot.restrict_chat_member(group, ADMIN, mute)
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.restrict_chat_member(group, 777, mute)

    until = int(time.time()) + 3600
    assert await bot.restrict_chat_member(group, ANNA, mute, until_date=until)
    member = await bot.get_chat_member(group, ANNA)
    assert isinstance(member, ChatMemberRestricted)
    assert member.is_member and not member.can_send_messages and not member.can_send_photos
    assert fake.member_status(group, ANNA) == "restricted"
    assert fake.send_message(group, ANNA, "muted?") is None

    updates = await drain(bot, fake, ["chat_member", "message"])
    change = updates[0].chat_member
    assert change is not None and change.from_user.id == fake.bot_id
    assert isinstance(change.old_chat_member, ChatMemberMember)
    assert isinstance(change.new_chat_member, ChatMemberRestricted)

    everything = ChatPermissions(**dict.fromkeys(ChatPermissions.model_fields, True))
    assert await bot.restrict_chat_member(group, ANNA, everything)
    assert isinstance(await bot.get_chat_member(group, ANNA), ChatMemberMember)

    fake.set_member(group, fake.bot_id, "administrator", can_restrict_members=False)
    with pytest.raises(TelegramBadRequest, match="not enough rights to restrict/unrestrict"):
        await bot.restrict_chat_member(group, ANNA, mute)


async def test_ban_and_unban(bot: Bot, fake: FakeTelegram, group: int) -> None:
    posted = fake.send_message(group, ANNA, "spam")
    assert posted is not None
    assert await bot.ban_chat_member(group, ANNA, revoke_messages=True)
    assert isinstance(await bot.get_chat_member(group, ANNA), ChatMemberBanned)
    assert fake.is_deleted(group, posted["message"]["message_id"])
    with pytest.raises(TelegramBadRequest, match="can't remove chat owner"):
        await bot.ban_chat_member(group, ADMIN)

    assert await bot.unban_chat_member(group, ANNA, only_if_banned=True)
    assert isinstance(await bot.get_chat_member(group, ANNA), ChatMemberLeft)

    assert await bot.unban_chat_member(group, BORIS, only_if_banned=True)
    assert fake.member_status(group, BORIS) == "member"
    assert await bot.unban_chat_member(group, BORIS)  # Telegram kicks a present member out
    assert fake.member_status(group, BORIS) == "left"

    updates = await drain(bot, fake, ["chat_member"])
    statuses = [
        (u.chat_member.new_chat_member.user.id, u.chat_member.new_chat_member.status)
        for u in updates
        if u.chat_member
    ]
    assert statuses == [(ANNA, "kicked"), (ANNA, "left"), (BORIS, "left")]


async def test_join_requests(bot: Bot, fake: FakeTelegram, group: int) -> None:
    fake.add_user(40, "Gleb")
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.approve_chat_join_request(group, 40)
    fake.join_request(group, 40)
    updates = await drain(bot, fake, ["chat_join_request", "chat_member", "message"])
    request = updates[0].chat_join_request
    assert request is not None and request.user_chat_id == 40 and request.from_user.id == 40

    assert await bot.approve_chat_join_request(group, 40)
    assert fake.member_status(group, 40) == "member"
    updates = await drain(bot, fake)
    assert [u.event_type for u in updates] == ["chat_member", "message"]
    assert updates[0].chat_member and updates[0].chat_member.via_join_request
    assert updates[1].message and updates[1].message.new_chat_members

    fake.add_user(41, "Dina")
    fake.join_request(group, 41)
    assert await bot.decline_chat_join_request(group, 41)
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.decline_chat_join_request(group, 41)
    assert fake.member_status(group, 41) == "left"


async def test_callback_query(bot: Bot, fake: FakeTelegram, group: int) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="I am human", callback_data="captcha:11")]]
    )
    sent = await bot.send_message(group, "Press the button", reply_markup=markup)
    fake.press_button(ANNA, group, sent.message_id, "captcha:11")
    updates = await drain(bot, fake)
    query = updates[0].callback_query
    assert isinstance(query, CallbackQuery)
    assert query.data == "captcha:11" and query.from_user.id == ANNA and query.chat_instance
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Welcome!")
    assert fake.callback_answers == [{"callback_query_id": query.id, "text": "Welcome!"}]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


# ---------------------------------------------------------------------- chat info & misc


async def test_chat_info(bot: Bot, fake: FakeTelegram, group: int) -> None:
    info = await bot.get_chat(group)
    assert isinstance(info, ChatFullInfo) and info.title == "Hearth Lounge"
    assert info.permissions is not None and info.permissions.can_send_messages
    private = await bot.get_chat(ANNA)
    assert private.type == "private" and private.first_name == "Anna"

    admins = await bot.get_chat_administrators(group)
    assert isinstance(admins[0], ChatMemberOwner)
    assert any(isinstance(a, ChatMemberAdministrator) and a.user.id == fake.bot_id for a in admins)
    assert await bot.get_chat_member_count(group) == 4

    link = await bot.create_chat_invite_link(group, name="spring", creates_join_request=True)
    assert isinstance(link, ChatInviteLink) and link.creates_join_request
    assert (await bot.export_chat_invite_link(group)).startswith("https://t.me/+")
    assert await bot.send_chat_action(group, "typing")
    assert await bot.leave_chat(group)
    assert fake.member_status(group, fake.bot_id) == "left"


async def test_promote_and_demote(bot: Bot, fake: FakeTelegram, group: int) -> None:
    fake.promote(group, ANNA, can_restrict_members=False)
    member = await bot.get_chat_member(group, ANNA)
    assert isinstance(member, ChatMemberAdministrator) and not member.can_restrict_members
    fake.demote(group, ANNA)
    assert fake.member_status(group, ANNA) == "member"
    updates = await drain(bot, fake, ["chat_member"])
    assert [u.chat_member.from_user.id for u in updates if u.chat_member] == [ADMIN, ADMIN]


async def test_webhook_url_rules(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://example.com/hook")
    assert await bot.set_webhook("http://127.0.0.1:8080/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:8080/hook"


async def test_commands_per_scope(bot: Bot, fake: FakeTelegram) -> None:
    default = [BotCommand(command="help", description="Help")]
    chat_scope = BotCommandScopeChat(chat_id=GROUP)
    assert await bot.set_my_commands(default)
    assert await bot.set_my_commands(
        [BotCommand(command="warn", description="Warn")], scope=chat_scope, language_code="ru"
    )
    assert fake.commands[("default", None, "")] == [{"command": "help", "description": "Help"}]
    assert fake.commands[("chat", GROUP, "ru")][0]["command"] == "warn"
    got = await bot.get_my_commands(scope=BotCommandScopeDefault())
    assert [c.command for c in got] == ["help"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    assert await bot.delete_my_commands(scope=chat_scope, language_code="ru")
    assert ("chat", GROUP, "ru") not in fake.commands


async def test_wait_for_reports_recent_calls(bot: Bot, fake: FakeTelegram) -> None:
    await bot.get_me()
    with pytest.raises(AssertionError, match="getMe"):
        await fake.wait_for(lambda: fake.sent_messages(), timeout=0.2)
    assert await fake.wait_for(lambda: len(fake.calls), timeout=0.2) == 1
