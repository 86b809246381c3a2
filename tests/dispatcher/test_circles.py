"""Circles through the production dispatcher and the fake Bot API: a circle's whole life
(add, propose, quorum, join by button, calls with each delivery choice and their limits,
topics, the weekly digest and the dormancy note) and that no message mentions more than
five people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from models.circles import CircleMember
from models.outbox import OutboxMessage
from tests.dispatcher.conftest import (
    ADMIN,
    BOSS,
    GROUP,
    MEMBER,
    NEWCOMER,
    OWNER,
    Harness,
)
from tests.dispatcher.test_ledger import join_and_verify
from tests.dispatcher.test_moderation import say

HOUR = timedelta(hours=1)


async def command(h: Harness, user_id: int, text: str, chat_id: int = GROUP) -> str:
    """A command in the group; the bot's last answer there."""
    before = len(h.fake.sent_messages(chat_id))
    h.fake.send_message(chat_id, user_id, text)
    await h.settle()
    answers = [m.get("text", "") for m in h.fake.sent_messages(chat_id)[before:]]
    return answers[-1] if answers else ""


async def start(h: Harness, *users: int) -> None:
    for user_id in users:
        h.fake.send_message(user_id, user_id, "/start")
    await h.settle()


async def later(h: Harness, delta: timedelta) -> None:
    """Time passes for the bot and for Telegram alike."""
    h.clock.advance(delta)
    h.fake.advance(delta.total_seconds())


async def drain(h: Harness) -> None:
    await h.app.hearth.outbox.drain()
    await h.settle()


def mentions(message: dict[str, Any]) -> set[int]:
    """The people a sent message mentions (tg://user links become text mentions)."""
    found = set()
    for entity in message.get("entities") or []:
        if entity.get("type") == "text_mention":
            found.add(int(entity["user"]["id"]))
        elif str(entity.get("url", "")).startswith("tg://user?id="):
            found.add(int(str(entity["url"]).split("=")[1]))
    return found


def private_texts(h: Harness, user_id: int) -> list[str]:
    return [m.get("text", "") for m in h.fake.sent_messages(user_id)]


def with_button(h: Harness, chat_id: int, marker: str) -> dict[str, Any]:
    return next(
        m for m in reversed(h.fake.sent_messages(chat_id)) if marker in str(m.get("reply_markup"))
    )


def button_data(message: dict[str, Any], label_part: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if label_part in button["text"]:
                return str(button["callback_data"])
    raise LookupError(label_part)


async def press(
    h: Harness, user_id: int, chat_id: int, message: dict[str, Any], label: str
) -> None:
    h.fake.press_button(user_id, chat_id, message["message_id"], button_data(message, label))
    await h.settle()


async def members_of(h: Harness) -> dict[int, str]:
    async with h.app.db.transaction() as session:
        rows = await session.execute(select(CircleMember.user_id, CircleMember.delivery))
        return {int(user_id): str(how) for user_id, how in rows.all()}


@pytest.fixture
async def circle_chat(harness: Harness) -> Harness:
    """Everyone has spoken (so the bot knows them), quiet hours are off, and the chat has
    the circle yoga."""
    h = harness
    for user_id in (OWNER, ADMIN, MEMBER, BOSS):
        await say(h, user_id, "hello")
    await command(h, ADMIN, "/set quiet_hours off")
    assert "added" in await command(h, ADMIN, "/circle add yoga Morning stretches")
    return h


async def test_admins_add_list_and_delete_circles_and_bad_names_are_refused(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    assert "already" in await command(h, OWNER, "/circle add YOGA")  # any letter case
    assert "added" in await command(h, OWNER, "/circle add ёлка")
    assert "already" in await command(h, OWNER, "/circle add Елка")  # ё = е
    assert "cannot be" in await command(h, OWNER, "/circle add " + "x" * 33)
    assert "cannot be" in await command(h, OWNER, "/circle add bad-name")
    assert "admin" in (await command(h, MEMBER, "/circle add chess")).lower()
    assert "joined" in await command(h, MEMBER, "/circle join Yoga")

    listing = await command(h, MEMBER, "/circles")

    assert "yoga (1) — Morning stretches" in listing
    assert "ёлка (0)" in listing
    unknown = await command(h, MEMBER, "/circle join chess")
    assert "no circle “chess”" in unknown and "yoga (1)" in unknown  # the list follows
    assert "/circle add name" in await command(h, ADMIN, "/help")
    assert "/circle add name" not in await command(h, MEMBER, "/help")
    assert "deleted" in await command(h, ADMIN, "/circle del ЁЛКА")
    assert "ёлка" not in await command(h, MEMBER, "/circles")


async def test_a_proposal_opens_at_the_quorum_and_its_supporters_are_members(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await command(h, ADMIN, "/set circle_quorum 3")
    h.fake.send_message(GROUP, MEMBER, "/circle propose chess")
    await h.settle()
    post = with_button(h, GROUP, "cc:s:")
    assert "1 of 3" in post["text"]
    assert "already" in await command(h, OWNER, "/circle propose CHESS")

    await press(h, OWNER, GROUP, post, "I'm in")
    await press(h, OWNER, GROUP, post, "I'm in")  # twice counts once
    edited = h.fake.chat(GROUP).messages[post["message_id"]]
    assert "2 of 3" in edited["text"]
    assert "chess" not in await command(h, MEMBER, "/circles")  # not open yet
    before = len(h.fake.sent_messages(GROUP))
    await say(h, OWNER, "#chess")  # a word while the circle is only proposed
    assert len(h.fake.sent_messages(GROUP)) == before
    await press(h, BOSS, GROUP, post, "I'm in")

    edited = h.fake.chat(GROUP).messages[post["message_id"]]
    assert "open with 3 members" in edited["text"]
    assert "chess (3)" in await command(h, MEMBER, "/circles")
    assert "joined" not in await command(h, NEWCOMER, "/circle join chess")  # not in the chat
    await later(h, timedelta(minutes=1))
    before = len(h.fake.sent_messages(GROUP))
    await say(h, OWNER, "#chess")  # open now: every process forgot the old list of names
    assert [mentions(m) for m in h.fake.sent_messages(GROUP)[before:]] == [{MEMBER, BOSS}]


async def test_after_verification_the_circles_are_offered_privately_as_toggles(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await start(h, NEWCOMER)
    await join_and_verify(h)
    await drain(h)
    offer = with_button(h, NEWCOMER, "cc:t:")
    assert "has circles" in offer["text"]

    await press(h, NEWCOMER, NEWCOMER, offer, "digest")  # no circle yet: told to join one
    assert "Join a circle first" in str(h.fake.calls_of("answerCallbackQuery")[-1].params)
    await press(h, NEWCOMER, NEWCOMER, offer, "yoga")
    assert (await members_of(h)).get(NEWCOMER) == "mention"
    menu = h.fake.chat(NEWCOMER).messages[offer["message_id"]]
    assert "✅ yoga" in str(menu["reply_markup"])
    await press(h, NEWCOMER, NEWCOMER, menu, "digest")
    assert (await members_of(h)).get(NEWCOMER) == "digest"
    await press(h, NEWCOMER, NEWCOMER, menu, "yoga")  # again: leaves
    assert NEWCOMER not in await members_of(h)

    h.fake.send_message(NEWCOMER, NEWCOMER, "/circles")  # later, in private
    await h.settle()
    assert "Circles of “Circle”" in private_texts(h, NEWCOMER)[-1]


async def join_all(h: Harness, how: dict[int, str]) -> None:
    for user_id, delivery in how.items():
        await command(h, user_id, "/circle join yoga")
        await h.app.hearth.circles.book.set_delivery(GROUP, user_id, delivery)


async def test_a_call_reaches_each_member_as_they_chose_and_cooldowns_refuse_privately(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await start(h, MEMBER, ADMIN, BOSS, OWNER)
    await join_all(h, {MEMBER: "mention", OWNER: "mention", ADMIN: "private", BOSS: "digest"})
    before = len(h.fake.sent_messages(GROUP))

    called = await say(h, MEMBER, "anyone up for #Yoga tonight?")
    await drain(h)

    posts = h.fake.sent_messages(GROUP)[before:]
    assert len(posts) == 1 and mentions(posts[0]) == {OWNER}  # the caller is not mentioned
    link = f"https://t.me/c/1000000001/{called}"
    assert link in str(posts[0])
    assert "anyone up" not in posts[0]["text"]  # a link, never the text
    assert any(link in str(m) for m in h.fake.sent_messages(ADMIN))
    assert not any(link in str(m) for m in h.fake.sent_messages(BOSS))  # the digest, later

    # the circle's hour: nothing is posted, the caller is told privately when
    h.fake.send_message(GROUP, OWNER, "/call yoga are you there")
    await h.settle()
    assert len(h.fake.sent_messages(GROUP)) == before + 1
    assert "not posted" in private_texts(h, OWNER)[-1]

    # three calls per caller a day: the fourth is refused though the circle is free
    for _ in range(2):
        await later(h, HOUR + timedelta(minutes=1))
        await say(h, MEMBER, "#yoga again")
    await later(h, HOUR + timedelta(minutes=1))
    posted = len(h.fake.sent_messages(GROUP))
    await say(h, MEMBER, "#yoga once more")
    assert len(h.fake.sent_messages(GROUP)) == posted
    assert "you can call again after" in private_texts(h, MEMBER)[-1]

    # the week's digest, for those who chose it
    assert await h.app.hearth.circles.weekly.tick() == 1
    assert await h.app.hearth.circles.weekly.tick() == 0  # the week is claimed once
    await drain(h)
    digest = private_texts(h, BOSS)[-1]
    assert "Calls of your circles this week" in digest and digest.count("#yoga") == 3


async def test_quiet_hours_hold_a_private_call(circle_chat: Harness) -> None:
    h = circle_chat
    await start(h, ADMIN)
    await join_all(h, {MEMBER: "mention", ADMIN: "private"})
    await command(h, ADMIN, "/set timezone UTC")
    now = h.clock.now()
    quiet = f"{(now - HOUR).strftime('%H:00')}-{(now + 3 * HOUR).strftime('%H:00')}"
    await command(h, ADMIN, f"/set quiet_hours {quiet}")

    called = await say(h, MEMBER, "#yoga now")
    await drain(h)
    link = f"/{called}"
    assert not any(link in str(m) for m in h.fake.sent_messages(ADMIN))

    await later(h, 4 * HOUR)
    await drain(h)
    assert any(link in str(m) for m in h.fake.sent_messages(ADMIN))


async def test_no_message_mentions_more_than_five_and_big_circles_go_private(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    crowd = list(range(600, 611))  # eleven more people
    for user_id in crowd:
        h.fake.add_user(user_id, f"P{user_id}", language_code="en")
        h.fake.set_member(GROUP, user_id, "member")
        await command(h, user_id, "/circle join yoga")
    await command(h, MEMBER, "/circle join yoga")
    for user_id in crowd[9:]:  # ten in the circle besides the caller
        await command(h, user_id, "/circle leave yoga")
    before = len(h.fake.sent_messages(GROUP))

    await say(h, MEMBER, "#yoga")

    posts = h.fake.sent_messages(GROUP)[before:]
    assert [len(mentions(m)) for m in posts] == [5, 4]
    assert set().union(*(mentions(m) for m in posts)) == set(crowd[:9])

    for user_id in crowd[9:]:  # now twelve: more than ten are never mentioned
        await command(h, user_id, "/circle join yoga")
    await later(h, HOUR + timedelta(minutes=1))
    before = len(h.fake.sent_messages(GROUP))
    await say(h, MEMBER, "#yoga")
    assert h.fake.sent_messages(GROUP)[before:] == []
    async with h.app.db.transaction() as session:
        queued = (await session.execute(select(OutboxMessage.chat_id))).scalars().all()
    assert set(crowd) <= set(queued)  # privately instead
    every = [m for chat in (GROUP, *crowd) for m in h.fake.sent_messages(chat)]
    assert max(len(mentions(m)) for m in every) <= 5


async def test_newcomers_and_outsiders_cannot_call_and_unknown_hashtags_are_words(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await join_all(h, {OWNER: "mention"})
    before = len(h.fake.sent_messages(GROUP))
    await start(h, MEMBER)
    await say(h, MEMBER, "#yoga please")  # not in the circle: an ordinary hashtag
    await say(h, MEMBER, "#weekend #Python")  # no such circles
    assert len(h.fake.sent_messages(GROUP)) == before
    assert private_texts(h, MEMBER) == [private_texts(h, MEMBER)[0]]  # the /start answer only
    h.fake.send_message(GROUP, MEMBER, "/call yoga hi")
    await h.settle()
    assert "Only members" in private_texts(h, MEMBER)[-1]  # /call is told why, privately

    await join_and_verify(h)  # a newcomer in the circle, still on probation
    assert "joined" in await command(h, NEWCOMER, "/circle join yoga")
    before = len(h.fake.sent_messages(GROUP))
    await say(h, NEWCOMER, "#yoga hi all")
    assert len(h.fake.sent_messages(GROUP)) == before
    assert "yoga (2)" in await command(h, MEMBER, "/call chess hello")  # unknown: the list


async def test_dormant_circles_are_listed_to_admins_who_can_close_them(
    circle_chat: Harness,
) -> None:
    h = circle_chat
    await start(h, OWNER, ADMIN, MEMBER)
    assert await h.app.hearth.circles.weekly.tick() == 1  # this week: nothing is dormant
    await drain(h)
    assert not any("silent" in t for t in private_texts(h, ADMIN))

    await later(h, timedelta(days=31))
    assert await h.app.hearth.circles.weekly.tick() == 1
    await drain(h)
    note = with_button(h, ADMIN, "cc:x:")
    assert "silent for 30 days" in note["text"] and "yoga" in note["text"]

    h.fake.demote(GROUP, ADMIN, by_user_id=OWNER)
    await h.settle()
    await press(h, ADMIN, ADMIN, note, "Close")
    assert "yoga" in await command(h, MEMBER, "/circles")  # no longer an admin: refused
    owners = with_button(h, OWNER, "cc:x:")
    await press(h, OWNER, OWNER, owners, "Close")
    assert "yoga" not in await command(h, MEMBER, "/circles")
