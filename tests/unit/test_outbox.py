"""The outbox against the fake Bot API: 429, 403, 5xx, expiry, and resuming after a stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select, update

from bot.clock import FakeClock, FakeTimer, SystemTimer, Timer
from bot.db import Database
from bot.outbox import LEASE, Outbox, Outgoing, queue, queue_many
from bot.retry import DIRECT, RetryMiddleware
from models.outbox import OutboxMessage, OutboxRepository
from tests.conftest import close_session
from tests.fakegram.server import FakeTelegram
from tests.fakegram.timer import FakeTelegramTimer

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Rig:
    fake: FakeTelegram
    db: Database
    clock: FakeClock
    bot: Bot
    timer: FakeTimer
    unreachable: list[int] = field(default_factory=list)

    def outbox(self, rate: float = 28.0, timer: Timer | None = None) -> Outbox:
        """An outbox whose pacing and pauses move the rig's timer instead of waiting."""

        async def mark(user_id: int) -> None:
            self.unreachable.append(user_id)

        return Outbox(self.db, self.clock, self.bot, mark, rate=rate, timer=timer or self.timer)

    async def queue(self, user_ids: list[int], **kw: object) -> None:
        async with self.db.transaction() as session:
            await queue_many(
                session,
                [Outgoing(f"t:{u}", u, f"hello {u}") for u in user_ids],
                now=self.clock.now(),
                **kw,  # type: ignore[arg-type]
            )

    def received(self, user_id: int) -> int:
        return len(self.fake.sent_messages(user_id))

    async def rows(self) -> dict[int, OutboxMessage]:
        async with self.db.transaction() as session:
            found = (await session.execute(select(OutboxMessage))).scalars()
            return {row.chat_id: row for row in found}


@pytest.fixture
async def rig(db: Database) -> AsyncIterator[Rig]:
    fake = FakeTelegram()
    await fake.start()
    for user_id in range(1, 61):
        fake.add_user(user_id, f"U{user_id}", started_bot=True)
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    session.middleware(RetryMiddleware())  # as in production: the outbox must bypass it
    bot = Bot(fake.token, session=session)
    yield Rig(fake, db, FakeClock(START), bot, FakeTelegramTimer(fake))
    await close_session(bot)
    await fake.stop()


async def test_429_pauses_sending_for_retry_after_and_nothing_is_lost(rig: Rig) -> None:
    await rig.queue([1, 2, 3])
    rig.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    outbox = rig.outbox()
    started = rig.timer.monotonic()
    await outbox.drain()
    assert rig.timer.monotonic() - started >= 0.9
    assert outbox.rate_limited == 1
    assert [rig.received(u) for u in (1, 2, 3)] == [1, 1, 1]
    assert {row.status for row in (await rig.rows()).values()} == {"sent"}


async def test_403_marks_the_person_unreachable_without_retrying(rig: Rig) -> None:
    rig.fake.block_bot(2)
    await rig.queue([1, 2])
    await rig.outbox().drain()
    rows = await rig.rows()
    assert rows[2].status == "unreachable" and rows[1].status == "sent"
    assert rig.unreachable == [2]
    calls = [c for c in rig.fake.calls_of("sendMessage") if c.params.get("chat_id") == 2]
    assert len(calls) == 1


async def test_5xx_is_retried_with_backoff_then_delivered_once(rig: Rig) -> None:
    await rig.queue([5])
    rig.fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    outbox = rig.outbox()
    await outbox.drain()
    row = (await rig.rows())[5]
    assert row.status == "pending" and row.attempts == 1
    assert row.not_before == START + timedelta(seconds=0.5)
    rig.clock.advance(timedelta(seconds=1))
    await outbox.drain()
    row = (await rig.rows())[5]
    assert row.attempts == 2 and row.not_before == START + timedelta(seconds=2)
    rig.clock.advance(timedelta(seconds=1))
    await outbox.drain()
    assert (await rig.rows())[5].status == "sent"
    assert rig.received(5) == 1


async def test_expired_and_not_yet_due_messages_are_not_sent(rig: Rig) -> None:
    async with rig.db.transaction() as session:
        now = rig.clock.now()
        await queue(session, "late", 7, "too late", now=now, expires_at=now)
        await queue(
            session, "quiet", 8, "in the morning", now=now, not_before=now + timedelta(hours=8)
        )
        assert not await queue(session, "quiet", 8, "twice", now=now)  # keys are idempotent
    await rig.outbox().drain()
    rows = await rig.rows()
    assert rows[7].status == "expired" and rows[8].status == "pending"
    assert rig.received(7) == 0 and rig.received(8) == 0
    rig.clock.advance(timedelta(hours=8))
    await rig.outbox().drain()
    assert rig.received(8) == 1
    async with rig.db.transaction() as session:
        await queue(session, "later", 9, "not yet", now=now, not_before=now + timedelta(days=30))
    rig.clock.advance(timedelta(days=15))
    assert await rig.outbox().purge() == 2  # settled rows are forgotten after two weeks
    assert set(await rig.rows()) == {9}  # a pending one never is


async def test_a_graceful_stop_mid_round_resumes_without_duplicates_or_losses(rig: Rig) -> None:
    users = list(range(1, 61))
    await rig.queue(users)
    first = rig.outbox(rate=20, timer=SystemTimer())  # a real worker, stopped mid-round
    first.start()
    await rig.fake.wait_for(lambda: len(rig.fake.calls_of("sendMessage")) >= 15, timeout=10)
    await first.stop()
    sent_by_first = sum(rig.received(u) for u in users)
    assert 15 <= sent_by_first < 60
    second = rig.outbox()  # a new process: nothing waits for a lease after a graceful stop
    await second.drain()
    assert [rig.received(u) for u in users] == [1] * 60
    assert {row.status for row in (await rig.rows()).values()} == {"sent"}


async def test_after_a_crash_leased_rows_are_sent_once_the_lease_runs_out(rig: Rig) -> None:
    users = list(range(1, 11))
    await rig.queue(users)
    async with rig.db.transaction() as session:  # a worker leased them, then died
        repo = OutboxRepository(session)
        due = await repo.due(rig.clock.now(), 50)
        assert len(await repo.claim([r.id for r in due], rig.clock.now(), LEASE)) == 10
    restarted = rig.outbox()
    await restarted.drain()
    assert sum(rig.received(u) for u in users) == 0  # still leased to the dead worker
    rig.clock.advance(LEASE + timedelta(seconds=1))
    await restarted.drain()
    assert [rig.received(u) for u in users] == [1] * 10


async def test_a_six_minute_outage_loses_nothing(rig: Rig) -> None:
    """5xx for six minutes: the rows keep retrying (capped backoff) and are all delivered."""
    await rig.queue([11, 12])
    async with rig.db.transaction() as session:  # already failed 9 times: the old limit was 10
        await session.execute(update(OutboxMessage).values(attempts=9))
    down = {"on": True}
    rig.fake.fail_next("sendMessage", 502, "Bad Gateway", times=10**6, when=lambda _p: down["on"])
    outbox = rig.outbox()
    for _ in range(40):  # over 6 minutes in 10-second steps
        await outbox.drain(max_passes=3)
        rig.clock.advance(timedelta(seconds=10))
    rows = await rig.rows()
    assert {rows[u].status for u in (11, 12)} == {"pending"}
    assert rows[11].attempts > 10  # past the old limit of ten attempts, and not dropped
    assert rows[11].not_before <= rig.clock.now() + timedelta(seconds=60)  # backoff is capped
    down["on"] = False
    rig.clock.advance(timedelta(seconds=61))
    await outbox.drain()
    assert [rig.received(u) for u in (11, 12)] == [1, 1]
    assert {row.status for row in (await rig.rows()).values()} == {"sent"}


async def test_transient_failures_give_up_only_when_the_row_expires(rig: Rig) -> None:
    async with rig.db.transaction() as session:
        now = rig.clock.now()
        await queue(session, "soon", 13, "hi", now=now, expires_at=now + timedelta(minutes=2))
    rig.fake.fail_next("sendMessage", 502, "Bad Gateway", times=10**6)
    outbox = rig.outbox()
    for _ in range(20):
        await outbox.drain(max_passes=3)
        rig.clock.advance(timedelta(seconds=10))
    assert (await rig.rows())[13].status in ("failed", "expired")


async def test_a_row_is_claimed_by_one_worker_only(rig: Rig) -> None:
    await rig.queue([1, 2, 3])
    now = rig.clock.now()
    async with rig.db.transaction() as session:
        repo = OutboxRepository(session)
        ids = [r.id for r in await repo.due(now, 50)]
        assert sorted(await repo.claim(ids, now, LEASE)) == sorted(ids)
    async with rig.db.transaction() as session:  # a second worker that SELECTed the same rows
        assert await OutboxRepository(session).claim(ids, now, LEASE) == []


async def test_a_groups_429_holds_only_that_group(rig: Rig) -> None:
    group = -100123
    rig.fake.add_chat(group, "Busy group")
    rig.fake.add_bot_to_chat(group, 1, admin=False)
    async with rig.db.transaction() as session:
        now = rig.clock.now()
        await queue(session, "g", group, "digest", now=now)
        await queue_many(session, [Outgoing(f"p:{u}", u, "hi") for u in (1, 2, 3)], now=now)
    rig.fake.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 30",
        retry_after=30,
        when=lambda p: int(p.get("chat_id", 0)) == group,
    )
    outbox = rig.outbox()
    DIRECT.set(True)  # as the worker does: no retrying in the middleware
    started = rig.timer.monotonic()
    for _ in range(5):
        await outbox._pass()
        if all(rig.received(u) for u in (1, 2, 3)):
            break
    assert rig.timer.monotonic() - started < 10  # not held for 30 s
    assert [rig.received(u) for u in (1, 2, 3)] == [1, 1, 1]
    assert (await rig.rows())[group].status == "pending"


async def test_direct_calls_wait_out_429_and_5xx_on_the_injected_timer(rig: Rig) -> None:
    timer = FakeTimer()
    session = AiohttpSession(api=TelegramAPIServer.from_base(rig.fake.url))
    session.middleware(RetryMiddleware(sleep=timer.sleep))
    bot = Bot(rig.fake.token, session=session)
    try:
        rig.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        rig.fake.fail_next("sendMessage", 502, "Bad Gateway")
        await bot.send_message(1, "hello")
        assert timer.slept == 3 + 0.5  # retry_after, then the first backoff step
        assert rig.received(1) == 1
    finally:
        await close_session(bot)
