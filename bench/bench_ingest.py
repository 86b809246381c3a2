"""Ingest: 1,000,000 ledger events counted in memory and flushed to the database in batches.

The events (many chats, people, hours and kinds, in time order) are counted by the real
`Ledger`; every 100,000 events it flushes, as the minute job would on a busy deployment, so
later batches both insert new rows and add to rows already there. Printed: the database
time per 100,000 events (target ≤ 2 s) and, as the baseline measured in the same run, the
flush as it was before (SQLAlchemy's executemany of the same upsert, rows unsorted); the
ratio is flush time ÷ baseline time (below 1: faster).

SQLite always; PostgreSQL too when BENCH_DATABASE_URL names one (its ledger table is
emptied); through Redis too when BENCH_REDIS_URL names one (its `bench:ledger:` keys).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete

from bot.clock import FakeClock
from bot.db import Database, upgrade_async
from bot.redis_pool import connect
from bot.services.ledger import Ledger, LedgerKind
from bot.services.ledger_redis import RedisBuffer
from models.ledger import KEY, LedgerRow, hour_of
from models.upsert import _insert

EVENTS = 1_000_000
BATCH = 100_000  # events between two flushes
CHATS = 200
PEOPLE = 500  # per chat
HOURS = 72  # the events spread over three days
TARGET = 2.0  # seconds of database time per 100,000 events
START = datetime(2026, 6, 1, tzinfo=UTC)
KINDS = [LedgerKind.MESSAGE] * 14 + [LedgerKind.REACTION] * 4 + list(LedgerKind)
"""Mostly messages and reactions, every other kind now and then."""


def events(seed: int = 12) -> Iterator[tuple[int, int, LedgerKind, datetime]]:
    """EVENTS events (chat, person, kind, when), in time order."""
    rng = random.Random(seed)
    step = timedelta(hours=HOURS) / EVENTS
    for n in range(EVENTS):
        chat = rng.randrange(CHATS)
        person = rng.randrange(PEOPLE)
        yield (
            -1_001_000_000_000 - chat,
            10_000 + chat * PEOPLE + person,
            rng.choice(KINDS),
            (START + step * n),
        )


async def _empty(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(delete(LedgerRow))


async def run(db: Database, buffer: RedisBuffer | None) -> tuple[float, float, float, int]:
    """(seconds in flush, CPU seconds of this process in flush (the database thread's
    included; a server's not), seconds counting, rows at the end) for the whole workload."""
    await _empty(db)
    clock = FakeClock(START)
    ledger = Ledger(db, clock, buffer=buffer)
    counting = flushing = cpu = 0.0
    stream = events()
    for _ in range(EVENTS // BATCH):
        started = time.perf_counter()
        for chat, person, kind, at in (next(stream) for _ in range(BATCH)):
            ledger.count(chat, person, kind, at)
        counting += time.perf_counter() - started
        started, used = time.perf_counter(), time.process_time()
        await ledger.flush()
        flushing += time.perf_counter() - started
        cpu += time.process_time() - used
    async with db.transaction() as session:
        totals = await _totals(session)
    assert totals[0] == EVENTS, f"counted {totals[0]} of {EVENTS} events"
    return flushing, cpu, counting, totals[1]


async def _totals(session: object) -> tuple[int, int]:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    found = await session.execute(select(func.sum(LedgerRow.count), func.count()))
    total, rows = found.one()
    return int(total), int(rows)


async def before(db: Database) -> tuple[float, float]:
    """The baseline: the flush as it was before this benchmark, the same batches given to
    SQLAlchemy's executemany of the same upsert, rows in the order they were counted;
    (seconds, CPU seconds)."""
    await _empty(db)
    stream = events()
    elapsed = cpu = 0.0
    for _ in range(EVENTS // BATCH):
        batch: dict[tuple[int, int, datetime, str], int] = defaultdict(int)
        for chat, person, kind, at in (next(stream) for _ in range(BATCH)):
            batch[(chat, person, hour_of(at), kind.value)] += 1
        rows = [
            {"chat_id": c, "user_id": u, "bucket": b, "kind": k, "count": n, "daily": False}
            for (c, u, b, k), n in batch.items()
        ]
        started, used = time.perf_counter(), time.process_time()
        async with db.transaction() as session:
            connection = await session.connection()
            stmt = _insert(session, LedgerRow)
            stmt = stmt.on_conflict_do_update(
                index_elements=KEY, set_={"count": LedgerRow.count + stmt.excluded.count}
            )
            await connection.execute(stmt, rows)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - used
    return elapsed, cpu


async def measure(name: str, url: str, redis_url: str | None) -> bool:
    db = Database(url)
    try:
        baseline, baseline_cpu = await before(db)
        flushing, cpu, counting, rows = await run(db, None)
        batches = EVENTS / BATCH
        per = flushing / batches
        ok = per <= TARGET
        print(
            f"{name:<10} flush {per:5.2f} s per 100,000 events (CPU {cpu / batches:.2f} s; "
            f"target ≤ {TARGET:.0f} s); before: {baseline / batches:5.2f} s (CPU "
            f"{baseline_cpu / batches:.2f} s); ratio {flushing / baseline:.2f} (CPU "
            f"{cpu / baseline_cpu:.2f}); generating and counting the events "
            f"{counting / batches:.2f} s; {rows} rows",
            flush=True,
        )
        if redis_url:
            redis = connect(redis_url)  # the application's one client, as bot/app.py builds it
            try:
                through, cpu, _, _ = await run(db, RedisBuffer(redis, "bench:ledger:"))
            finally:
                await redis.aclose()
            print(
                f"{name:<10} through Redis: {through / batches:5.2f} s per 100,000 "
                f"(CPU {cpu / batches:.2f} s)"
            )
        await _empty(db)
    finally:
        await db.close()
    return ok


async def main() -> int:
    print(
        f"{EVENTS:,} events: {CHATS} chats × {PEOPLE} people over {HOURS} hours, "
        f"flushed every {BATCH:,}"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        ok = await measure("SQLite", url, redis_url)
    postgres = os.environ.get("BENCH_DATABASE_URL")
    if postgres:
        await upgrade_async(postgres)
        ok = await measure("PostgreSQL", postgres, redis_url) and ok
    print(
        "result: "
        + (
            "ok"
            if ok
            else "NOT within target (a busy machine inflates the wall time; CPU shows the work)"
        )
    )
    return 0 if ok else 1
