"""/stats for a large chat: HealthService.report for 30 and 90 days over a year of ledger.

Seeds one chat of 10,000 members with a year of counters: most members quiet, some active
on most days, some weekly; about 8 joins a day with verification, buddies and promotion;
hourly rows for the last 90 days and daily rows (rolled up) before that; the newcomers'
first-message times and check-in streaks. Then times the report on SQLite and, when
TEST_DATABASE_URL (or BENCH_DATABASE_URL) names a PostgreSQL database, on it too.

Baseline, measured in the same run on the same data: reading every (person, day, kind) row
of the 120 days the report spans into Python, which is what the report did before its
aggregation moved into SQL. On PostgreSQL the tables are vacuumed and analysed after the
bulk load, as autovacuum keeps a table in use. Printed per database and period: the
report's time (best of three), the baseline's and their ratio. Target: each report within 2 s.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, insert, text

from bench.backends import best_of, on_each_backend
from bot.clock import FakeClock
from bot.db import Database, upgrade_async
from bot.notifier import Notifier
from bot.services.health import HealthService
from bot.services.ledger import Ledger
from bot.services.settings import SettingsService
from models.chats import Chat
from models.checkins import CheckinMember
from models.ledger import TABLE, LedgerRepository, day_of
from models.members import Member

CHAT = -1009000000001
MEMBERS = 10_000
DAYS = 365
HOURLY_DAYS = 90
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TARGET_SECONDS = 2.0
PROFILES = ((0.08, 0.7), (0.20, 0.15), (0.72, 0.005))  # (share of members, p(active a day))
JOINERS = 0.3  # share of members who joined during the year (the rest were there before)

Row = dict[str, Any]


class _Members:
    """Telegram's member count (the bot included, as Telegram counts)."""

    async def member_count(self, chat_id: int) -> int:
        return MEMBERS + 1


def _ledger_rows(rng: random.Random) -> Iterator[Row]:
    """A year of one chat's counters; hourly for the last 90 days, daily before."""
    start = day_of(NOW) - timedelta(days=DAYS - 1)
    hourly_from = day_of(NOW) - timedelta(days=HOURLY_DAYS)
    sums: dict[tuple[int, datetime, str], int] = defaultdict(int)
    for user in range(1, MEMBERS + 1):
        share = rng.random()
        p = next(p for cut, p in _cumulative() if share < cut)
        first = 0
        if rng.random() < JOINERS:
            first = rng.randrange(DAYS)
            _join(sums, rng, user, start + timedelta(days=first, hours=rng.randrange(24)))
        span = DAYS - first
        active = rng.sample(range(first, DAYS), min(span, round(span * p + rng.random())))
        for offset in active:
            day = start + timedelta(days=offset)
            for _ in range(rng.randint(1, 4)):
                sums[(user, day + timedelta(hours=rng.randrange(24)), "message")] += rng.randint(
                    1, 5
                )
            if rng.random() < 0.5:
                sums[(user, day + timedelta(hours=rng.randrange(24)), "reaction")] += 1
            if offset % 7 == 0 and rng.random() < 0.3:
                sums[(user, day + timedelta(hours=10), "checkin_answered")] += 1
    daily: dict[tuple[int, datetime, str], int] = defaultdict(int)
    for (user, bucket, kind), n in sums.items():
        if bucket >= hourly_from:
            yield _row(user, bucket, kind, n, False)
        else:
            daily[(user, day_of(bucket), kind)] += n
    for (user, bucket, kind), n in daily.items():
        yield _row(user, bucket, kind, n, True)


def _cumulative() -> list[tuple[float, float]]:
    total, result = 0.0, []
    for share, p in PROFILES:
        total += share
        result.append((total, p))
    result[-1] = (1.01, result[-1][1])
    return result


def _join(
    sums: dict[tuple[int, datetime, str], int], rng: random.Random, user: int, at: datetime
) -> None:
    sums[(user, at, "joined")] += 1
    if rng.random() < 0.9:
        sums[(user, at, "verified")] += 1
        if rng.random() < 0.6:
            sums[(user, at + timedelta(hours=rng.choice((1, 5, 30, 80))), "buddy_assigned")] += 1
        if rng.random() < 0.7 and at + timedelta(days=7) < NOW:
            sums[(user, at + timedelta(days=7), "promoted")] += 1


def _row(user: int, bucket: datetime, kind: str, n: int, daily: bool) -> Row:
    return {
        "chat_id": CHAT,
        "user_id": user,
        "bucket": bucket,
        "kind": kind,
        "count": n,
        "daily": daily,
    }


def _member_rows(rng: random.Random) -> list[Row]:
    rows = []
    for user in range(1, MEMBERS + 1):
        joined = NOW - timedelta(days=rng.randrange(DAYS), hours=rng.randrange(24))
        wrote = joined + timedelta(hours=rng.randrange(48)) if rng.random() < 0.3 else None
        replied = None
        if wrote is not None and rng.random() < 0.7:
            replied = wrote + timedelta(minutes=rng.randrange(5, 600))
        rows.append(
            {
                "chat_id": CHAT,
                "user_id": user,
                "status": "in",
                "trust": "member",
                "trust_pinned": False,
                "level_since": joined,
                "joined_at": joined,
                "source": "seen",
                "first_message_id": user if wrote else None,
                "first_message_at": wrote,
                "first_reply_at": replied,
            }
        )
    return rows


async def _seed(db: Database) -> int:
    rng = random.Random(12)
    async with db.transaction() as session:
        await session.execute(delete(TABLE).where(TABLE.c.chat_id == CHAT))
        await session.execute(delete(Member).where(Member.chat_id == CHAT))
        await session.execute(delete(CheckinMember).where(CheckinMember.chat_id == CHAT))
        await session.execute(delete(Chat).where(Chat.id == CHAT))
        await session.execute(
            insert(Chat), [{"id": CHAT, "title": "Large", "type": "supergroup", "created_at": NOW}]
        )
        await session.execute(insert(Member), _member_rows(rng))
        streaks = [
            {"chat_id": CHAT, "user_id": u, "opted_in": True, "streak": rng.randint(0, 12)}
            for u in range(1, 400)
        ]
        await session.execute(insert(CheckinMember), streaks)
    seeded, batch = 0, []
    for row in _ledger_rows(rng):
        batch.append(row)
        if len(batch) == 20_000:
            seeded += await _insert(db, batch)
            batch = []
    return seeded + await _insert(db, batch)


async def _insert(db: Database, rows: list[Row]) -> int:
    if rows:
        async with db.transaction() as session:
            await session.execute(insert(TABLE), rows)
    return len(rows)


async def _settle(db: Database) -> None:
    """PostgreSQL: what autovacuum does to a table in use (statistics for the planner, the
    visibility map for index-only scans), done at once after the bulk load."""
    if db.engine.dialect.name != "postgresql":
        return
    async with db.engine.connect() as connection:
        auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("ledger", "members", "checkin_members"):
            await auto.execute(text(f"VACUUM ANALYZE {table}"))


async def _measure(name: str, url: str) -> bool:
    await upgrade_async(url)
    db = Database(url)
    clock = FakeClock(NOW)
    try:
        started = time.perf_counter()
        rows = await _seed(db)
        print(f"{name}: seeded {rows:,} ledger rows in {time.perf_counter() - started:.1f} s")
        await _settle(db)
        settings = SettingsService(db, "en", "UTC")
        health = HealthService(db, clock, Ledger(db, clock), cast(Notifier, _Members()), settings)
        since, until = day_of(NOW) - timedelta(days=119), day_of(NOW) + timedelta(days=1)

        async def baseline() -> None:
            async with db.transaction() as session:
                await LedgerRepository(session).daily_counts(CHAT, since, until)

        old = await best_of(baseline)
        ok = True
        for days in (30, 90):

            async def report(days: int = days) -> None:
                assert await health.report(CHAT, days) is not None

            took = await best_of(report)
            ok = ok and took <= TARGET_SECONDS
            print(
                f"{name}: report {days}d {took:.2f} s; baseline (every row of 120 days into "
                f"Python) {old:.2f} s; ratio {took / old:.2f}"
            )
        return ok
    finally:
        await db.close()


async def main() -> int:
    print(f"chat: {MEMBERS:,} members, {DAYS} days, hourly rows for the last {HOURLY_DAYS}")
    ok = await on_each_backend(_measure, "stats.db")
    print(f"result: {'ok' if ok else 'NOT within target'} (each report <= {TARGET_SECONDS} s)")
    return 0 if ok else 1
