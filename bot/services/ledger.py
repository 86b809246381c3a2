"""The activity ledger: who did what in which chat, counted per hour, never what they wrote.

`count()` only adds to a dict in memory, so the per-message path writes nothing; `flush()`
writes everything counted since the last flush in one transaction (the activity flush job,
shutdown and a supergroup move call it). A failed flush keeps its counts for the next try.
With REDIS_URL the flush goes through one Redis hash shared by every process of the bot
(bot/services/ledger_redis.py); reads (/stats, /me, /atrisk) flush first either way.
`roll_up()` (daily job) turns hourly rows older than each chat's `ledger_hourly` setting (or
`hourly_days` when built without settings) into daily rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.services.ledger_redis import Count, RedisBuffer, RedisDown
from models.ledger import Key, LedgerKind, LedgerRepository, day_of

__all__ = ["LEDGER_HOURLY_DAYS", "Ledger", "LedgerKind", "flush_each"]

log = logging.getLogger(__name__)

LEDGER_HOURLY_DAYS = 90
MIN_HOURLY = timedelta(days=1)  # the least the `ledger_hourly` setting accepts
ME_DAYS = 30  # /me: "active on N of the last 30 days"
REDIS_RETRY = 30.0  # seconds the ledger writes straight to the database after Redis failed


class Ledger:
    """Buffers counters in memory and writes them in batches; reads what /me shows.

    With a `RedisBuffer` (REDIS_URL set) a flush goes through Redis, so several processes
    add to one set of counters (see bot/services/ledger_redis.py for what a crash can cost).
    Redis down: the flush writes this process's counts straight to the database, logs once
    per outage and tries Redis again `REDIS_RETRY` later.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        hourly_days: int = LEDGER_HOURLY_DAYS,
        hourly_for: Callable[[int], Awaitable[timedelta]] | None = None,
        buffer: RedisBuffer | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._hourly_days = hourly_days
        self._hourly_for = hourly_for  # a chat's `ledger_hourly` setting
        self._pending: defaultdict[Count, int] = defaultdict(int)
        self._buffer = buffer
        self._claims: dict[str, int] = {}  # taken hashes this process still has to write
        self._written: list[str] = []  # in the database, not yet deleted from Redis
        self._redis_down_until: float | None = None
        self._draining = asyncio.Lock()

    def count(
        self, chat_id: int, user_id: int, kind: LedgerKind, at: datetime | None = None
    ) -> None:
        """Count one `kind` for the person in the chat at `at` (now by default). Memory only."""
        when = int((at if at is not None else self._clock.now()).timestamp())
        self._pending[(chat_id, user_id, when - when % 3600, kind.value)] += 1

    def count_each(self, chat_id: int, user_ids: Iterable[int], kind: LedgerKind) -> None:
        """Count one `kind` for each of the people (newcomers promoted together, say)."""
        for user_id in user_ids:
            self.count(chat_id, user_id, kind)

    def left(self, chat_id: int, user_id: int, *, removed: bool) -> None:
        """Someone left the chat, or was removed from it by someone else."""
        self.count(chat_id, user_id, LedgerKind.REMOVED if removed else LedgerKind.LEFT)

    def forget_person(self, user_id: int) -> int:
        """Drop what is counted in memory for the person (/forget); how many counters went."""
        mine = [key for key in self._pending if key[1] == user_id]
        for key in mine:
            del self._pending[key]
        return len(mine)

    def pending(self) -> int:
        """How many counters wait for the next flush."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write what was counted since the last flush (through Redis when there is one, and
        what other processes put there); returns how many counters it wrote."""
        if self._buffer is None or not await self._push(self._buffer):
            return await self._write_pending()
        try:
            async with self._draining:  # two flushes at once must not write one claim twice
                written = await self._drain(self._buffer)
        except RedisDown as error:
            self._redis_failed(error)  # what it took stays there, claimed again later
            return 0
        if self._redis_down_until is not None:
            self._redis_down_until = None
            log.info("ledger: Redis is back")
        return written

    async def _write_pending(self) -> int:
        if not self._pending:
            return 0
        batch, self._pending = self._pending, defaultdict(int)
        try:
            await self._write(batch)
        except Exception:
            for key, n in batch.items():  # keep them for the next try
                self._pending[key] += n
            raise
        return len(batch)

    async def _write(self, batch: Mapping[Count, int]) -> None:
        hours: dict[int, datetime] = {}
        rows: dict[Key, int] = {}
        for (chat_id, user_id, hour, kind), n in batch.items():
            bucket = hours.get(hour)
            if bucket is None:
                bucket = hours[hour] = datetime.fromtimestamp(hour, UTC)
            rows[(chat_id, user_id, bucket, kind)] = n
        async with self._db.transaction() as session:
            await LedgerRepository(session).add(rows)

    async def _push(self, buffer: RedisBuffer) -> bool:
        """Move the memory counts into Redis; False when Redis is down (what did not arrive
        stays in memory)."""
        down = self._redis_down_until
        if down is not None and self._clock.now().timestamp() < down:
            return False
        if not self._pending:
            return True
        batch, self._pending = self._pending, defaultdict(int)
        try:
            await buffer.push(batch)
        except RedisDown as error:
            for key, n in batch.items():
                self._pending[key] += n
            self._redis_failed(error)
            return False
        return True

    def _redis_failed(self, error: Exception) -> None:
        if self._redis_down_until is None:
            log.warning("ledger: Redis unavailable, writing counts to the database: %s", error)
        self._redis_down_until = self._clock.now().timestamp() + REDIS_RETRY

    async def _drain(self, buffer: RedisBuffer) -> int:
        """Write every hash taken from Redis in one transaction: this process's left from a
        failed try, those of dead processes, and what is counted now; they are deleted after
        the commit (a deletion that failed is tried again first next time)."""
        while self._written:
            await buffer.done(self._written[0])
            self._written.pop(0)
        now = int(self._clock.now().timestamp() * 1000)
        for name, claimed in list(self._claims.items()):
            if not await buffer.renew(name, claimed, now):
                del self._claims[name]  # another process took it over
            else:
                self._claims[name] = now
        for name in await buffer.claim_stale(now):
            self._claims[name] = now
        taken = await buffer.take(now)
        if taken is not None:
            self._claims[taken] = now
        names = list(self._claims)
        batch: defaultdict[Count, int] = defaultdict(int)
        for name in names:
            for key, n in (await buffer.read(name)).items():
                batch[key] += n
        if batch:
            await self._write(batch)  # a failure keeps the claims for the next flush
        self._written.extend(names)
        self._claims.clear()
        while self._written:
            await buffer.done(self._written[0])
            self._written.pop(0)
        return len(batch)

    async def days_active(self, chat_id: int, user_id: int, days: int = ME_DAYS) -> int:
        """On how many of the last `days` days the person wrote, reacted or answered a
        check-in in the chat (what is still in memory included)."""
        await self.flush_quietly()
        async with self._db.transaction() as session:
            return await LedgerRepository(session).days_active(
                chat_id, user_id, days, self._clock.now()
            )

    async def roll_up(self) -> int:
        """Scheduled daily: hourly rows of days older than the chat's limit become one row
        per day (midnight UTC, `daily`), one transaction per chat; returns the hourly rows
        gone. Totals stay; running it twice changes nothing."""
        today = day_of(self._clock.now())
        # the shortest limit a chat may choose: every chat with older hours is looked at
        earliest = today - (MIN_HOURLY if self._hourly_for else timedelta(self._hourly_days))
        async with self._db.transaction() as session:
            chats = await LedgerRepository(session).chats_with_hourly_before(earliest)
        gone = 0
        for chat_id in chats:
            cutoff = today - await self._hourly_limit(chat_id)
            async with self._db.transaction() as session:
                gone += await LedgerRepository(session).roll_up(chat_id, cutoff)
        if gone:
            log.info("ledger: %d hourly rows of %d chats rolled up", gone, len(chats))
        return gone

    async def _hourly_limit(self, chat_id: int) -> timedelta:
        if self._hourly_for is None:
            return timedelta(days=self._hourly_days)
        # a whole number of days: a day is rolled up whole or not at all
        return timedelta(days=max(1, (await self._hourly_for(chat_id)).days))

    async def flush_quietly(self) -> None:
        """Flush before reading; a failure is logged, and the read goes on with what is stored."""
        try:
            await self.flush()
        except Exception:
            log.exception("could not store the ledger's counters")


def flush_each(*flushes: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """One flush that runs every given one (activity, ledger) even when one fails, then
    raises the first failure; it returns how many rows they wrote."""

    async def flush() -> int:
        failure: Exception | None = None
        written = 0
        for one in flushes:
            try:
                written += await one()
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure
        return written

    return flush
