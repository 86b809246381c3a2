"""Paid membership end to end: the real bot process, Stars payments through the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from bot.db import Database
from bot.services.billing import BILL_END
from models.billing import Subscription
from models.deadlines import DeadlineRepository
from tests.e2e.conftest import ADMIN, GROUP, BotProcess, seed_chat
from tests.fakegram.server import FakeTelegram

NEWCOMER = 500


async def pay_last_invoice(fake: FakeTelegram, user_id: int) -> None:
    invoice = await fake.wait_for(lambda: _invoice(fake, user_id))
    before, answered = len(fake.payments.charges), len(fake.payments.answers())
    fake.payments.open_checkout(user_id, invoice)
    await fake.wait_for(lambda: len(fake.payments.answers()) > answered)
    assert fake.payments.answers()[-1]["ok"] is True
    assert len(fake.payments.charges) == before + 1


def _invoice(fake: FakeTelegram, user_id: int) -> object:
    try:
        return fake.payments.last_invoice(user_id)
    except LookupError:
        return None


async def test_join_request_offer_pay_approved(fake: FakeTelegram, bot_process: BotProcess) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", price="100", language="en")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()

    fake.send_message(GROUP, ADMIN, "/invite")
    await fake.wait_for(lambda: fake.calls_of("createChatInviteLink"))
    assert fake.calls_of("createChatInviteLink")[-1].params["creates_join_request"] is True

    fake.join_request(GROUP, NEWCOMER)
    offer = await fake.wait_for(
        lambda: [m for m in fake.sent_messages(NEWCOMER) if "100 ⭐" in m.get("text", "")]
    )
    assert "Hearth Test" in offer[-1]["text"]
    await asyncio.sleep(0.5)
    assert fake.member_status(GROUP, NEWCOMER) == "left"
    await pay_last_invoice(fake, NEWCOMER)
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "member")
    await fake.wait_for(
        lambda: any("Payment received" in m.get("text", "") for m in fake.sent_messages(NEWCOMER))
    )

    # Telegram delivers the same payment again: it counts once
    paid = next(
        u
        for call in fake.calls_of("getUpdates")
        for u in call.result or []
        if "successful_payment" in u.get("message", {})
    )
    fake.payments.redeliver(paid)
    await fake.wait_for(lambda: not fake.pending_updates)
    await asyncio.sleep(1.0)
    receipts = [m for m in fake.sent_messages(NEWCOMER) if "Payment received" in m.get("text", "")]
    assert len(receipts) == 1

    # /subs figures match the payments (sent to the admin privately)
    fake.send_message(ADMIN, ADMIN, "/start")
    fake.send_message(GROUP, ADMIN, "/subs")
    figures = await fake.wait_for(
        lambda: [m for m in fake.sent_messages(ADMIN) if "Revenue" in m.get("text", "")]
    )
    assert "Revenue in total: 100 ⭐ (1 payments)" in figures[-1]["text"]
    assert "Active: 1" in figures[-1]["text"]

    # a refund ends the access it bought
    [charge] = fake.payments.charges_of(NEWCOMER)
    fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "left", timeout=10)
    assert fake.calls_of("refundStarPayment")[-1].ok
    assert await bot_process.stop() == 0


async def test_expiry_removal_at_the_deadline_across_a_restart_and_paying_again(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", price="50", plan="once", grace="0s")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()
    fake.join_request(GROUP, NEWCOMER)
    await pay_last_invoice(fake, NEWCOMER)
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "member")
    assert await bot_process.stop() == 0

    # while the bot is down, the paid time runs out (we move its end instead of waiting 30 days)
    deadline = datetime.now(UTC) - timedelta(seconds=1)
    db = Database(bot_process.db_url)
    async with db.transaction() as session:
        sub = await session.get(Subscription, (GROUP, NEWCOMER))
        assert sub is not None and sub.status == "active"
        sub.ends_at = deadline
        await DeadlineRepository(session).schedule(BILL_END, GROUP, NEWCOMER, deadline)
    await db.close()
    await bot_process.start()
    # polling has begun: the deadline that passed while the bot was down is enforced promptly
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "left", timeout=10)
    bans = [c for c in fake.calls_of("banChatMember") if c.params["user_id"] == NEWCOMER]
    unbans = [c for c in fake.calls_of("unbanChatMember") if c.params["user_id"] == NEWCOMER]
    assert len(bans) == 1 and len(unbans) == 1
    assert unbans[0].params.get("only_if_banned") in (True, "true")
    told = await fake.wait_for(
        lambda: [m for m in fake.sent_messages(NEWCOMER) if "ended" in m.get("text", "")]
    )

    # paying again (the button under that message) lets them back in
    fake.press_button(NEWCOMER, NEWCOMER, told[-1]["message_id"], f"hearth:offer:{GROUP}")
    started = time.monotonic()
    await fake.wait_for(lambda: len(fake.calls_of("sendInvoice")) == 2)
    await pay_last_invoice(fake, NEWCOMER)
    await fake.wait_for(
        lambda: any("join" in m.get("text", "") for m in fake.sent_messages(NEWCOMER)[-1:])
    )
    fake.join_request(GROUP, NEWCOMER)
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "member")
    assert time.monotonic() - started < 10
    assert await bot_process.stop() == 0
