"""Per-message throughput: the real Hearth dispatcher against a bare aiogram bot.

Both poll the same kind of fake Bot API (a fresh one each run, same workload) for a burst of
group messages: MEMBERS people × PER_MEMBER messages, spaced so most stay within the flood
limit, plus a few flooders whose excess must be deleted and who must be muted. The bare bot
applies the same in-memory flood rule (5 messages per 10 s, delete and mute beyond it) and
nothing else. Printed: messages per second of each and the ratio (target ≥ 0.55). Hearth runs
with the activity ledger on, as deployed: it counts every group message (checked after the
timing against the messages sent).
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import ChatPermissions, Message, TelegramObject
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.app import ALLOWED_UPDATES, Application, build_application
from bot.config import Settings
from bot.context import Hearth
from bot.db import upgrade_async
from bot.redis_pool import MAX_CONNECTIONS, opened
from bot.serve import UPDATES_IN_FLIGHT, settle_heap
from bot.services.ledger import LedgerKind
from models.ledger import LedgerRepository
from tests.fakegram.server import FakeTelegram
from tests.redis_address import redis_url

GROUP = -1001234567890
OWNER = 1
MEMBERS = 200
PER_MEMBER = 10
FLOODERS = 10  # of MEMBERS, send all their messages within one second
SPACING = 3  # seconds between an ordinary member's messages (5/10s allows one per 2 s)
FLOOD_COUNT, FLOOD_WINDOW = 5, 10.0
LAST_CPU = [0.0]


class Counter:
    """Outer middleware on updates: counts finished ones and signals when all are done."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.done = 0
        self.finished = asyncio.Event()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            self.done += 1
            if self.done >= self.expected:
                self.finished.set()


def build_world() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_user(OWNER, "Owner", username="owner")
    fake.add_chat(GROUP, "Bench")
    fake.set_member(GROUP, OWNER, "creator")
    for user_id in range(1000, 1000 + MEMBERS):
        fake.add_user(user_id, f"Member {user_id}", username=f"m{user_id}", language_code="en")
        fake.set_member(GROUP, user_id, "member")
    fake.add_bot_to_chat(GROUP, OWNER, admin=True)
    return fake


def enqueue_burst(fake: FakeTelegram, warmup: bool) -> int:
    """Queue the workload; returns the number of updates."""
    base = fake.now()
    count = 0
    rounds = 1 if warmup else PER_MEMBER
    for n in range(rounds):
        for index, user_id in enumerate(range(1000, 1000 + MEMBERS)):
            flooder = index < FLOODERS and not warmup
            date = base + (0 if flooder else n * SPACING)
            text = "hello" if warmup else f"message {n} from {user_id}: как дела? 👋"
            fake.send_message(GROUP, user_id, text, date=date, force=True)
            count += 1
    return count


async def drive(fake: FakeTelegram, dp: Dispatcher, bot: Bot, warmup: int, total: int) -> float:
    """Poll until the warm-up is handled, then time the burst; returns messages/second."""
    settle_heap()  # as `python -m bot` does after start-up; the same for both bots
    warm = Counter(warmup)
    dp.update.outer_middleware(warm)
    enqueue_burst(fake, warmup=True)
    polling = asyncio.create_task(
        dp.start_polling(
            bot,
            allowed_updates=ALLOWED_UPDATES,
            handle_signals=False,
            tasks_concurrency_limit=UPDATES_IN_FLIGHT,  # as `python -m bot` polls
        )
    )
    await asyncio.wait_for(warm.finished.wait(), 120)
    await asyncio.sleep(0.5)  # let stray updates (the bot's own join) settle
    measured = Counter(warm.done + total)
    measured.done = warm.done
    dp.update.outer_middleware(measured)
    fake.advance(FLOOD_WINDOW + 1)  # the warm-up messages leave the flood window
    started, cpu = time.perf_counter(), time.process_time()
    enqueue_burst(fake, warmup=False)
    fake.notify()
    await asyncio.wait_for(measured.finished.wait(), 600)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await dp.stop_polling()
    await polling
    gc.unfreeze()  # this run's bot may be collected once it is closed
    LAST_CPU[0] = cpu
    return total / elapsed


def bare_dispatcher() -> Dispatcher:
    """A minimal bot applying the same flood rule in memory."""
    dp = Dispatcher()
    seen: dict[tuple[int, int], deque[float]] = defaultdict(deque)
    muted: set[tuple[int, int]] = set()

    @dp.message()  # no magic filter: aiogram runs those in a worker thread, which is slower
    async def flood_rule(message: Message, bot: Bot) -> None:
        if message.chat.type not in ("group", "supergroup") or message.from_user is None:
            return
        key = (message.chat.id, message.from_user.id)
        at = message.date.timestamp()
        times = seen[key]
        times.append(at)
        while times and times[0] <= at - FLOOD_WINDOW:
            times.popleft()
        if len(times) > FLOOD_COUNT:
            await bot.delete_message(message.chat.id, message.message_id)
            if key not in muted:
                muted.add(key)
                await bot.restrict_chat_member(
                    message.chat.id,
                    message.from_user.id,
                    ChatPermissions(can_send_messages=False),
                    until_date=int(at) + 300,
                )

    return dp


async def run_bare() -> float:
    fake = build_world()
    await fake.start()
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    bot = Bot(fake.token, session=session)
    try:
        return await drive(fake, bare_dispatcher(), bot, MEMBERS, MEMBERS * PER_MEMBER)
    finally:
        await session.close()
        await fake.stop()


async def run_hearth(redis_url: str | None = None) -> tuple[float, int, int, int]:
    fake = build_world()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        settings = Settings(
            bot_token=fake.token,
            telegram_api_url=fake.url,
            database_url=url,
            default_language="en",
            redis_url=redis_url,
            _env_file=None,
        )
        if redis_url:
            await _flush_redis(redis_url)  # no flood windows or counts of an earlier round
        app = build_application(settings)
        try:
            rate = await drive(fake, app.dispatcher, app.bot, MEMBERS, MEMBERS * PER_MEMBER)
            counted = await ledger_messages(app.hearth)
            # the process's one pool opens a connection only when none is free: its peak
            LAST_PEAK[0] = opened(app.redis) if app.redis is not None else 0
        finally:
            await _close(app)
        deleted = len(fake.calls_of("deleteMessage"))
        mutes = len(fake.calls_of("restrictChatMember"))
        await fake.stop()
    return rate, deleted, mutes, counted


async def ledger_messages(hearth: Hearth) -> int:
    """The messages the activity ledger counted (flushed after the timing)."""
    await hearth.ledger.flush()
    async with hearth.db.transaction() as session:
        return (await LedgerRepository(session).totals(GROUP)).get(LedgerKind.MESSAGE.value, 0)


async def _close(app: Application) -> None:
    """Everything the application holds open (its Redis client, the database, HTTP)."""
    await app.close()
    await app.bot.session.close()


async def _flush_redis(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def _redis_answers(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


ROUNDS = 5
TARGET = 0.55  # in memory
REDIS_TARGET = 0.4  # with the counters in Redis
LAST_PEAK = [0]  # connections the last Hearth round's Redis pool opened


async def main() -> int:
    total = MEMBERS * PER_MEMBER
    print(
        f"{MEMBERS} members × {PER_MEMBER} messages = {total} group messages, {FLOODERS} flooders"
    )
    print(
        f"{ROUNDS} rounds, each the bare bot then Hearth back to back; the median ratio counts. "
        "Ratios of wall time (messages per second) and of this process's CPU time per message "
        "(the steadier figure when other work shares the machine)"
    )
    status = await _rounds(None, TARGET)
    url = os.environ.get("BENCH_REDIS_URL", redis_url(7))
    if not await _redis_answers(url):
        print(f"with Redis: skipped (nothing answers at {url}; set BENCH_REDIS_URL)")
        return status
    return await _rounds(url, REDIS_TARGET) or status


async def _rounds(url: str | None, target: float) -> int:
    """ROUNDS of the bare bot then Hearth (in memory, or with REDIS_URL=url: flood counters,
    send budget and ledger in Redis). Every message beyond the limit must be deleted and every
    message counted; the median ratio is held against `target`."""
    label = "with Redis" if url else "in memory"
    expected_deleted = FLOODERS * (PER_MEMBER - FLOOD_COUNT)
    expected_counted = MEMBERS + MEMBERS * PER_MEMBER  # the warm-up's and the burst's
    walls, cpus = [], []
    for number in range(1, ROUNDS + 1):
        bare = await run_bare()
        bare_cpu = LAST_CPU[0]
        hearth, deleted, mutes, counted = await run_hearth(url)
        walls.append(hearth / bare)
        cpus.append(bare_cpu / LAST_CPU[0])
        print(
            f"{label}, round {number}: bare aiogram bot {bare:5.0f} msg/s, Hearth {hearth:5.0f} "
            f"msg/s: ratio {walls[-1]:.2f} (CPU {cpus[-1]:.2f}); deleted {deleted} (expected "
            f"{expected_deleted}), muted {mutes} (expected {FLOODERS}), the ledger counted "
            f"{counted} (expected {expected_counted})"
            + (f"; Redis connections {LAST_PEAK[0]} (one pool of {MAX_CONNECTIONS})" if url else "")
        )
        if deleted != expected_deleted or mutes != FLOODERS:
            print(f"MISMATCH ({label}): the flood rule did not act as expected")
            return 1
        if counted != expected_counted:
            print(f"MISMATCH ({label}): the activity ledger did not count every message")
            return 1
    wall, cpu = sorted(walls)[ROUNDS // 2], sorted(cpus)[ROUNDS // 2]
    print(f"{label}, median ratio: {wall:.2f}, of CPU time {cpu:.2f}  (target ≥ {target})")
    return 0
