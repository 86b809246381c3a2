"""Ledger kinds counted by direct calls, through the production dispatcher: a check-in
answered (once a round, however often the answers change; private answers never stored in
the ledger), a buddy assigned and the follow-up answered, a payment and an expiry."""

from __future__ import annotations

from datetime import timedelta

from bot.services.ledger import LedgerKind
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, Harness
from tests.dispatcher.test_billing import later, paid_chat, request_and_pay, sub
from tests.dispatcher.test_buddies import make_volunteer, verify_newcomer
from tests.dispatcher.test_checkins import _share, opt_in, press, say, setup_chat
from tests.dispatcher.test_ledger import flush_job, ledger_rows, totals

ANSWER = "I finally told my sister about the debt"


async def test_a_check_in_answered_counts_once_per_round_and_no_answer_is_kept(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    assert "Check-in started" in await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    for _ in range(2):  # answering, then changing the answers
        await press(h, MEMBER, "ci:a:")
        await say(h, MEMBER, MEMBER, ANSWER)
        await say(h, MEMBER, MEMBER, "Sleeping")
        await press(h, MEMBER, "ci:k:")
        await _share(h, MEMBER, "anon")
    await flush_job(h)

    rows = await ledger_rows(h)
    assert totals(rows)[(MEMBER, LedgerKind.CHECKIN_ANSWERED)] == 1
    every_text = " ".join(str(v) for row in rows for v in row.values())
    assert "sister" not in every_text and "Sleeping" not in every_text


async def test_a_buddy_assigned_and_the_follow_up_answered_are_counted(harness: Harness) -> None:
    h = harness
    await make_volunteer(h, MEMBER, "Maria")
    await verify_newcomer(h, NEWCOMER, "Nina")
    h.clock.advance(timedelta(days=3, seconds=1))
    await h.settle()
    question = h.fake.sent_messages(NEWCOMER)[-1]
    h.fake.press_button(NEWCOMER, NEWCOMER, question["message_id"], f"hearth:fu:{GROUP}:y")
    await h.settle()
    await flush_job(h)

    counted = totals(await ledger_rows(h))
    assert counted[(NEWCOMER, LedgerKind.BUDDY_ASSIGNED)] == 1
    assert counted[(NEWCOMER, LedgerKind.BUDDY_FOLLOWUP)] == 1
    assert counted[(NEWCOMER, LedgerKind.VERIFIED)] == 1


async def test_a_payment_and_its_expiry_are_counted(harness: Harness) -> None:
    h = harness
    await paid_chat(h, plan="once", grace="0s")
    await request_and_pay(h)
    stored = await sub(h)
    assert stored is not None and stored.ends_at is not None
    await later(h, stored.ends_at - h.clock.now() + timedelta(seconds=1))
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    await flush_job(h)

    counted = totals(await ledger_rows(h))
    assert counted[(NEWCOMER, LedgerKind.PAID)] == 1
    assert counted[(NEWCOMER, LedgerKind.EXPIRED)] == 1
    assert counted[(NEWCOMER, LedgerKind.JOINED)] == 1  # approved through the request
