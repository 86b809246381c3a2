"""Buddies through the production dispatcher and the fake Bot API, with a moved clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.services.buddies import BuddyService
from models.buddies import BuddyPair
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OWNER, Harness

VETERAN_B = 31
VETERAN_C = 32
SECOND_NEWCOMER = 501


def texts(h: Harness, chat_id: int) -> list[str]:
    return [m["text"] for m in h.fake.sent_messages(chat_id)]


async def say(h: Harness, chat_id: int, user_id: int, text: str) -> str:
    """Send a message, let the bot handle everything, return the bot's last text there."""
    before = len(h.fake.sent_messages(chat_id))
    h.fake.send_message(chat_id, user_id, text)
    await h.settle()
    sent = h.fake.sent_messages(chat_id)
    return str(sent[-1]["text"]) if len(sent) > before else ""


async def make_volunteer(h: Harness, user_id: int, name: str, interests: str = "") -> None:
    if user_id not in h.fake.users:
        h.fake.add_user(user_id, name, username=name.lower(), language_code="en")
        h.fake.set_member(GROUP, user_id, "member")
    await say(h, user_id, user_id, "/start")
    if interests:
        await say(h, user_id, user_id, f"/interests {interests}")
    await say(h, GROUP, user_id, "hello, I'm around")  # active recently
    assert "veteran" in await say(h, GROUP, ADMIN, f"/trust veteran @{name.lower()}")
    assert "Thank you" in await say(h, GROUP, user_id, "/volunteer")


async def verify_newcomer(h: Harness, user_id: int, name: str, interests: str = "") -> None:
    if user_id not in h.fake.users:
        h.fake.add_user(user_id, name, username=name.lower(), language_code="en")
    await say(h, user_id, user_id, "/start")
    if interests:
        await say(h, user_id, user_id, f"/interests {interests}")
    h.fake.user_joins(GROUP, user_id)
    await h.settle()
    welcome = [
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    ][-1]
    h.fake.press_button(user_id, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()


async def active_buddy(h: Harness, newcomer_id: int) -> int | None:
    async with h.app.db.transaction() as session:
        pair = (
            await session.execute(
                select(BuddyPair).where(
                    BuddyPair.newcomer_id == newcomer_id, BuddyPair.active.is_(True)
                )
            )
        ).scalar_one_or_none()
    return pair.buddy_id if pair else None


async def test_only_veterans_volunteer_themselves(harness: Harness) -> None:
    answer = await say(harness, GROUP, MEMBER, "/volunteer")
    assert "You can volunteer from" in answer
    assert await active_buddy(harness, MEMBER) is None


async def test_newcomer_gets_the_best_matching_buddy_and_both_are_told(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria", "chess")
    await make_volunteer(harness, VETERAN_B, "Boris", "Yoga, hiking")
    await verify_newcomer(harness, NEWCOMER, "Nina", "йога, YOGA, hiking")

    assert await active_buddy(harness, NEWCOMER) == VETERAN_B
    intro = texts(harness, GROUP)[-1]
    assert "Nina" in intro and "Boris" in intro
    assert "Boris" in texts(harness, NEWCOMER)[-1]
    to_buddy = texts(harness, VETERAN_B)[-1]
    assert "Nina" in to_buddy and "yoga" in to_buddy and "hiking" in to_buddy
    assert "Boris" in await say(harness, GROUP, NEWCOMER, "/buddy")
    assert "Nina" in await say(harness, GROUP, VETERAN_B, "/buddy")


async def test_waiting_list_is_served_in_order_when_a_volunteer_appears(harness: Harness) -> None:
    await verify_newcomer(harness, NEWCOMER, "Nina")
    await verify_newcomer(harness, SECOND_NEWCOMER, "Nick")
    assert "waiting list" in texts(harness, NEWCOMER)[-1]
    assert "waiting list" in texts(harness, SECOND_NEWCOMER)[-1]
    admin_notices = [t for t in texts(harness, GROUP) if "For admins" in t]
    assert len(admin_notices) == 1  # told once, not per newcomer
    overview = await say(harness, GROUP, ADMIN, "/buddies")
    assert "Nina" in overview and "Nick" in overview

    await say(harness, GROUP, OWNER, "/set buddy_max_load 1")
    await make_volunteer(harness, MEMBER, "Maria")
    assert await active_buddy(harness, NEWCOMER) == MEMBER  # first in line
    assert await active_buddy(harness, SECOND_NEWCOMER) is None  # Maria is full
    await make_volunteer(harness, VETERAN_B, "Boris")
    assert await active_buddy(harness, SECOND_NEWCOMER) == VETERAN_B
    overview = await say(harness, GROUP, ADMIN, "/buddies")
    assert "Maria: 1" in overview and "Boris: 1" in overview


async def test_buddy_change_never_repeats_and_is_limited(harness: Harness) -> None:
    for user_id, name in ((MEMBER, "Maria"), (VETERAN_B, "Boris"), (VETERAN_C, "Clara")):
        await make_volunteer(harness, user_id, name)
    await verify_newcomer(harness, NEWCOMER, "Nina")
    seen = [await active_buddy(harness, NEWCOMER)]
    first = seen[0]
    assert first is not None

    assert "another buddy" in await say(harness, GROUP, NEWCOMER, "/buddy change not a good fit")
    assert "another buddy" in texts(harness, first)[-1] or "Thank you" in texts(harness, first)[-1]
    seen.append(await active_buddy(harness, NEWCOMER))
    assert "another buddy" in await say(harness, GROUP, NEWCOMER, "/buddy change")
    seen.append(await active_buddy(harness, NEWCOMER))
    assert len(set(seen)) == 3 and None not in seen
    assert "at most twice a week" in await say(harness, GROUP, NEWCOMER, "/buddy change")


async def test_a_buddy_leaving_hands_the_newcomer_to_another(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria", "yoga")
    await verify_newcomer(harness, NEWCOMER, "Nina", "yoga")
    assert await active_buddy(harness, NEWCOMER) == MEMBER
    await make_volunteer(harness, VETERAN_B, "Boris")
    harness.fake.user_leaves(GROUP, MEMBER)
    await harness.settle()
    assert await active_buddy(harness, NEWCOMER) == VETERAN_B
    assert "Boris" in texts(harness, NEWCOMER)[-1]


async def test_graduation_ends_the_pair_with_thanks_and_keeps_history(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria")
    await verify_newcomer(harness, NEWCOMER, "Nina")
    harness.clock.advance(timedelta(days=7, minutes=1))
    await harness.app.hearth.trust.promote_due()
    await harness.settle()
    assert await active_buddy(harness, NEWCOMER) is None
    assert "full member" in texts(harness, NEWCOMER)[-1]
    assert "full member" in texts(harness, MEMBER)[-1]
    async with harness.app.db.transaction() as session:
        history = list((await session.execute(select(BuddyPair))).scalars())
    assert [(p.newcomer_id, p.buddy_id, p.end_reason) for p in history] == [
        (NEWCOMER, MEMBER, "graduated")
    ]


async def test_followup_asks_the_newcomer_and_nudges_the_buddy(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria")
    await verify_newcomer(harness, NEWCOMER, "Nina")
    harness.clock.advance(timedelta(days=3, seconds=1))
    await harness.settle()
    question = harness.fake.sent_messages(NEWCOMER)[-1]
    assert "connected" in question["text"]
    harness.fake.press_button(NEWCOMER, NEWCOMER, question["message_id"], f"hearth:fu:{GROUP}:n")
    await harness.settle()
    assert "hasn't connected" in texts(harness, MEMBER)[-1]
    assert "reminded" in texts(harness, NEWCOMER)[-1]


async def test_one_active_pair_even_when_two_processes_assign_at_once(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria")
    await make_volunteer(harness, VETERAN_B, "Boris")
    await verify_newcomer(harness, NEWCOMER, "Nina")
    async with harness.app.db.transaction() as session:
        for pair in (await session.execute(select(BuddyPair))).scalars():
            await session.delete(pair)
    hearth = harness.app.hearth
    twins = [
        BuddyService(
            hearth.db, hearth.clock, hearth.notifier, hearth.chat_settings, hearth.activity
        )
        for _ in range(2)
    ]
    await asyncio.gather(*(twin.assign(GROUP, NEWCOMER) for twin in twins))
    async with harness.app.db.transaction() as session:
        active = list(
            (await session.execute(select(BuddyPair).where(BuddyPair.active.is_(True)))).scalars()
        )
    assert len(active) == 1


async def test_interests_with_html_characters_reach_the_buddy_escaped(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria")
    await verify_newcomer(harness, NEWCOMER, "Nina", "i <3 yoga & tea")
    assert await active_buddy(harness, NEWCOMER) == MEMBER
    to_buddy = texts(harness, MEMBER)[-1]  # the fake shows the text as Telegram parsed it
    assert "Nina" in to_buddy and "i <3 yoga & tea" in to_buddy


async def test_buddy_in_private_shows_the_pairs_of_every_chat(harness: Harness) -> None:
    await make_volunteer(harness, MEMBER, "Maria")
    await verify_newcomer(harness, NEWCOMER, "Nina")
    assert await active_buddy(harness, NEWCOMER) == MEMBER
    before = len(harness.fake.sent_messages(NEWCOMER))
    to_newcomer = await say(harness, NEWCOMER, NEWCOMER, "/buddy")
    answers = [m["text"] for m in harness.fake.sent_messages(NEWCOMER)[before:]]
    assert answers == [to_newcomer]  # the listing alone, no "works in a group" first
    assert "<b>Circle</b>" not in to_newcomer and "Circle" in to_newcomer
    assert "Your buddy: Maria" in to_newcomer
    assert "You are the buddy of: Nina" in await say(harness, MEMBER, MEMBER, "/buddy")
    assert "in the group" in await say(harness, NEWCOMER, NEWCOMER, "/buddy change")
    assert "any chat" in await say(harness, ADMIN, ADMIN, "/buddy")
