"""Circles in a forum (a topic created for a new circle, `/circle link` inside a topic, calls
posted in the circle's topic), and circles in /mydata and /forget."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from models.circles import Circle, CircleCall, CircleMember
from tests.dispatcher.conftest import ADMIN, MEMBER, OWNER, Harness
from tests.dispatcher.test_circles import mentions, start
from tests.dispatcher.test_forum import FORUM, forum, in_topic, threads

__all__ = ["forum"]


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
