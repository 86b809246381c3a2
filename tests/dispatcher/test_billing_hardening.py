"""Paid membership, hardened (issue 11, items 1-4): a returning payer gets back in, renewal
changes move the removal, an old "accept the rules" button respects a price set since, and
/refund answers privately."""

from __future__ import annotations

from datetime import timedelta

from bot.services.billing import BILL_END
from bot.services.onboarding import REQUEST
from models.deadlines import DeadlineRepository
from models.members import Member
from tests.dispatcher.conftest import GROUP, NEWCOMER, Harness
from tests.dispatcher.test_billing import later, paid_chat, removals, request_and_pay, sub


async def deadline_of(h: Harness, kind: str, user_id: int = NEWCOMER) -> object:
    async with h.app.db.transaction() as session:
        deadline = await DeadlineRepository(session).get(kind, GROUP, user_id)
    return deadline.due_at if deadline is not None else None


async def test_removed_member_who_pays_again_is_approved(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once", grace="1d")
    await request_and_pay(h)
    h.fake.user(NEWCOMER).started_bot = True
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    await later(h, stored.ends_at + timedelta(days=1, seconds=1) - h.clock.now())  # expired
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left" and removals(h, NEWCOMER)
    assert (await sub(h)).status == "removed"  # type: ignore[union-attr]

    offers = len(h.fake.calls_of("sendInvoice"))
    h.fake.join_request(GROUP, NEWCOMER)  # they want back in: offered
    await h.settle()
    assert len(h.fake.calls_of("sendInvoice")) == offers + 1
    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()

    assert h.fake.member_status(GROUP, NEWCOMER) == "member"  # approved, in the chat
    assert h.fake.calls_of("approveChatJoinRequest")[-1].ok
    assert not h.fake.calls_of("createChatInviteLink")  # no link the pending request blocks
    assert (await sub(h)).status == "active"  # type: ignore[union-attr]
    async with h.app.db.transaction() as session:
        member = await session.get(Member, (GROUP, NEWCOMER))
    assert member is not None and member.status == "in"
    assert await deadline_of(h, REQUEST) is None
    assert await deadline_of(h, BILL_END) is not None


async def test_a_payment_whose_approval_fails_in_an_outage_keeps_a_deadline_that_approves(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    outage = [True]
    h.fake.fail_next(
        "approveChatJoinRequest", 502, "Bad Gateway", times=1000, when=lambda _: outage[0]
    )
    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"  # Telegram did not answer
    assert not h.fake.calls_of("declineChatJoinRequest")
    due = await deadline_of(h, REQUEST)
    assert due is not None and due <= h.clock.now() + timedelta(minutes=1)  # still waits

    outage[0] = False
    await later(h, timedelta(minutes=1, seconds=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert not h.fake.calls_of("declineChatJoinRequest")
    assert await deadline_of(h, REQUEST) is None


async def test_renewal_changes_move_the_removal_between_grace_and_renewal_slack(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, grace="2m")
    charge = await request_and_pay(h)
    h.fake.user(NEWCOMER).started_bot = True
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    end = stored.ends_at
    slack, grace = end + timedelta(minutes=10), end + timedelta(minutes=2)
    assert await deadline_of(h, BILL_END) == slack  # auto-renewal: room for the renewal

    h.fake.send_message(NEWCOMER, NEWCOMER, "/cancel")
    await h.settle()
    assert await deadline_of(h, BILL_END) == grace
    h.fake.send_message(NEWCOMER, NEWCOMER, "/subscribe")
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    h.fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], f"hearth:resume:{GROUP}")
    await h.settle()
    assert await deadline_of(h, BILL_END) == slack

    h.fake.payments.subscription_state(charge.id, "canceled")  # in Telegram's settings
    await h.settle()
    assert await deadline_of(h, BILL_END) == grace
    h.fake.payments.subscription_state(charge.id, "active")
    await h.settle()
    assert await deadline_of(h, BILL_END) == slack
    h.fake.payments.subscription_state(charge.id, "canceled")
    await h.settle()

    await later(h, grace + timedelta(seconds=1) - h.clock.now())  # within the old slack
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert removals(h, NEWCOMER)
