"""Verification and trust through the production dispatcher, with a moved clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.notifier import Outcome, TelegramUnavailable
from models.members import Member
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, Harness


def held(h: Harness, user_id: int) -> bool:
    member = h.fake.member(GROUP, user_id)
    return member["status"] == "restricted" and member["can_send_messages"] is False


def welcome_messages(h: Harness) -> list[dict]:
    return [m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))]


async def test_the_same_join_seen_twice_is_verified_once(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)  # chat_member update and the service message
    await harness.settle()
    restricts = [
        c for c in harness.fake.calls_of("restrictChatMember") if c.params["user_id"] == NEWCOMER
    ]
    assert len(restricts) == 1
    assert len(welcome_messages(harness)) == 1
    assert held(harness, NEWCOMER)


async def test_timeout_removes_without_a_lasting_ban(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    welcome = welcome_messages(harness)[0]
    harness.clock.advance(timedelta(minutes=4, seconds=59))
    await harness.settle()
    assert held(harness, NEWCOMER)
    harness.clock.advance(timedelta(seconds=1))
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "left"
    assert harness.fake.is_deleted(GROUP, welcome["message_id"])


async def test_leaving_before_confirming_cancels_the_deadline(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    harness.fake.user_leaves(GROUP, NEWCOMER)
    await harness.settle()
    harness.clock.advance(timedelta(minutes=10))
    await harness.settle()
    assert not [
        c for c in harness.fake.calls_of("banChatMember") if c.params["user_id"] == NEWCOMER
    ]


async def test_if_the_welcome_cannot_be_posted_nobody_is_removed(harness: Harness) -> None:
    harness.fake.fail_next(
        "sendMessage", 400, "Bad Request: not enough rights to send text messages to the chat"
    )
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    harness.clock.advance(timedelta(hours=1))
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "member"
    assert not harness.fake.calls_of("banChatMember")


async def test_newcomer_becomes_member_after_probation(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    welcome = welcome_messages(harness)[0]
    harness.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "member"

    harness.fake.send_message(NEWCOMER, NEWCOMER, "/me")
    await harness.settle()
    me = harness.replies(NEWCOMER)[-1]
    assert "newcomer" in me and "next level “member”" in me

    harness.clock.advance(timedelta(days=7, minutes=1))
    assert await harness.app.hearth.trust.promote_due() >= 1
    harness.fake.send_message(NEWCOMER, NEWCOMER, "/me")
    await harness.settle()
    assert "Circle: member" in harness.replies(NEWCOMER)[-1]


async def test_people_already_in_the_chat_count_as_members(harness: Harness) -> None:
    harness.fake.send_message(GROUP, MEMBER, "hi all")
    harness.fake.send_message(MEMBER, MEMBER, "/me")
    await harness.settle()
    assert "Circle: member" in harness.replies(MEMBER)[-1]


async def test_a_message_handled_before_the_join_does_not_skip_verification(
    harness: Harness,
) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    harness.fake.send_message(GROUP, NEWCOMER, "spam right away", force=True)
    await harness.deliver(reverse=True)  # the message first, then the join
    await harness.settle()
    assert held(harness, NEWCOMER)
    assert len(welcome_messages(harness)) == 1
    later = harness.fake.send_message(GROUP, NEWCOMER, "more spam", force=True)
    await harness.settle()
    assert later is not None
    assert harness.fake.is_deleted(GROUP, later["message"]["message_id"])


async def test_a_welcome_too_long_for_one_message_moves_the_rules_behind_a_button(
    harness: Harness,
) -> None:
    harness.fake.send_message(GROUP, ADMIN, "/setrules " + "Be kind. " * 270)
    harness.fake.send_message(GROUP, ADMIN, "/setwelcome " + "Welcome {name}! " * 180 + "{rules}")
    await harness.settle()
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    welcome = welcome_messages(harness)[-1]
    assert "rules_" in str(welcome["reply_markup"])  # the rules button
    assert held(harness, NEWCOMER)  # nobody let in unverified


async def test_an_outage_while_welcoming_lets_nobody_in_unverified(harness: Harness) -> None:
    for _ in range(5):
        harness.fake.fail_next("sendMessage", 502, "Bad Gateway")
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.deliver()
    for chat_id in await harness.app.hearth.onboarding.chats_awaiting_welcome():
        with pytest.raises(TelegramUnavailable):  # the pacer logs this and tries again
            await harness.app.hearth.onboarding.post_welcome(chat_id)
    assert held(harness, NEWCOMER)
    await harness.settle()  # Telegram is back
    assert len(welcome_messages(harness)) == 1
    assert held(harness, NEWCOMER)


async def test_an_admin_vouching_with_trust_releases_a_pending_newcomer(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    harness.fake.send_message(GROUP, ADMIN, "/trust member @nina")
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "member"
    harness.clock.advance(timedelta(hours=1))
    await harness.settle()
    assert not harness.fake.calls_of("banChatMember")


async def test_a_removal_failing_with_an_outage_is_retried_and_the_group_not_told(
    harness: Harness,
) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    before = len(harness.fake.sent_messages(GROUP))
    harness.fake.fail_next("banChatMember", 502, "Bad Gateway", times=5)  # every quick retry
    harness.clock.advance(timedelta(minutes=5))
    await harness.settle()
    assert held(harness, NEWCOMER)  # still here, still held
    assert len(harness.fake.sent_messages(GROUP)) == before  # no "rights missing" notice
    harness.clock.advance(timedelta(minutes=1))  # the sweeper's first backoff
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "left"


async def test_a_removal_refused_for_rights_warns_the_group_and_is_retried(
    harness: Harness,
) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    harness.fake.fail_next(
        "banChatMember", 400, "Bad Request: not enough rights to restrict/unrestrict chat member"
    )
    harness.clock.advance(timedelta(minutes=5))
    await harness.settle()
    assert held(harness, NEWCOMER)
    assert "admin rights" in harness.replies(GROUP)[-1]
    harness.clock.advance(timedelta(minutes=1))  # the right was granted meanwhile
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "left"


async def test_a_press_after_the_timeout_is_told_the_time_ran_out(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    welcome = welcome_messages(harness)[0]
    harness.clock.advance(timedelta(minutes=5))
    harness.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await harness.app.sweeper.sweep()  # the timeout is handled before the press
    await harness.settle()
    answer = harness.fake.callback_answers[-1]
    assert "Time ran out" in answer["text"] and answer.get("show_alert") is True
    assert harness.fake.member_status(GROUP, NEWCOMER) == "left"


async def test_a_press_while_the_timeout_removes_loses_cleanly(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    welcome = welcome_messages(harness)[0]
    notifier = harness.app.hearth.notifier
    real_expel = notifier.expel

    async def expel_after_the_press(chat_id: int, user_id: int, now: datetime) -> Outcome:
        # the timeout has marked the row; the press arrives before Telegram answers
        harness.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
        await harness.deliver()
        return await real_expel(chat_id, user_id, now)

    notifier.expel = expel_after_the_press  # type: ignore[method-assign]
    harness.clock.advance(timedelta(minutes=5))
    await harness.settle()
    assert "Time ran out" in harness.fake.callback_answers[-1]["text"]
    assert "Thank you" not in str(harness.fake.callback_answers)
    assert harness.fake.member_status(GROUP, NEWCOMER) == "left"


async def test_a_press_before_the_timeout_wins_and_cancels_it(harness: Harness) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    welcome = welcome_messages(harness)[0]
    harness.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await harness.settle()
    harness.clock.advance(timedelta(minutes=10))
    await harness.settle()
    assert harness.fake.member_status(GROUP, NEWCOMER) == "member"
    assert not harness.fake.calls_of("banChatMember")


async def test_a_removal_refused_for_another_reason_is_not_retried_nor_blamed_on_rights(
    harness: Harness,
) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    before = len(harness.fake.sent_messages(GROUP))
    harness.fake.fail_next(
        "banChatMember", 400, "Bad Request: user is an administrator of the chat"
    )
    harness.clock.advance(timedelta(minutes=5))
    await harness.settle()
    harness.clock.advance(timedelta(minutes=30))
    await harness.settle()
    assert len(harness.fake.calls_of("banChatMember")) == 1
    assert len(harness.fake.sent_messages(GROUP)) == before
    async with harness.app.db.transaction() as session:
        member = await session.get(Member, (GROUP, NEWCOMER))
    assert member is not None and member.status == "in"
    assert member.trust == "member"  # an admin now: not a ghost held for good


async def test_a_removal_of_someone_already_gone_leaves_no_pending_ghost(
    harness: Harness,
) -> None:
    harness.fake.user_joins(GROUP, NEWCOMER)
    await harness.settle()
    harness.fake.fail_next("banChatMember", 400, "Bad Request: PARTICIPANT_ID_INVALID")
    harness.clock.advance(timedelta(minutes=5))
    await harness.settle()
    async with harness.app.db.transaction() as session:
        member = await session.get(Member, (GROUP, NEWCOMER))
    assert member is not None and member.status == "left"
