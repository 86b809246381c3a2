"""Circles in a forum (a topic created for a new circle, `/circle link` inside a topic, calls
posted in the circle's topic), circles in /mydata and /forget, and a call's hour kept across
a restart and against a call at the same moment."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select

from bot.services.circles import Call, Called
from models.circles import Circle, CircleCall, CircleMember
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness, restart
from tests.dispatcher.test_circles import (
    circle_chat,
    command,
    join_all,
    later,
    mentions,
    private_texts,
    start,
)
from tests.dispatcher.test_forum import FORUM, forum, in_topic, threads
from tests.dispatcher.test_moderation import say

__all__ = ["circle_chat", "forum"]  # fixtures


async def test_a_new_circle_gets_its_topic_where_the_bot_may_manage_topics(
    forum: Harness,
) -> None:
    h = forum
    await in_topic(h, MEMBER, None, "hello")
    await in_topic(h, OWNER, None, "hello")
    said = await in_topic(h, ADMIN, None, "/circle add chess")  # no right to manage topics
    assert "added." in said[-1]["text"] and h.fake.chat(FORUM).topics == {}
    h.fake.promote(FORUM, h.fake.bot_id, by_user_id=OWNER, can_manage_topics=True)
    await h.settle()

    said = await in_topic(h, ADMIN, None, "/circle add yoga")

    assert "its own topic" in said[-1]["text"]
    ((thread, topic),) = h.fake.chat(FORUM).topics.items()
    assert topic.name == "yoga"
    await in_topic(h, OWNER, None, "/circle join yoga")
    await in_topic(h, MEMBER, None, "/circle join yoga")
    call = await in_topic(h, MEMBER, None, "see #yoga")  # called from General
    assert threads(call) == {thread} and mentions(call[0]) == {OWNER}


async def test_circle_link_inside_a_topic_binds_the_circle_to_it(forum: Harness) -> None:
    h = forum
    games = h.fake.create_topic(FORUM, "Games", OWNER)
    await in_topic(h, OWNER, None, "hello")
    await in_topic(h, ADMIN, None, "/circle add chess")
    said = await in_topic(h, ADMIN, None, "/circle link chess")
    assert "inside the forum topic" in said[-1]["text"]
    said = await in_topic(h, MEMBER, games, "/circle link chess")
    assert "admin" in said[-1]["text"].lower()

    said = await in_topic(h, ADMIN, games, "/circle link chess")

    assert "now go to this topic" in said[-1]["text"]
    await in_topic(h, OWNER, None, "/circle join chess")
    await in_topic(h, MEMBER, None, "/circle join chess")
    call = await in_topic(h, MEMBER, None, "/call chess a game tonight?")
    assert threads(call) == {games}
    assert "a game tonight?" in call[0]["text"] and mentions(call[0]) == {OWNER}


async def test_mydata_lists_circles_and_forget_erases_memberships_and_calls(
    forum: Harness,
) -> None:
    h = forum
    await in_topic(h, OWNER, None, "hello")
    await in_topic(h, ADMIN, None, "/circle add chess")
    await in_topic(h, MEMBER, None, "/circle join chess")
    await in_topic(h, OWNER, None, "/circle join chess")
    await in_topic(h, MEMBER, None, "#chess anyone?")
    await in_topic(h, MEMBER, None, "/circle propose go")
    await start(h, MEMBER)

    h.fake.send_message(MEMBER, MEMBER, "/mydata")
    await h.settle()
    document = json.loads(h.fake.payments.documents[-1]["data"])
    assert document["circles"][0]["circle"] == "chess"
    assert document["circle_calls_made"] == 1
    assert document["circles_proposed"] == [{"chat": "Forum", "circle": "go"}]

    await h.app.hearth.privacy.forget_person(MEMBER)

    async with h.app.db.transaction() as session:
        mine = await session.scalar(
            select(func.count()).select_from(CircleMember).where(CircleMember.user_id == MEMBER)
        )
        calls = await session.scalar(select(func.count()).select_from(CircleCall))
        proposers = (await session.execute(select(Circle.proposed_by))).scalars().all()
    assert mine == 0 and calls == 0
    assert MEMBER not in proposers


async def test_cooldowns_survive_a_restart_and_two_calls_at_once_post_once(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await start(h, OWNER)
    await join_all(h, {MEMBER: "mention", OWNER: "mention", ADMIN: "mention"})
    calls = h.app.hearth.circles.calls
    both = await asyncio.gather(
        calls.call(Call(GROUP, MEMBER, 1, None), "yoga"),
        calls.call(Call(GROUP, OWNER, 2, None), "yoga"),
    )
    assert sorted(r.outcome for r in both) == [Called.SENT, Called.TOO_SOON]

    await restart(h)
    before = len(h.fake.sent_messages(GROUP))
    await later(h, timedelta(minutes=30))
    await say(h, OWNER, "#yoga")
    assert len(h.fake.sent_messages(GROUP)) == before  # the hour is a row: still running
    assert "not posted" in private_texts(h, OWNER)[-1]


async def test_leaving_the_chat_leaves_its_circles(circle_chat: Harness) -> None:
    h = circle_chat
    await join_all(h, {MEMBER: "mention", OWNER: "mention"})
    h.fake.user_leaves(GROUP, MEMBER)
    await h.settle()
    async with h.app.db.transaction() as session:
        left = await session.scalar(
            select(func.count()).select_from(CircleMember).where(CircleMember.user_id == MEMBER)
        )
    assert left == 0
    assert "yoga (1)" in await command(h, OWNER, "/circles")
