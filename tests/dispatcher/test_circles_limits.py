"""Circles at their limits (review findings): a /call's long text, names longer once stored
than they look, lists past Telegram's 4,096 characters, proposals that lapse, `#` inside
links, and members who blocked the bot."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.messages import MESSAGE_LIMIT, utf16_length
from models.circles import Circle
from models.outbox import OutboxMessage
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_circles import (
    HOUR,
    circle_chat,
    command,
    drain,
    join_all,
    later,
    mentions,
    press,
    private_texts,
    start,
    with_button,
)
from tests.dispatcher.test_ledger import join_and_verify
from tests.dispatcher.test_moderation import say

__all__ = ["circle_chat"]  # fixture

MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")  # what Telegram makes a mention


async def test_a_long_call_is_refused_before_its_hour_is_used_and_names_in_it_mention_nobody(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await start(h, MEMBER, ADMIN)
    await join_all(h, {MEMBER: "mention", OWNER: "mention", ADMIN: "private"})
    before = len(h.fake.sent_messages(GROUP))

    answer = await command(h, MEMBER, "/call yoga " + "x" * 501)

    assert "up to 500 characters" in answer
    assert len(h.fake.sent_messages(GROUP)) == before + 1  # the answer only
    posted = len(h.fake.sent_messages(GROUP))
    await command(h, MEMBER, "/call yoga tonight? ask @everyone_here and @spammer_bot " + "y" * 400)
    await drain(h)
    (call,) = h.fake.sent_messages(GROUP)[posted:]  # the hour was still free
    assert mentions(call) == {OWNER} and "@" in call["text"]
    assert not MENTION.search(call["text"])
    private = next(m["text"] for m in h.fake.sent_messages(ADMIN) if "yoga" in m["text"])
    assert "tonight?" in private and not MENTION.search(private)


async def test_the_callers_words_come_once_however_many_messages_of_mentions(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    crowd = list(range(600, 609))
    for user_id in crowd:
        h.fake.add_user(user_id, f"P{user_id}", language_code="en")
        h.fake.set_member(GROUP, user_id, "member")
        await command(h, user_id, "/circle join yoga")
    await command(h, MEMBER, "/circle join yoga")
    before = len(h.fake.sent_messages(GROUP))

    await command(h, MEMBER, "/call yoga meet at the park gate")

    posts = h.fake.sent_messages(GROUP)[before:]
    assert [len(mentions(m)) for m in posts] == [5, 4]
    assert ["park gate" in m["text"] for m in posts] == [True, False]


async def test_names_that_grow_when_stored_are_refused(circle_chat: Harness) -> None:
    """`ß` folds to `ss` in the key, a combining accent is a character of its own: the
    stored columns hold 32 (PostgreSQL refused longer values and the command crashed)."""
    h = circle_chat
    assert "cannot be" in await command(h, ADMIN, "/circle add " + "ß" * 20)
    assert "cannot be" in await command(h, MEMBER, "/circle propose " + "ß" * 20)
    assert "cannot be" in await command(h, ADMIN, "/circle add " + "e\u0301" * 20)
    assert "added" in await command(h, ADMIN, "/circle add " + "ß" * 16)
    assert "added" in await command(h, ADMIN, "/circle add " + "e\u0301" * 16)
    async with h.app.db.transaction() as session:
        rows = (await session.execute(select(Circle.name, Circle.key))).all()
    assert max(max(len(name), len(key)) for name, key in rows) == 32


async def many_circles(h: Harness, count: int) -> None:
    for n in range(count):
        await h.app.hearth.circles.book.add(GROUP, f"circle_{n:02}", "d" * 200, False)
    h.app.hearth.circles.book.forget(GROUP)


async def test_long_lists_are_split_and_the_toggle_list_fits_one_message(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await many_circles(h, 60)
    before = len(h.fake.sent_messages(GROUP))

    h.fake.send_message(GROUP, MEMBER, "/circles")
    await h.settle()

    pages = [m["text"] for m in h.fake.sent_messages(GROUP)[before:]]
    assert len(pages) >= 2 and all(utf16_length(p) <= MESSAGE_LIMIT for p in pages)
    listed = "\n".join(pages)
    assert all(f"circle_{n:02}" in listed for n in range(60)) and "yoga" in listed
    assert "d" * 60 not in listed  # descriptions are shortened in lists

    await start(h, NEWCOMER)
    await join_and_verify(h)
    await drain(h)
    offer = with_button(h, NEWCOMER, "cc:t:")  # the after-verification offer arrives
    assert "more (the buttons below)" in offer["text"]
    buttons = [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
    assert "circle_59" in buttons and "yoga" in buttons
    await press(h, NEWCOMER, NEWCOMER, offer, "circle_59")  # the edited list fits too
    edited = h.fake.chat(NEWCOMER).messages[offer["message_id"]]
    assert "✅ circle_59" in str(edited["reply_markup"])
    h.fake.send_message(NEWCOMER, NEWCOMER, "/circles")
    await h.settle()
    assert "Circles of “Circle”" in private_texts(h, NEWCOMER)[-1]


async def test_a_proposal_lapses_after_a_week_and_a_member_has_one_open(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await command(h, ADMIN, "/set circle_quorum 3")
    h.fake.send_message(GROUP, MEMBER, "/circle propose chess")
    await h.settle()
    post = with_button(h, GROUP, "cc:s:")
    assert "a proposal open already" in await command(h, MEMBER, "/circle propose go")
    assert "already" in await command(h, OWNER, "/circle propose chess")

    await later(h, timedelta(days=7, minutes=1))
    await press(h, BOSS, GROUP, post, "I'm in")
    assert "no longer open" in str(h.fake.calls_of("answerCallbackQuery")[-1].params)
    h.fake.send_message(GROUP, OWNER, "/circle propose chess")  # the name is free again
    await h.settle()
    assert with_button(h, GROUP, "cc:s:")["message_id"] != post["message_id"]
    h.fake.send_message(GROUP, MEMBER, "/circle propose go")  # and so is the proposer
    await h.settle()
    assert "go" in with_button(h, GROUP, "cc:s:")["text"]

    await later(h, timedelta(days=8))
    await h.app.hearth.circles.weekly.tick()  # lapsed proposals are removed
    async with h.app.db.transaction() as session:
        left = (await session.execute(select(Circle.name))).scalars().all()
    assert left == ["yoga"]


async def test_a_hash_inside_a_link_calls_nobody(circle_chat: Harness) -> None:
    h = circle_chat
    await join_all(h, {MEMBER: "mention", OWNER: "mention"})
    before = len(h.fake.sent_messages(GROUP))

    await say(h, MEMBER, "see https://docs.example.com/setup#yoga and docs.example.com/a/3#yoga")
    await say(h, MEMBER, "and example.com/#yoga or https://x.org/?q=1&#yoga")

    assert len(h.fake.sent_messages(GROUP)) == before
    await say(h, MEMBER, "(#yoga) after all")
    assert [mentions(m) for m in h.fake.sent_messages(GROUP)[before:]] == [{OWNER}]


async def test_a_member_who_blocked_the_bot_is_not_sent_a_digest_either(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await start(h, ADMIN, BOSS)
    await join_all(h, {MEMBER: "mention", ADMIN: "private", BOSS: "digest"})
    h.fake.block_bot(ADMIN)
    await say(h, MEMBER, "#yoga first")
    await drain(h)  # a 403: ADMIN is marked unreachable
    await later(h, HOUR + timedelta(minutes=1))
    second = await say(h, MEMBER, "#yoga second")

    assert await h.app.hearth.circles.weekly.tick() == 1
    async with h.app.db.transaction() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    private = [r for r in rows if r.key.startswith("call:") and r.chat_id == ADMIN]
    assert len(private) == 1  # the first call only: the bot knew no better then
    digests = {r.chat_id: r.text for r in rows if r.key.startswith("circles:digest:")}
    assert ADMIN not in digests  # it would not arrive
    assert f"/{second}" in digests[BOSS]  # who chose the digest gets it
