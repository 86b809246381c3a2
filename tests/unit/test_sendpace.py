"""The one send budget: overall pace, per-chat limits, replies first, shared through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.clock import FakeTimer
from bot.redis_pool import connect
from bot.sendpace import RATE, SendBudget, SharedWindow
from bot.sendwindows import SHARED_STALE
from tests.fakegram.limits import RateLimiter
from tests.redis_address import redis_url

_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_url(15 - _WORKER % 8))


async def send(budget: SendBudget, chat: int, *, bulk: bool = False) -> None:
    """Take a slot and report the send answered at once."""
    await budget.slot(chat, bulk=bulk)
    budget.finished(chat)


async def _granted_order(budget: SendBudget, slots: dict[str, asyncio.Future[None]]) -> list[str]:
    order: list[str] = []
    for name, slot in slots.items():
        slot.add_done_callback(lambda _f, name=name: order.append(name))
        slot.add_done_callback(lambda _f: budget.finished(None))
    await asyncio.gather(*slots.values())
    return order


async def test_a_reply_goes_before_bulk_sends_already_waiting() -> None:
    budget = SendBudget(FakeTimer())
    slots = {f"bulk{i}": budget.slot(1000 + i, bulk=True) for i in range(10)}
    slots["reply"] = budget.slot(5)
    order = await _granted_order(budget, slots)
    # bulk0 found the budget idle and went at once; the reply is next, ahead of the 9 queued
    assert order[:3] == ["bulk0", "reply", "bulk1"]


async def test_overall_pace_and_one_a_second_per_private_chat() -> None:
    timer = FakeTimer()
    budget = SendBudget(timer)
    started = timer.monotonic()
    await asyncio.gather(*(send(budget, 100 + i) for i in range(int(RATE) * 3)))
    assert timer.monotonic() - started == pytest.approx(3 - 1 / RATE, abs=0.01)
    started = timer.monotonic()
    await asyncio.gather(*(send(budget, 7) for _ in range(4)))
    assert timer.monotonic() - started == pytest.approx(3, abs=0.05)


async def test_a_group_takes_twenty_a_minute_without_holding_up_other_chats() -> None:
    timer = FakeTimer()
    budget = SendBudget(timer)
    group = -100500
    for _ in range(20):
        await send(budget, group)
    assert not budget.ready(group)
    started = timer.monotonic()
    late = budget.slot(group)
    await send(budget, 42)  # a private reply while the group waits
    assert timer.monotonic() - started < 1
    await late
    assert timer.monotonic() - started > 50


async def test_a_429_holds_its_group_or_everyone() -> None:
    timer = FakeTimer()
    budget = SendBudget(timer)
    budget.penalize(-100600, 30)
    assert not budget.ready(-100600) and budget.ready(1)
    budget.penalize(1, 5)
    started = timer.monotonic()
    await send(budget, 2)
    assert timer.monotonic() - started >= 5


async def _redis_up() -> bool:
    client = connect(REDIS_URL)
    try:
        await client.ping()
        return True
    except Exception:
        return False
    finally:
        await client.aclose()


async def test_two_processes_share_the_budget_through_redis() -> None:
    if not await _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    timer = FakeTimer()  # one clock both "processes" read, as the wall clock would be
    prefix = f"test:{uuid.uuid4().hex}:"
    clients = connect(REDIS_URL), connect(REDIS_URL)  # each process has its own client
    first = SendBudget(timer, shared=SharedWindow(clients[0], timer.monotonic, prefix=prefix))
    second = SendBudget(timer, shared=SharedWindow(clients[1], timer.monotonic, prefix=prefix))
    try:
        await send(first, 9)
        started = timer.monotonic()
        await send(second, 9)  # the same private chat, from the other process
        assert timer.monotonic() - started >= 1.0
        group = -100700
        for budget in (first, second) * 10:
            await send(budget, group)
        assert first.ready(group)  # this process alone has sent only 10...
        started = timer.monotonic()
        await send(first, group)  # ...but the group has had 20 this minute
        assert timer.monotonic() - started > 50
    finally:
        await first.close()
        await second.close()
        for client in clients:
            await client.aclose()


@asynccontextmanager
async def _two_processes(timer: FakeTimer) -> AsyncIterator[tuple[SendBudget, SendBudget]]:
    """Two budgets on one Redis namespace and one clock, as two processes of the bot, each
    with its own client."""
    prefix = f"test:{uuid.uuid4().hex}:"
    clients = [connect(REDIS_URL), connect(REDIS_URL)]
    budgets = [
        SendBudget(timer, shared=SharedWindow(client, timer.monotonic, prefix=prefix))
        for client in clients
    ]
    try:
        yield budgets[0], budgets[1]
    finally:
        for budget in budgets:
            await budget.close()
        for client in clients:
            await client.aclose()


async def test_sends_still_on_their_way_count_for_the_other_process() -> None:
    """Telegram counts a send when it arrives. One process's second of sends is held up on
    the way (a stalled network or event loop) and arrives late, all at once; the other
    process must not fill that second again meanwhile: Telegram would answer 429."""
    if not await _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    timer = FakeTimer()
    arrivals: list[tuple[float, int]] = []  # (when Telegram sees it, chat)
    async with _two_processes(timer) as (first, second):
        held = [500 + i for i in range(int(RATE))]
        for chat in held:
            await first.slot(chat)  # granted, not answered yet
        timer.advance(1.5)
        answered_at = timer.monotonic() + 1.0

        async def answer_late() -> None:
            while timer.monotonic() < answered_at:  # time moves as the other one waits...
                if sending.done():  # ...or it did not wait
                    timer.advance(answered_at - timer.monotonic())
                await asyncio.sleep(0)
            for chat in held:
                arrivals.append((timer.monotonic(), chat))
                first.finished(chat)

        async def send_now(chat: int) -> None:
            await second.slot(chat)
            arrivals.append((timer.monotonic(), chat))
            second.finished(chat)

        sending = asyncio.gather(*(send_now(600 + i) for i in range(int(RATE))))
        await asyncio.gather(sending, answer_late())
    telegram = RateLimiter(
        group_per_minute=20, global_per_second=30, private_per_second=1.0, private_burst=5
    )
    refused = [c for at, c in sorted(arrivals) if telegram.check(c, "private", at) is not None]
    assert refused == []
    assert len(arrivals) == 2 * int(RATE)


async def test_a_process_killed_mid_send_holds_the_shared_budget_only_seconds() -> None:
    if not await _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    timer = FakeTimer()
    async with _two_processes(timer) as (dead, alive):
        started = timer.monotonic()
        for chat in range(700, 700 + int(RATE)):
            await dead.slot(chat)  # never answered: the process was killed
        await send(alive, 800)
        waited = timer.monotonic() - started
    assert SHARED_STALE < waited <= SHARED_STALE + 2


async def test_without_redis_the_process_paces_alone_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    timer = FakeTimer()
    client = connect("redis://127.0.0.1:1/0")  # nothing listens there
    budget = SendBudget(timer, shared=SharedWindow(client, timer.monotonic))
    try:
        started = timer.monotonic()
        await asyncio.gather(*(send(budget, 300 + i) for i in range(int(RATE) * 2)))
        assert timer.monotonic() - started == pytest.approx(2 - 1 / RATE, abs=0.01)
    finally:
        await budget.close()
        await client.aclose()
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
