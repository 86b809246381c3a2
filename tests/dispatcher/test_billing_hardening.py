"""Paid membership, hardened (issue 11, items 1-4): a returning payer gets back in, renewal
changes move the removal, an old "accept the rules" button respects a price set since, and
/refund answers privately."""

from __future__ import annotations

from datetime import timedelta

from bot.services.billing import BILL_END
from bot.services.onboarding import REQUEST
from models.deadlines import DeadlineRepository
from models.members import Member
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, Harness
from tests.dispatcher.test_billing import (
    later,
    paid_chat,
    removals,
    request_and_pay,
    sub,
    texts,
)


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


async def test_refund_answers_the_admin_privately_and_the_group_learns_nothing(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, plan="once")
    charge = await request_and_pay(h)
    before = len(h.replies(GROUP))
    anonymous = {"id": GROUP, "type": "supergroup", "title": "Circle"}
    h.fake.add_user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
    h.fake.send_message(
        GROUP, 1087968824, f"/refund {charge.id}", sender_chat=anonymous, force=True
    )
    await h.settle()
    assert "анонимному" in h.replies(GROUP)[-1]  # the group speaks Russian
    assert not h.fake.calls_of("refundStarPayment")  # nothing done that can't be reported

    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")  # hasn't started the bot
    await h.settle()
    assert h.fake.calls_of("refundStarPayment")[-1].ok
    assert "press Start" in h.replies(GROUP)[-1]
    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await h.settle()
    assert "already refunded" in h.replies(ADMIN)[-1] and "Circle" in h.replies(ADMIN)[-1]
    assert "in a private chat" in h.replies(GROUP)[-1]
    for text in h.replies(GROUP)[before:]:  # neither who was refunded nor how much
        assert "Nina" not in text and "100" not in text and str(NEWCOMER) not in text


async def test_refund_in_private_finds_the_chat_the_charge_was_paid_in(
    harness: Harness,
) -> None:
    h = harness
    second, stranger = -1001000000002, 600
    h.fake.add_chat(second, "Second circle")
    h.fake.set_member(second, ADMIN, "creator")
    h.fake.add_bot_to_chat(second, ADMIN, admin=True)
    h.fake.add_user(stranger, "Stas", language_code="en", started_bot=True)
    h.fake.set_member(second, stranger, "administrator")  # an admin of the other chat only
    await paid_chat(h, plan="once")
    h.fake.send_message(second, ADMIN, "/set price 30")
    await h.settle()
    charge = await request_and_pay(h)  # paid for GROUP
    for user_id in (MEMBER, stranger):
        h.fake.send_message(user_id, user_id, f"/refund {charge.id}")
        await h.settle()
        assert "a chat you administer" in texts(h, user_id)[-1]
    h.fake.send_message(ADMIN, ADMIN, "/refund unknown-charge")
    h.fake.send_message(ADMIN, ADMIN, "/refund two words")
    await h.settle()
    assert "a chat you administer" in texts(h, ADMIN)[-2]
    assert "Usage" in texts(h, ADMIN)[-1]
    assert not h.fake.calls_of("refundStarPayment")

    h.fake.send_message(ADMIN, ADMIN, f"/refund {charge.id}")
    await h.settle()
    refund = h.fake.calls_of("refundStarPayment")[-1]
    assert refund.ok and refund.params["telegram_payment_charge_id"] == charge.id
    answer = texts(h, ADMIN)[-1]
    assert "Circle" in answer and "Second" not in answer and "Refunded 100 ⭐" in answer
    await later(h, timedelta(seconds=3))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"


async def rules_message(h: Harness) -> dict[str, object]:
    """The private answer to a join request in a free chat, with its Accept button."""
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    message = h.fake.sent_messages(NEWCOMER)[-1]
    button = message["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == f"hearth:accept:{GROUP}"
    return message


async def test_an_old_accept_button_offers_membership_once_the_chat_became_paid(
    harness: Harness,
) -> None:
    h = harness
    message = await rules_message(h)
    await paid_chat(h)  # the chat becomes paid while the request waits
    h.fake.press_button(NEWCOMER, NEWCOMER, message["message_id"], f"hearth:accept:{GROUP}")
    await h.settle()
    assert not h.fake.calls_of("approveChatJoinRequest")  # not without paying
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert h.fake.calls_of("createInvoiceLink")  # offered instead
    assert any("100 ⭐" in text for text in texts(h, NEWCOMER))
    [edited] = [
        m for m in h.fake.sent_messages(NEWCOMER) if m["message_id"] == message["message_id"]
    ]
    assert "paid chat" in edited["text"] and "reply_markup" not in edited
    due = await deadline_of(h, REQUEST)
    assert due == h.clock.now() + timedelta(days=1)  # waits for the payment, as paid ones do

    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"


async def test_an_old_accept_button_approves_someone_with_a_trial(harness: Harness) -> None:
    h = harness
    message = await rules_message(h)
    await paid_chat(h, trial="7d")
    h.fake.press_button(NEWCOMER, NEWCOMER, message["message_id"], f"hearth:accept:{GROUP}")
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert (await sub(h)).plan == "trial"  # type: ignore[union-attr]


async def test_an_expired_request_loses_its_accept_button(harness: Harness) -> None:
    h = harness
    h.fake.send_message(GROUP, ADMIN, "/set verify_timeout 2m")
    message = await rules_message(h)
    await later(h, timedelta(minutes=2, seconds=1))
    await h.settle()
    assert h.fake.calls_of("declineChatJoinRequest")[-1].ok
    [only] = h.fake.sent_messages(NEWCOMER)  # told in place of the rules and their button
    assert only["message_id"] == message["message_id"]
    assert "declined" in only["text"] and "reply_markup" not in only


async def test_a_request_from_someone_with_paid_time_is_approved_at_once(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, plan="once")
    await request_and_pay(h)
    h.fake.user_leaves(GROUP, NEWCOMER)
    await h.settle()
    invoices = len(h.fake.calls_of("sendInvoice"))
    h.fake.join_request(GROUP, NEWCOMER)  # back within the paid time
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert len(h.fake.calls_of("sendInvoice")) == invoices  # nothing to pay
    assert await deadline_of(h, REQUEST) is None


async def test_refund_in_private_without_an_id_lists_a_chosen_chat_s_payments(
    harness: Harness,
) -> None:
    h = harness
    second = -1001000000002
    h.fake.add_chat(second, "Second circle")
    h.fake.set_member(second, ADMIN, "creator")
    h.fake.add_bot_to_chat(second, ADMIN, admin=True)
    await paid_chat(h, plan="once")
    h.fake.send_message(second, ADMIN, "/set price 30")
    await h.settle()
    charge = await request_and_pay(h)  # paid for GROUP
    h.fake.send_message(MEMBER, MEMBER, "/refund")
    await h.settle()
    assert "paid chat you administer" in texts(h, MEMBER)[-1]

    h.fake.send_message(ADMIN, ADMIN, "/refund")
    await h.settle()
    choice = h.fake.sent_messages(ADMIN)[-1]
    buttons = [row[0] for row in choice["reply_markup"]["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["Circle", "Second circle"]
    assert buttons[0]["callback_data"] == f"hearth:refunds:{GROUP}"
    h.fake.press_button(ADMIN, ADMIN, choice["message_id"], f"hearth:refunds:{second}")
    await h.settle()
    assert "No payments in “Second circle”" in texts(h, ADMIN)[-1]
    h.fake.press_button(ADMIN, ADMIN, choice["message_id"], buttons[0]["callback_data"])
    await h.settle()
    listing = texts(h, ADMIN)[-1]
    assert "Circle" in listing and "Nina" in listing and "100 ⭐" in listing
    assert charge.id in listing
    h.fake.press_button(MEMBER, MEMBER, choice["message_id"], buttons[0]["callback_data"])
    await h.settle()
    assert charge.id not in "".join(texts(h, MEMBER))  # not for someone who isn't an admin
    alert = h.fake.calls_of("answerCallbackQuery")[-1].params
    assert alert["show_alert"] and "/refund <charge id>" in alert["text"]  # plain, no tags
    assert "<code>" not in alert["text"] and "&lt;" not in alert["text"]
    assert not h.fake.calls_of("refundStarPayment")


async def test_an_expiry_removal_failing_in_an_outage_is_retried_without_blaming_rights(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, plan="once", grace="1d")
    await request_and_pay(h)
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    before = len(h.fake.sent_messages(GROUP))
    h.fake.fail_next("banChatMember", 502, "Bad Gateway", times=5)  # every quick retry
    await later(h, stored.ends_at + timedelta(days=1, seconds=1) - h.clock.now())
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"  # still here: Telegram was down
    assert len(h.fake.sent_messages(GROUP)) == before  # no "admin rights missing" notice
    assert (await sub(h)).status != "removed"  # type: ignore[union-attr]
    await later(h, timedelta(minutes=1))  # the sweeper's first backoff
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert (await sub(h)).status == "removed"  # type: ignore[union-attr]


async def test_a_payers_approval_a_crash_interrupted_is_finished_by_the_request_deadline(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h)
    notifier = h.app.hearth.notifier
    approve = notifier.approve_request

    async def crash(chat_id: int, user_id: int) -> bool:
        raise RuntimeError("the process died here")

    notifier.approve_request = crash  # type: ignore[method-assign]
    await request_and_pay(h)
    notifier.approve_request = approve  # type: ignore[method-assign]
    assert h.fake.member_status(GROUP, NEWCOMER) != "member"  # paid, request still pending
    assert await deadline_of(h, REQUEST) is not None
    await later(h, timedelta(days=1, minutes=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert await deadline_of(h, REQUEST) is None
