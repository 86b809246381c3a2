"""Every send shares one budget under Telegram's limits, and replies go ahead of bulk rows."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.types import Update

from bot.app import ALLOWED_UPDATES
from bot.outbox import Outgoing, queue_many
from bot.sendpace import ChatKey
from tests.dispatcher.conftest import Harness

SPIKE = 150  # five seconds' worth of Telegram's overall limit
FIRST = 20_000


async def _feed_all_at_once(h: Harness) -> None:
    """Handle every pending update concurrently, as polling does."""
    updates: list[Update] = []
    while batch := await h.app.bot.get_updates(
        offset=h.offset, timeout=0, allowed_updates=ALLOWED_UPDATES
    ):
        h.offset = batch[-1].update_id + 1
        updates += batch
    await asyncio.gather(*(h.app.dispatcher.feed_update(h.app.bot, u) for u in updates))


async def test_a_spike_of_replies_draws_no_429_and_every_reply_arrives(harness: Harness) -> None:
    people = range(FIRST, FIRST + SPIKE)
    for user_id in people:
        harness.fake.add_user(user_id, f"P{user_id}", language_code="en")
        harness.fake.send_message(user_id, user_id, "/start")
    harness.fake.rate_limited = 0
    started = harness.app.budget._timer.monotonic()
    await _feed_all_at_once(harness)
    assert harness.fake.rate_limited == 0
    assert all(len(harness.fake.sent_messages(u)) == 1 for u in people)
    waited = harness.app.budget._timer.monotonic() - started
    assert waited < SPIKE / 30 * 1.3  # paced, not held back


async def test_a_reply_goes_before_outbox_rows_already_queued(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 120
    people = range(FIRST, FIRST + rows)
    for user_id in people:
        harness.fake.add_user(user_id, f"P{user_id}", language_code="en", started_bot=True)
    asker = FIRST + rows
    harness.fake.add_user(asker, "Asker", language_code="en")
    async with harness.app.db.transaction() as session:
        await queue_many(
            session,
            [Outgoing(f"bulk:{u}", u, f"news for {u}") for u in people],
            now=harness.clock.now(),
        )
    budget = harness.app.budget
    log: list[tuple[str, object]] = []
    ask, grant = budget.slot, budget._grant

    def logged_slot(chat: ChatKey, *, bulk: bool = False) -> asyncio.Future[None]:
        log.append(("ask", chat))
        return ask(chat, bulk=bulk)

    def logged_grant(chat: ChatKey, now: float) -> None:
        log.append(("grant", chat))
        grant(chat, now)

    monkeypatch.setattr(budget, "slot", logged_slot)
    monkeypatch.setattr(budget, "_grant", logged_grant)
    for _ in range(30):  # Telegram has not answered the last 30 sends yet: all must wait
        await budget.slot(None)
    outbox = harness.app.hearth.outbox
    drain = asyncio.create_task(outbox.drain())
    while sum(kind == "ask" for kind, _ in log) < 8:  # noqa: ASYNC110 (rows queue up)
        await asyncio.sleep(0.001)
    harness.fake.send_message(asker, asker, "/start")
    answering = asyncio.create_task(harness.deliver())
    while ("ask", asker) not in log:  # noqa: ASYNC110 (the reply queues behind them)
        await asyncio.sleep(0.001)
    for _ in range(30):
        budget.finished(None)
    await answering
    await drain
    assert len(harness.fake.sent_messages(asker)) == 1
    assert all(len(harness.fake.sent_messages(u)) == 1 for u in people)
    after = log[log.index(("ask", asker)) :]
    granted = [chat for kind, chat in after if kind == "grant"]
    assert granted[0] == asker  # ahead of the 8 rows that were waiting before it
    assert outbox.rate_limited == 0
