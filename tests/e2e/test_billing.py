"""Paid membership end to end: payments across a restart of the real bot process, Stars
payments through the fake Bot API (the flow without a restart is in the dispatcher tier)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot.db import Database
from bot.services.billing import BILL_END
from models.billing import Subscription
from models.deadlines import DeadlineRepository
from tests.e2e.conftest import GROUP, BotProcess, seed_chat
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
