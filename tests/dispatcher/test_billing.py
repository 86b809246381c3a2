"""Paid membership through the production dispatcher and the fake Bot API's Stars payments."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.services.billing import BILL_END
from models.billing import Payment, Subscription
from models.deadlines import DeadlineRepository
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, Harness, restart
from tests.fakegram.payments import SUBSCRIPTION_PERIOD, Charge

OTHER = 501


async def later(h: Harness, delta: timedelta) -> None:
    """Time passes for the bot and for Telegram alike."""
    h.clock.advance(delta)
    h.fake.advance(delta.total_seconds())


async def paid_chat(h: Harness, **settings: str) -> None:
    for key, value in {"price": "100", **settings}.items():
        h.fake.send_message(GROUP, ADMIN, f"/set {key} {value}")
    await h.settle()
    assert "price" in h.replies(GROUP)[-len(settings) - 1]


async def request_and_pay(h: Harness, user_id: int = NEWCOMER) -> Charge:
    """Join request → private offer → pay: returns the charge Telegram made."""
    h.fake.join_request(GROUP, user_id)
    await h.settle()
    invoice = h.fake.payments.last_invoice(user_id)
    h.fake.payments.open_checkout(user_id, invoice)
    await h.settle()
    assert h.fake.payments.answers()[-1]["ok"] is True
    return h.fake.payments.charges_of(user_id)[-1]


async def sub(h: Harness, user_id: int = NEWCOMER) -> Subscription | None:
    async with h.app.db.transaction() as session:
        return await session.get(Subscription, (GROUP, user_id))


async def payments(h: Harness) -> list[Payment]:
    from sqlalchemy import select

    async with h.app.db.transaction() as session:
        return list((await session.execute(select(Payment))).scalars())


def texts(h: Harness, user_id: int) -> list[str]:
    return [m.get("text", "") for m in h.fake.sent_messages(user_id)]


def removals(h: Harness, user_id: int) -> list[Any]:
    return [c for c in h.fake.calls_of("banChatMember") if c.params["user_id"] == user_id]


async def test_join_request_offer_pay_approved(harness: Harness) -> None:
    h = harness
    h.fake.add_user(OTHER, "Oleg", language_code="en")
    await paid_chat(h)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    assert "100 ⭐" in offer["text"] and "Circle" in offer["text"]
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"  # waits for the payment
    link = h.fake.calls_of("createInvoiceLink")[-1]
    assert link.params["currency"] == "XTR"
    assert link.params["subscription_period"] == SUBSCRIPTION_PERIOD
    assert not link.params.get("provider_token")

    invoice = h.fake.payments.last_invoice(NEWCOMER)
    h.fake.payments.open_checkout(NEWCOMER, invoice)
    await h.settle()
    assert h.fake.payments.answers()[-1]["ok"] is True
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert any("Payment received" in text for text in texts(h, NEWCOMER))
    charge = h.fake.payments.charges_of(NEWCOMER)[-1]
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    assert stored.ends_at == datetime.fromtimestamp(charge.expiration or 0, UTC)

    h.fake.send_message(NEWCOMER, NEWCOMER, "/me")
    await h.settle()
    assert "subscription" in h.replies(NEWCOMER)[-1]
    assert "renews automatically" in h.replies(NEWCOMER)[-1]


async def test_one_time_plan_sends_an_invoice_and_adds_the_period(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once", period="60d")
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    invoice_call = h.fake.calls_of("sendInvoice")[-1]
    assert invoice_call.params["prices"][0]["amount"] == 200  # 100 per 30 days, for 60 days
    assert "subscription_period" not in invoice_call.params
    start = h.clock.now()
    invoice = h.fake.payments.last_invoice(NEWCOMER)
    h.fake.payments.open_checkout(NEWCOMER, invoice)
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    stored = await sub(h)
    assert stored is not None and stored.ends_at == start + timedelta(days=60)


async def test_tampered_or_stale_payloads_are_refused_at_pre_checkout(harness: Harness) -> None:
    h = harness
    h.fake.add_user(OTHER, "Oleg", language_code="en")
    await paid_chat(h)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    invoice = h.fake.payments.last_invoice(NEWCOMER)
    forged = invoice.payload.replace(str(NEWCOMER), str(OTHER))
    h.fake.payments.open_checkout(OTHER, invoice, payload=forged)  # altered payload
    h.fake.payments.open_checkout(OTHER, invoice)  # someone else's invoice
    h.fake.payments.open_checkout(NEWCOMER, invoice, amount=1)  # amount differs
    await h.settle()
    answers = h.fake.payments.answers()
    assert [a["ok"] for a in answers] == [False, False, False]
    assert "not valid" in answers[0]["error_message"]
    assert "someone else" in answers[1]["error_message"]
    assert "price has changed" in answers[2]["error_message"]

    h.fake.send_message(GROUP, ADMIN, "/set price 150")  # the offer is now stale
    await h.settle()
    h.fake.payments.open_checkout(NEWCOMER, invoice)
    await h.settle()
    assert h.fake.payments.answers()[-1]["ok"] is False
    assert "price has changed" in h.fake.payments.answers()[-1]["error_message"]
    assert not h.fake.payments.charges
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"


async def test_the_same_payment_delivered_twice_counts_once(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once")
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()  # the pre-checkout answer makes Telegram send successful_payment
    update = next(
        u
        for call in h.fake.calls_of("getUpdates")
        for u in call.result or []
        if "successful_payment" in u.get("message", {})
    )
    first = await sub(h)
    h.fake.payments.redeliver(update)  # Telegram sends it again
    await h.settle()
    from aiogram.types import Update

    await h.app.dispatcher.feed_update(h.app.bot, Update.model_validate(update))  # and again
    await h.settle()
    again = await sub(h)
    assert first is not None and again is not None and again.ends_at == first.ends_at
    assert len(await payments(h)) == 1
    assert sum("Payment received" in text for text in texts(h, NEWCOMER)) == 1

    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(GROUP, ADMIN, "/subs")
    await h.settle()
    assert "Revenue in total: 100 ⭐ (1 payments)" in h.replies(ADMIN)[-1]
    assert "private chat" in h.replies(GROUP)[-1]  # the group doesn't see the figures


async def test_removal_at_the_deadline_across_a_restart_and_paying_again(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, plan="once", grace="1d")
    await request_and_pay(h)
    h.fake.user(NEWCOMER).started_bot = True
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    deadline = stored.ends_at + timedelta(days=1)

    await later(h, deadline - h.clock.now() - timedelta(seconds=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"  # paid time + grace not over yet

    # the bot restarts: a new application on the same database
    await restart(h)
    await later(h, timedelta(seconds=2))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    ban = removals(h, NEWCOMER)[-1]
    assert ban.ok
    unban = h.fake.calls_of("unbanChatMember")[-1]
    assert unban.params["only_if_banned"] is True
    assert "ended" in texts(h, NEWCOMER)[-1]
    await h.settle()
    assert len(removals(h, NEWCOMER)) == 1  # once

    # paying again: the renew button → offer → pay → a way back in → approved at once
    last = h.fake.sent_messages(NEWCOMER)[-1]
    h.fake.press_button(NEWCOMER, NEWCOMER, last["message_id"], f"hearth:offer:{GROUP}")
    await h.settle()
    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()
    assert "join" in texts(h, NEWCOMER)[-1].lower()
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"


async def test_someone_who_left_is_just_marked(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once", grace="0s")
    await request_and_pay(h)
    h.fake.user_leaves(GROUP, NEWCOMER)
    await h.settle()
    await later(h, timedelta(days=31))
    await h.settle()
    assert not removals(h, NEWCOMER)
    stored = await sub(h)
    assert stored is not None and stored.status == "left"


async def test_reminders_are_sent_once_each(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once", remind_before="3d,1d")
    await request_and_pay(h)
    h.fake.user(NEWCOMER).started_bot = True
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    end = stored.ends_at

    def reminders() -> list[str]:
        return [text for text in texts(h, NEWCOMER) if text.startswith("⏳")]

    await later(h, end - timedelta(days=3, seconds=1) - h.clock.now())
    await h.settle()
    assert reminders() == []
    await later(h, timedelta(seconds=2))
    await h.settle()
    await h.settle()
    assert len(reminders()) == 1
    renew = h.fake.sent_messages(NEWCOMER)[-1]["reply_markup"]["inline_keyboard"][0][0]
    assert renew["callback_data"] == f"hearth:offer:{GROUP}"
    await later(h, timedelta(days=2))
    await h.settle()
    await later(h, timedelta(hours=1))
    await h.settle()
    assert len(reminders()) == 2
    await later(h, timedelta(hours=20))
    await h.settle()
    assert len(reminders()) == 2


async def test_recurring_members_are_reminded_only_after_cancelling(harness: Harness) -> None:
    h = harness
    await paid_chat(h, remind_before="1d")
    charge = await request_and_pay(h)
    h.fake.user(NEWCOMER).started_bot = True
    h.fake.send_message(NEWCOMER, NEWCOMER, "/cancel")
    await h.settle()
    edit = h.fake.calls_of("editUserStarSubscription")[-1]
    assert edit.params["telegram_payment_charge_id"] == charge.id
    assert edit.params["is_canceled"] is True
    assert "Automatic renewal" in h.replies(NEWCOMER)[-1]
    await later(h, timedelta(days=29, hours=1))
    await h.settle()
    assert any(text.startswith("⏳") for text in texts(h, NEWCOMER))
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"


async def test_renewals_extend_access_and_subscription_updates_change_state(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h)
    charge = await request_and_pay(h)
    renewed = h.fake.payments.renew(charge.id)
    await h.settle()
    stored = await sub(h)
    assert stored is not None
    assert stored.ends_at == datetime.fromtimestamp(renewed.expiration or 0, UTC)
    h.fake.payments.subscription_state(charge.id, "canceled")
    await h.settle()
    assert (await sub(h)).renewal == "user_canceled"  # type: ignore[union-attr]
    h.fake.payments.subscription_state(charge.id, "active")
    await h.settle()
    assert (await sub(h)).renewal == "auto"  # type: ignore[union-attr]


async def test_reconciliation_applies_a_missed_payment_once(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    charge = await request_and_pay(h)
    await later(h, datetime.fromtimestamp(charge.expiration or 0, UTC) - h.clock.now())
    missed = h.fake.payments.renew(charge.id, deliver=False)  # the update never arrives
    assert await h.app.hearth.billing.reconcile() == 1
    assert await h.app.hearth.billing.reconcile() == 0
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    # a transaction tells the payment date and the period; Telegram renews at the end
    expected = datetime.fromtimestamp(missed.expiration or 0, UTC)
    assert abs(stored.ends_at - expected) < timedelta(seconds=5)
    assert len(await payments(h)) == 2


async def test_refund_ends_the_access_it_bought(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once")
    charge = await request_and_pay(h)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await h.settle()
    refund = h.fake.calls_of("refundStarPayment")[-1]
    assert refund.ok and refund.params["telegram_payment_charge_id"] == charge.id
    assert "Refunded 100 ⭐" in h.replies(ADMIN)[-1]  # privately, not in the group
    await later(h, timedelta(seconds=3))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert any("refunded" in text for text in texts(h, NEWCOMER))

    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await h.settle()
    assert "already refunded" in h.replies(ADMIN)[-1]
    h.fake.send_message(GROUP, MEMBER, f"/refund {charge.id}")
    await h.settle()
    assert "administrators" in h.replies(GROUP)[-1]


async def test_a_refund_telegram_already_made_still_ends_access(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once")
    charge = await request_and_pay(h)
    h.fake.fail_next("refundStarPayment", 400, "Bad Request: CHARGE_ALREADY_REFUNDED")
    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await later(h, timedelta(seconds=3))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"


async def test_subs_figures_match_the_payments(harness: Harness) -> None:
    h = harness
    h.fake.add_user(OTHER, "Oleg", username="oleg", language_code="en")
    await paid_chat(h, plan="once")
    first = await request_and_pay(h, NEWCOMER)
    await request_and_pay(h, OTHER)
    h.fake.send_message(GROUP, ADMIN, "/set price 70")
    await h.settle()
    h.fake.user(OTHER).started_bot = True
    h.fake.send_message(OTHER, OTHER, "/subscribe")
    await h.settle()
    h.fake.payments.open_checkout(OTHER, h.fake.payments.last_invoice(OTHER))
    await h.settle()
    h.fake.send_message(GROUP, ADMIN, f"/refund {first.id}")
    await h.settle()
    h.fake.send_message(GROUP, ADMIN, "/subs")
    await h.settle()
    assert "Start" in h.replies(GROUP)[-1]  # figures only in private: start the bot first
    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(GROUP, ADMIN, "/subs")
    await h.settle()
    report = h.replies(ADMIN)[-1]
    assert "Circle" in report
    amounts = [p.amount for p in await payments(h) if p.refunded_at is None]
    assert sorted(amounts) == [70, 100]
    assert f"Revenue in total: {sum(amounts)} ⭐ (2 payments)" in report
    assert f"Revenue this month: {sum(amounts)} ⭐" in report
    assert "Active: 1" in report  # the refunded one has no time left

    h.fake.send_message(GROUP, ADMIN, "/subs csv")
    await h.settle()
    document = h.fake.payments.documents[-1]
    assert document["chat_id"] == ADMIN
    rows = list(csv.DictReader(io.StringIO(document["data"])))
    paid = {int(row["user_id"]): int(row["paid"]) for row in rows}
    assert paid == {NEWCOMER: 0, OTHER: 170}


async def test_added_by_an_admin_is_offered_and_removed_after_grace(harness: Harness) -> None:
    h = harness
    h.fake.add_user(OTHER, "Oleg", language_code="en", started_bot=True)
    await paid_chat(h, grace="1h")
    h.fake.user(NEWCOMER).started_bot = True
    h.fake.user_joins(GROUP, NEWCOMER)
    h.fake.user_joins(GROUP, OTHER)
    await h.settle()
    assert any("paid chat" in text for text in texts(h, NEWCOMER))
    welcome = [m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m)][-1]
    for user_id in (NEWCOMER, OTHER):  # they confirm the rules like any newcomer
        h.fake.press_button(user_id, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    h.fake.send_message(GROUP, ADMIN, "/exempt 501")
    await h.settle()
    assert "no longer needs to pay" in h.replies(GROUP)[-1]
    await later(h, timedelta(minutes=59))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) != "left"
    await later(h, timedelta(minutes=1, seconds=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert h.fake.member_status(GROUP, OTHER) != "left"  # exempt
    assert h.fake.member_status(GROUP, ADMIN) == "administrator"
    assert h.fake.member_status(GROUP, BOSS) == "member"


async def test_owners_and_exempt_people_are_approved_without_paying(harness: Harness) -> None:
    h = harness
    h.fake.add_user(OTHER, "Oleg", username="oleg", language_code="en")
    await paid_chat(h)
    h.fake.set_member(GROUP, BOSS, "left")
    h.fake.join_request(GROUP, BOSS)
    await h.settle()
    assert h.fake.member_status(GROUP, BOSS) == "member"
    h.fake.send_message(OTHER, OTHER, "/subscribe")  # the bot gets to know them
    await h.settle()
    h.fake.send_message(GROUP, ADMIN, "/exempt @oleg")
    await h.settle()
    assert "no longer needs to pay" in h.replies(GROUP)[-1]
    h.fake.join_request(GROUP, OTHER)
    await h.settle()
    assert h.fake.member_status(GROUP, OTHER) == "member"
    assert not h.fake.calls_of("createInvoiceLink")


async def test_grant_gives_free_time_and_approves_a_waiting_request(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    h.fake.send_message(GROUP, ADMIN, "/grant 14d @nina")
    await h.settle()
    assert "Nina" in h.replies(GROUP)[-1]
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    stored = await sub(h)
    assert stored is not None and stored.plan == "grant"
    async with h.app.db.transaction() as session:
        deadline = await DeadlineRepository(session).get(BILL_END, GROUP, NEWCOMER)
    assert deadline is not None


async def test_trial_once_per_person(harness: Harness) -> None:
    h = harness
    await paid_chat(h, trial="7d", grace="0s")
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert any("free trial" in text for text in texts(h, NEWCOMER))
    h.fake.user(NEWCOMER).started_bot = True
    await later(h, timedelta(days=7, seconds=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"  # no second trial: an offer instead
    assert "100 ⭐" in texts(h, NEWCOMER)[-1]


async def test_invite_link_creates_join_requests(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    h.fake.send_message(GROUP, ADMIN, "/invite")
    await h.settle()
    call = h.fake.calls_of("createChatInviteLink")[-1]
    assert call.params["creates_join_request"] is True
    assert call.result["invite_link"] in h.replies(GROUP)[-1]


async def test_paysupport_names_the_refund_policy_and_admins(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    await request_and_pay(h)
    h.fake.send_message(NEWCOMER, NEWCOMER, "/paysupport")
    await h.settle()
    answer = h.replies(NEWCOMER)[-1]
    assert "refund" in answer.lower() and "Anton" in answer


async def test_nobody_is_removed_once_the_chat_is_free_again(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once", grace="0s")
    await request_and_pay(h)
    h.fake.send_message(GROUP, ADMIN, "/set price 0")
    await h.settle()
    await later(h, timedelta(days=31))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert not removals(h, NEWCOMER)


async def test_help_lists_the_payment_commands(harness: Harness) -> None:
    h = harness
    h.fake.send_message(NEWCOMER, NEWCOMER, "/help")
    h.fake.send_message(GROUP, ADMIN, "/help")
    await h.settle()
    assert "/paysupport" in h.replies(NEWCOMER)[-1]
    assert "/refund" in h.replies(GROUP)[-1]


async def test_an_unpaid_request_is_declined_after_a_day(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    await later(h, timedelta(hours=23))
    await h.settle()
    assert not h.fake.calls_of("declineChatJoinRequest")
    await later(h, timedelta(hours=1, seconds=1))
    await h.settle()
    assert h.fake.calls_of("declineChatJoinRequest")[-1].ok


async def test_grant_explains_its_usage(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    h.fake.send_message(GROUP, ADMIN, "/grant @maria")
    h.fake.send_message(GROUP, ADMIN, "/grant 7d @nobody_known")
    await h.settle()
    assert "/grant 30d" in h.replies(GROUP)[-2]
    assert "can't tell who you mean" in h.replies(GROUP)[-1]


async def test_a_failed_renewal_is_told_with_a_renew_button(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    charge = await request_and_pay(h)
    h.fake.user(NEWCOMER).started_bot = True
    h.fake.payments.subscription_state(charge.id, "failed")
    await h.settle()
    told = h.fake.sent_messages(NEWCOMER)[-1]
    assert "could not renew" in told["text"]
    assert told["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"hearth:offer:{GROUP}"
    assert (await sub(h)).renewal == "failed"  # type: ignore[union-attr]
    h.fake.send_message(NEWCOMER, NEWCOMER, "/me")
    await h.settle()
    assert "renewal failed" in h.replies(NEWCOMER)[-1]


async def test_subscribe_lets_you_choose_among_paid_chats(harness: Harness) -> None:
    h = harness
    second = -1001000000002
    h.fake.add_chat(second, "Second circle")
    h.fake.set_member(second, ADMIN, "creator")
    h.fake.add_bot_to_chat(second, ADMIN, admin=True)
    await paid_chat(h, grace="2h")
    h.fake.send_message(second, ADMIN, "/set price 30")
    h.fake.user(NEWCOMER).started_bot = True
    h.fake.user_joins(GROUP, NEWCOMER)
    h.fake.user_joins(second, NEWCOMER)
    await h.settle()
    for chat_id in (GROUP, second):  # they confirm the rules in both
        welcome = [m for m in h.fake.sent_messages(chat_id) if "hearth:verify" in str(m)][-1]
        h.fake.press_button(NEWCOMER, chat_id, welcome["message_id"], "hearth:verify")
    await h.settle()
    h.fake.send_message(NEWCOMER, NEWCOMER, "/me")
    await h.settle()
    assert "not paid" in h.replies(NEWCOMER)[-1]
    h.fake.send_message(NEWCOMER, NEWCOMER, "/subscribe")
    await h.settle()
    choice = h.fake.sent_messages(NEWCOMER)[-1]
    buttons = [row[0] for row in choice["reply_markup"]["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["Circle", "Second circle"]
    h.fake.press_button(NEWCOMER, NEWCOMER, choice["message_id"], buttons[1]["callback_data"])
    await h.settle()
    assert "30 ⭐" in texts(h, NEWCOMER)[-1]
    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()
    await later(h, timedelta(hours=2, seconds=1))
    await h.settle()
    assert h.fake.member_status(second, NEWCOMER) == "member"  # paid
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"  # did not pay


async def test_reconciliation_applies_missed_one_time_payments_and_refunds(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, plan="once")
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    charge = h.fake.payments.pay_unseen(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    assert await h.app.hearth.billing.reconcile() == 1
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"  # the waiting request approved
    assert any("Payment received" in text for text in texts(h, NEWCOMER))

    await h.app.bot.refund_star_payment(NEWCOMER, charge.id)  # refunded, update lost too
    h.fake.clear_updates()
    assert await h.app.hearth.billing.reconcile() == 1
    assert await h.app.hearth.billing.reconcile() == 0
    await later(h, timedelta(seconds=3))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    [payment] = await payments(h)
    assert payment.refunded_at is not None and payment.source == "reconcile"


async def test_no_second_subscription_and_a_cancelled_one_can_be_resumed(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h)
    charge = await request_and_pay(h)
    h.fake.send_message(NEWCOMER, NEWCOMER, "/subscribe")
    await h.settle()
    assert "renews automatically" in texts(h, NEWCOMER)[-1]
    assert len(h.fake.calls_of("createInvoiceLink")) == 1  # no second subscription

    h.fake.send_message(NEWCOMER, NEWCOMER, "/cancel")
    h.fake.send_message(NEWCOMER, NEWCOMER, "/subscribe")
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    button = offer["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == f"hearth:resume:{GROUP}"
    h.fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], button["callback_data"])
    await h.settle()
    edit = h.fake.calls_of("editUserStarSubscription")[-1]
    assert edit.params["is_canceled"] is False
    assert edit.params["telegram_payment_charge_id"] == charge.id
    assert (await sub(h)).renewal == "auto"  # type: ignore[union-attr]
    assert "Renewal is on again" in h.fake.sent_messages(NEWCOMER)[-1]["text"]
    assert len(h.fake.calls_of("createInvoiceLink")) == 1


async def test_an_old_pay_link_cannot_start_a_second_subscription(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    await request_and_pay(h)
    invoice = h.fake.payments.last_invoice(NEWCOMER)
    h.fake.payments.open_checkout(NEWCOMER, invoice)  # the first offer's link, again
    await h.settle()
    answer = h.fake.payments.answers()[-1]
    assert answer["ok"] is False
    assert "charge you twice" in answer["error_message"]
    assert len(h.fake.payments.charges_of(NEWCOMER)) == 1


async def test_a_subscription_the_user_cancelled_is_not_claimed_to_be_resumed(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, remind_before="1d")
    charge = await request_and_pay(h)
    h.fake.payments.subscription_state(charge.id, "canceled")  # in Telegram's settings
    await h.settle()
    assert (await sub(h)).renewal == "user_canceled"  # type: ignore[union-attr]
    h.fake.send_message(NEWCOMER, NEWCOMER, "/subscribe")
    await h.settle()
    offer = h.fake.sent_messages(NEWCOMER)[-1]
    assert "only you can turn it back on" in offer["text"]
    assert "reply_markup" not in offer  # no "resume" button that would do nothing
    # an older resume button: told the truth, the state stays cancelled
    h.fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], f"hearth:resume:{GROUP}")
    await h.settle()
    assert "only you can turn it back on" in h.fake.sent_messages(NEWCOMER)[-1]["text"]
    assert not h.fake.calls_of("editUserStarSubscription")
    assert (await sub(h)).renewal == "user_canceled"  # type: ignore[union-attr]
    # so the reminder still comes and the removal still happens at the end
    await later(h, timedelta(days=29, hours=1))
    await h.settle()
    assert any(text.startswith("⏳") for text in texts(h, NEWCOMER))
    # the user turns it back on in Telegram: renewal is on again, confirmed by Telegram
    h.fake.payments.subscription_state(charge.id, "active")
    await h.settle()
    assert (await sub(h)).renewal == "auto"  # type: ignore[union-attr]


async def test_a_removal_survives_a_telegram_outage_at_the_deadline(
    harness: Harness, monkeypatch: Any
) -> None:
    import types

    import bot.retry

    async def no_wait(_: float) -> None:
        return None

    monkeypatch.setattr(bot.retry, "asyncio", types.SimpleNamespace(sleep=no_wait))
    h = harness
    await paid_chat(h, grace="1h")
    h.fake.user(NEWCOMER).started_bot = True
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    welcome = [m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m)][-1]
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    outage = [True]
    h.fake.fail_next("banChatMember", 502, "Bad Gateway", times=10_000, when=lambda _: outage[0])
    await later(h, timedelta(hours=1, seconds=1))
    for _ in range(6):  # six minutes of 502s
        await h.settle()
        await later(h, timedelta(minutes=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert len(removals(h, NEWCOMER)) > 5  # more than the five attempts it used to make
    outage[0] = False
    for _ in range(10):
        await later(h, timedelta(minutes=1))
        await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    async with h.app.db.transaction() as session:
        assert await DeadlineRepository(session).get(BILL_END, GROUP, NEWCOMER) is None


async def test_renewals_count_after_the_signing_key_changed(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    charge = await request_and_pay(h)
    before = (await sub(h)).ends_at  # type: ignore[union-attr]
    h.app.hearth.billing._context.secrets = ("a-new-key",)  # e.g. signed with a revoked token
    renewed = h.fake.payments.renew(charge.id)
    await h.settle()
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None and before is not None
    assert stored.ends_at > before
    assert stored.ends_at == datetime.fromtimestamp(renewed.expiration or 0, UTC)
    assert {p.charge_id for p in await payments(h)} == {charge.id, renewed.id}


async def test_a_payment_that_cannot_be_attributed_is_recorded_and_owners_told(
    harness: Harness,
) -> None:
    from tests.fakegram.payments import Invoice

    h = harness
    h.fake.user(BOSS).started_bot = True
    await paid_chat(h)
    stray = h.fake.payments._charge(NEWCOMER, Invoice("T", "D", "someone-else's", 70), 70)
    h.fake.payments.successful_payment_update(stray)
    await h.settle()
    [payment] = await payments(h)
    assert payment.charge_id == stray.id and payment.amount == 70
    assert payment.source == "unattributed" and payment.granted_seconds == 0
    assert any(stray.id in text for text in texts(h, BOSS))
    assert await sub(h) is None  # no access for money we can't place


async def test_the_unpaid_grace_is_given_once_even_after_leaving_and_rejoining(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, grace="1h")
    h.fake.user(NEWCOMER).started_bot = True
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    welcome = [m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m)][-1]
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    await later(h, timedelta(minutes=40))
    h.fake.user_leaves(GROUP, NEWCOMER)
    await h.settle()
    await later(h, timedelta(minutes=10))
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    welcome = [m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m)][-1]
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    await later(h, timedelta(minutes=10, seconds=1))  # 1 h after the first join
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert removals(h, NEWCOMER)


async def test_a_payer_s_join_request_is_never_declined(harness: Harness, monkeypatch: Any) -> None:
    from bot.services.onboarding import REQUEST
    from models.members import Member

    h = harness
    await paid_chat(h)
    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    billing = h.app.hearth.billing

    async def crash(*args: Any) -> None:
        raise RuntimeError("the process died after the payment was committed")

    # the bot dies between the payment's commit and the approval
    monkeypatch.setattr(billing._payments, "_after_payment", crash)
    h.fake.payments.open_checkout(NEWCOMER, h.fake.payments.last_invoice(NEWCOMER))
    await h.settle()
    monkeypatch.undo()
    assert (await sub(h)).status == "active"  # type: ignore[union-attr]
    async with h.app.db.transaction() as session:  # kept with the payment, and moved close
        deadline = await DeadlineRepository(session).get(REQUEST, GROUP, NEWCOMER)
        assert deadline is not None and deadline.due_at <= h.clock.now() + timedelta(minutes=1)
        member = await session.get(Member, (GROUP, NEWCOMER))
        assert member is not None and member.status == "requested"
    await later(h, timedelta(minutes=1, seconds=1))
    await h.settle()
    assert not h.fake.calls_of("declineChatJoinRequest")
    assert h.fake.calls_of("approveChatJoinRequest")[-1].ok
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"


async def test_subs_is_never_posted_in_the_group_and_csv_cells_are_not_formulas(
    harness: Harness,
) -> None:
    h = harness
    h.fake.add_user(OTHER, "=HYPERLINK(1)", username="oleg", language_code="en")
    await paid_chat(h, plan="once")
    await request_and_pay(h, OTHER)
    anonymous = {"id": GROUP, "type": "supergroup", "title": "Circle"}
    h.fake.add_user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
    before = len(h.fake.payments.documents)
    for command in ("/subs", "/subs csv"):
        h.fake.send_message(GROUP, 1087968824, command, sender_chat=anonymous, force=True)
        await h.settle()
        assert "от своего имени" in h.replies(GROUP)[-1]  # the group speaks Russian
    assert len(h.fake.payments.documents) == before
    assert not any("Revenue" in text for text in h.replies(GROUP))

    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(GROUP, ADMIN, "/subs csv")
    await h.settle()
    document = h.fake.payments.documents[-1]
    assert document["chat_id"] == ADMIN
    [row] = list(csv.DictReader(io.StringIO(document["data"])))
    assert row["name"] == "'=HYPERLINK(1)"


async def test_an_auto_renewing_subscriber_gets_slack_even_with_no_grace(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h, grace="0s")
    charge = await request_and_pay(h)
    await later(h, timedelta(seconds=SUBSCRIPTION_PERIOD + 60))  # renewal a minute late
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    h.fake.payments.renew(charge.id)
    await h.settle()
    await later(h, timedelta(minutes=30))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert not removals(h, NEWCOMER)


async def test_a_refund_of_a_subscription_stops_its_renewal(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    charge = await request_and_pay(h)
    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await h.settle()
    edit = h.fake.calls_of("editUserStarSubscription")[-1]
    assert edit.params["telegram_payment_charge_id"] == charge.id
    assert edit.params["is_canceled"] is True
    stored = await sub(h)
    assert stored is not None and stored.renewal == "canceled"
    [payment] = await payments(h)
    assert payment.refunded_at is not None


async def test_billing_commands_refuse_the_wrong_place_and_the_wrong_person(
    harness: Harness,
) -> None:
    h = harness
    await paid_chat(h)
    h.fake.send_message(GROUP, MEMBER, "/grant 30d @nina")
    await h.settle()
    assert h.replies(GROUP)[-1] == "This command is for the chat's administrators."
    h.fake.send_message(GROUP, MEMBER, "/subscribe")
    await h.settle()
    assert h.replies(GROUP)[-1] == "This command works in a private chat with the bot."
    h.fake.send_message(MEMBER, MEMBER, "/refund abc")
    await h.settle()
    assert texts(h, MEMBER)[-1] == "I don't know a payment with that id in a chat you administer."
    assert not h.fake.calls_of("refundStarPayment")
    async with h.app.db.transaction() as session:
        assert await session.get(Subscription, (GROUP, NEWCOMER)) is None  # nothing granted


async def test_a_billing_button_with_unreadable_data_is_out_of_date(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    h.fake.send_message(NEWCOMER, NEWCOMER, "/subscribe")
    await h.settle()
    last = h.fake.sent_messages(NEWCOMER)[-1]
    h.fake.press_button(NEWCOMER, NEWCOMER, last["message_id"], "hearth:cancel:abc")
    await h.settle()
    answer = h.fake.calls_of("answerCallbackQuery")[-1]
    assert "out of date" in answer.params.get("text", "")
    assert not h.fake.calls_of("sendInvoice") and not h.fake.calls_of("createInvoiceLink")
