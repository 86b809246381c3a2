"""A newcomer's way in, through the production dispatcher with a moved clock (moved from the
end-to-end tier; a restart at the deadline and the join wave stay there)."""

from __future__ import annotations

from datetime import timedelta

from models.members import Member
from tests.dispatcher.conftest import GROUP, MEMBER, NEWCOMER, OWNER, Harness


def welcomes(h: Harness) -> list[dict]:
    return [
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup", ""))
    ]


def restricted_to_silence(h: Harness, user_id: int) -> bool:
    member = h.fake.member(GROUP, user_id)
    return member["status"] == "restricted" and member["can_send_messages"] is False


async def later(h: Harness, delta: timedelta) -> None:
    """Time passes for the bot and for Telegram alike, then the bot catches up."""
    h.clock.advance(delta)
    h.fake.advance(delta.total_seconds())
    await h.settle()


async def test_newcomer_is_held_welcomed_and_freed_by_their_own_press(harness: Harness) -> None:
    h = harness
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    assert restricted_to_silence(h, NEWCOMER)
    welcome = welcomes(h)[-1]
    assert (
        f"tg://user?id={NEWCOMER}" in str(welcome.get("entities", "")) or "Nina" in welcome["text"]
    )

    # a stranger's press changes nothing
    h.fake.press_button(MEMBER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    assert h.fake.callback_answers[-1].get("show_alert") is True
    assert restricted_to_silence(h, NEWCOMER)

    # the newcomer's own press frees them and shortens the welcome
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    shown = next(m for m in h.fake.sent_messages(GROUP) if m["message_id"] == welcome["message_id"])
    assert "hearth:verify" not in str(shown.get("reply_markup", "")) or h.fake.is_deleted(
        GROUP, welcome["message_id"]
    )
    update = h.fake.send_message(GROUP, NEWCOMER, "Hello everyone!")
    assert update is not None
    await h.settle()
    assert not h.fake.is_deleted(GROUP, update["message"]["message_id"])


async def test_anything_posted_before_the_restriction_lands_is_deleted(harness: Harness) -> None:
    h = harness
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    assert restricted_to_silence(h, NEWCOMER)
    sneaked = h.fake.send_message(GROUP, NEWCOMER, "buy crypto now", force=True)
    assert sneaked is not None
    await h.settle()
    assert h.fake.is_deleted(GROUP, sneaked["message"]["message_id"])


async def test_silent_newcomer_is_removed_at_the_deadline_and_may_come_back(
    harness: Harness,
) -> None:
    h = harness
    h.fake.send_message(GROUP, OWNER, "/set verify_timeout 3m")
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    assert welcomes(h)
    await later(h, timedelta(minutes=3) - timedelta(seconds=1))
    assert restricted_to_silence(h, NEWCOMER)
    await later(h, timedelta(seconds=1))
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    # they may come back: the ban was lifted, so a rejoin starts a fresh verification
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    assert len(welcomes(h)) == 2


async def test_join_request_is_approved_after_accepting_in_private(harness: Harness) -> None:
    h = harness
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    assert "Circle" in offer["text"]
    h.fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], f"hearth:accept:{GROUP}")
    await h.settle()
    assert h.fake.calls_of("approveChatJoinRequest")
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    # not verified a second time on joining
    assert not [c for c in h.fake.calls_of("restrictChatMember") if c.params["user_id"] == NEWCOMER]
    assert not welcomes(h)


async def test_accepting_after_an_admin_let_them_in_meanwhile_counts_as_approved(
    harness: Harness,
) -> None:
    h = harness
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    h.fake.set_member(GROUP, NEWCOMER, "member")  # added by hand; the request lingers
    h.fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], f"hearth:accept:{GROUP}")
    await h.settle()
    assert h.fake.calls_of("approveChatJoinRequest")  # Telegram: USER_ALREADY_PARTICIPANT
    told = h.fake.sent_messages(NEWCOMER)[-1]
    assert "expired" not in told["text"].lower()
    async with h.app.db.transaction() as session:
        member = await session.get(Member, (GROUP, NEWCOMER))
    assert member is not None and member.status == "in"


async def test_an_approval_a_crash_interrupted_is_finished_by_the_request_deadline(
    harness: Harness,
) -> None:
    """Accepting marks them in, then asks Telegram; a crash in between must not leave the
    request pending for ever while the database says they are in."""
    h = harness
    h.fake.send_message(GROUP, OWNER, "/set verify_timeout 2m")
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    notifier = h.app.hearth.notifier
    approve = notifier.approve_request

    async def crash(chat_id: int, user_id: int) -> bool:
        raise RuntimeError("the process died here")

    notifier.approve_request = crash  # type: ignore[method-assign]
    h.fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], f"hearth:accept:{GROUP}")
    await h.settle()
    notifier.approve_request = approve  # type: ignore[method-assign]
    assert h.fake.member_status(GROUP, NEWCOMER) != "member"  # still a pending request
    await later(h, timedelta(minutes=2))
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert not h.fake.calls_of("declineChatJoinRequest")


async def test_a_request_the_bot_cannot_answer_waits_a_day_for_the_admins_then_is_declined(
    harness: Harness,
) -> None:
    h = harness
    h.fake.block_bot(NEWCOMER)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    await later(h, timedelta(hours=23))
    assert not h.fake.calls_of("declineChatJoinRequest")  # the admins may still decide
    await later(h, timedelta(hours=1))
    assert h.fake.calls_of("declineChatJoinRequest")  # never left pending for good


async def test_join_request_is_declined_on_silence(harness: Harness) -> None:
    h = harness
    h.fake.send_message(GROUP, OWNER, "/set verify_timeout 2m")
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    assert len(h.fake.sent_messages(NEWCOMER)) == 1  # the offer
    assert not h.fake.calls_of("declineChatJoinRequest")
    await later(h, timedelta(minutes=2))
    assert h.fake.calls_of("declineChatJoinRequest")
    assert h.fake.member_status(GROUP, NEWCOMER) in ("left", None)
    [told] = h.fake.sent_messages(NEWCOMER)  # the offer, its button edited away
    assert "declined" in told["text"] and "reply_markup" not in told


async def test_admins_and_bots_who_join_are_not_verified(harness: Harness) -> None:
    h = harness
    h.fake.add_user(777, "HelperBot", is_bot=True)
    h.fake.user_joins(GROUP, 777)
    h.fake.send_message(GROUP, OWNER, "/rules")
    await h.settle()
    assert any("rules" in m["text"].lower() for m in h.fake.sent_messages(GROUP))
    assert not h.fake.calls_of("restrictChatMember")
