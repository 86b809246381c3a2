"""Forum supergroups: posts go to the topic chosen with `/set topic here`, replies to the
topic the command came from, moderation works in every topic, and a closed topic falls back
to General (telling the admins once) instead of swallowing verification."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.outbox import queue
from tests.dispatcher.conftest import ADMIN, MEMBER, NEWCOMER, OWNER, Harness

FORUM = -1_000_500_001
LATECOMER = 501


@pytest.fixture
async def forum(harness: Harness) -> Harness:
    h = harness
    h.fake.add_user(LATECOMER, "Lev", username="lev", language_code="en")
    h.fake.add_chat(FORUM, "Forum", is_forum=True)
    h.fake.set_member(FORUM, OWNER, "creator")
    h.fake.set_member(FORUM, ADMIN, "administrator")
    h.fake.set_member(FORUM, MEMBER, "member")
    h.fake.add_bot_to_chat(FORUM, OWNER, admin=True)
    await h.settle()
    return h


async def in_topic(h: Harness, user_id: int, thread: int | None, text: str) -> list[dict[str, Any]]:
    """Post in a topic (None: General), let the bot work; the messages it sent meanwhile."""
    before = len(h.fake.sent_messages(FORUM))
    if thread is None:
        update = h.fake.send_message(FORUM, user_id, text)
    else:
        update = h.fake.post_in_topic(FORUM, user_id, thread, text)
    assert update is not None
    await h.settle()
    return h.fake.sent_messages(FORUM)[before:]


def threads(messages: list[dict[str, Any]]) -> set[int | None]:
    return {m.get("message_thread_id") for m in messages}


async def test_a_listing_is_answered_wholly_in_the_topic_of_the_command(forum: Harness) -> None:
    h = forum
    for number in range(60):  # two messages' worth of stop words
        await h.app.hearth.moderation.add_stop_word(FORUM, f"phrase {number} " + "x" * 80)
    admins = h.fake.create_topic(FORUM, "Admins", OWNER)

    listing = await in_topic(h, ADMIN, admins, "/filters")

    assert len(listing) >= 2
    assert threads(listing) == {admins}
    assert all(m.get("is_topic_message") for m in listing)
    general = await in_topic(h, ADMIN, None, "/filters")  # and in General, in General
    assert threads(general) == {None}


async def test_welcomes_and_check_in_posts_go_to_the_topic_chosen_with_set_topic_here(
    forum: Harness,
) -> None:
    h = forum
    lobby = h.fake.create_topic(FORUM, "Lobby", OWNER)
    done = await in_topic(h, ADMIN, lobby, "/set topic here")
    assert "Done" in done[0]["text"] and threads(done) == {lobby}

    h.fake.user_joins(FORUM, NEWCOMER)
    await h.settle()
    welcome = [m for m in h.fake.sent_messages(FORUM) if "Nina" in m.get("text", "")]
    assert welcome and threads(welcome) == {lobby}

    await in_topic(h, ADMIN, None, "/set quiet_hours off")
    started = await in_topic(h, ADMIN, None, "/checkin_now")  # its reply: in General
    assert "Check-in started" in started[0]["text"] and threads(started) == {None}
    await h.app.hearth.outbox.drain()  # the round's post (and later its digest): outbox rows
    post = h.fake.sent_messages(FORUM)[-1]
    assert post.get("reply_markup") and threads([post]) == {lobby}


async def test_a_closed_topic_falls_back_to_general_and_the_admins_hear_it_once(
    forum: Harness,
) -> None:
    h = forum
    lobby = h.fake.create_topic(FORUM, "Lobby", OWNER)
    await in_topic(h, ADMIN, lobby, "/set topic here")
    h.fake.close_topic(FORUM, lobby, OWNER)
    await h.settle()

    h.fake.user_joins(FORUM, NEWCOMER)
    await h.settle()
    async with h.app.db.transaction() as session:
        await queue(session, "forum-post", FORUM, "This week's check-in", now=h.clock.now())
    await h.app.hearth.outbox.drain()
    h.fake.user_joins(FORUM, LATECOMER)
    await h.settle()

    sent = h.fake.sent_messages(FORUM)
    welcomes = [m for m in sent if "Nina" in m["text"] or "Lev" in m["text"]]
    assert len(welcomes) == 2 and threads(welcomes) == {None}  # verification still asked
    assert threads([m for m in sent if "check-in" in m["text"]]) == {None}
    notices = [m for m in sent if "closed or deleted" in m["text"]]
    assert len(notices) == 1 and threads(notices) == {None}
    assert (await h.app.hearth.chat_settings.get(FORUM)).topic is None
    # verification is on: who does not confirm in time is removed
    assert h.fake.member_status(FORUM, NEWCOMER) == "restricted"
    h.clock.advance(timedelta(minutes=5))
    await h.settle()
    assert h.fake.member_status(FORUM, NEWCOMER) == "left"


async def test_a_deleted_topic_falls_back_too(forum: Harness) -> None:
    h = forum
    lobby = h.fake.create_topic(FORUM, "Lobby", OWNER)
    await in_topic(h, ADMIN, lobby, "/set topic here")
    h.fake.delete_topic(FORUM, lobby)

    h.fake.user_joins(FORUM, NEWCOMER)
    await h.settle()

    sent = h.fake.sent_messages(FORUM)
    assert threads([m for m in sent if "Nina" in m["text"]]) == {None}
    assert len([m for m in sent if "closed or deleted" in m["text"]]) == 1


async def test_moderation_works_in_every_topic(forum: Harness) -> None:
    h = forum
    await in_topic(h, ADMIN, None, "/filter add casino")
    chatter = h.fake.create_topic(FORUM, "Chatter", OWNER)

    update = h.fake.post_in_topic(FORUM, MEMBER, chatter, "who wants casino tonight")
    assert update is not None
    await h.settle()

    assert h.fake.is_deleted(FORUM, update["message"]["message_id"])
    notices = [m for m in h.fake.sent_messages(FORUM) if "Maria" in m.get("text", "")]
    assert notices and threads(notices) == {chatter}  # told where it happened


async def test_a_moderation_notice_goes_to_the_topic_of_the_offence_not_the_chosen_one(
    forum: Harness,
) -> None:
    h = forum
    lobby = h.fake.create_topic(FORUM, "Lobby", OWNER)
    await in_topic(h, ADMIN, lobby, "/set topic here")
    await in_topic(h, ADMIN, None, "/filter add casino")
    chatter = h.fake.create_topic(FORUM, "Chatter", OWNER)
    h.fake.post_in_topic(FORUM, MEMBER, chatter, "casino night!")
    await h.settle()
    notices = [m for m in h.fake.sent_messages(FORUM) if "Maria" in m.get("text", "")]
    assert notices and threads(notices) == {chatter}
