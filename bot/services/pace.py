"""Counters for the per-message path: flood windows, slow-mode slots, one-per-episode flags.

`MemoryPace` keeps them in this process (the default). `RedisPace` keeps them in Redis
(`REDIS_URL`, through the process's one client), so several bot processes behind one webhook
share them. Neither touches the database: the per-message path must not open a write transaction.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Awaitable
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.clock import SystemTimer, Timer
from bot.redis_batch import PackedBatcher

log = logging.getLogger(__name__)
T = TypeVar("T")


class Pace(Protocol):
    async def hit(self, key: str, at: float, window: float) -> int:
        """Record one event at `at`; how many events fall within the last `window` seconds."""

    async def claim(self, key: str, at: float, ttl: float) -> bool:
        """True (and hold the key for `ttl` seconds) unless it is already held."""

    async def held_and_hit(
        self, held_key: str, key: str, at: float, window: float
    ) -> tuple[bool, int]:
        """`held(held_key)` and `hit(key)` at once (one round trip to a remote store)."""

    async def held(self, key: str, at: float) -> bool:
        """Whether the key is currently held."""

    async def release(self, key: str) -> None:
        """Let go of a held key."""

    async def prune(self, at: float) -> None:
        """Forget what can no longer matter."""

    def outage(self) -> int:
        """0 while the counters work; else which outage of the store this is (1, 2, ...)."""


class MemoryPace:
    """Sliding windows and leases in a dict; pruned by a periodic job."""

    MAX_WINDOW = 3600.0

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._leases: dict[str, float] = {}

    async def hit(self, key: str, at: float, window: float) -> int:
        times = self._hits.get(key)
        if times is None:
            times = self._hits[key] = deque()
        if times and at < times[-1]:
            # updates are handled concurrently, so an older message may come last: keep the
            # window sorted, or its stamp would sit behind newer ones and never be pruned
            bisect.insort(times, at)
        else:
            times.append(at)
        while times and times[0] <= at - window:
            times.popleft()
        return len(times)

    async def claim(self, key: str, at: float, ttl: float) -> bool:
        until = self._leases.get(key)
        if until is not None and until > at:
            return False
        self._leases[key] = at + ttl
        return True

    async def held(self, key: str, at: float) -> bool:
        until = self._leases.get(key)
        return until is not None and until > at

    async def held_and_hit(
        self, held_key: str, key: str, at: float, window: float
    ) -> tuple[bool, int]:
        return await self.held(held_key, at), await self.hit(key, at, window)

    async def release(self, key: str) -> None:
        self._leases.pop(key, None)

    async def prune(self, at: float) -> None:
        for key in [
            k for k, times in self._hits.items() if not times or times[-1] < at - self.MAX_WINDOW
        ]:
            del self._hits[key]
        for key in [k for k, until in self._leases.items() if until <= at]:
            del self._leases[key]

    def outage(self) -> int:
        return 0


class RedisPace:
    """The same counters in Redis: a sorted set per window, `SET NX PX` per lease.

    Callers beyond the pool's connections wait for one (`bot/redis_pool.py`), so a burst
    is counted, not waved through. Only when Redis is really down (refused, unreachable,
    silent past the timeouts) do the rules fail open (the message stays), with a warning
    logged at most once a minute: a broken counter store must not silence the chat.
    """

    COUNT = """
    local out = {}
    for record in string.gmatch(ARGV[1], "[^\\n]+") do
      local held, key, at, member, window, ttl =
        string.match(record, "^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$")
      -- a malformed record or a Redis error on it (a key of another type) fails its caller
      -- alone: the others of the loop turn are still counted
      local ok, answer = pcall(function()
        at = tonumber(at)
        local found = 0
        if held ~= "-" then found = redis.call('EXISTS', held) end
        redis.call('ZADD', key, at, member)
        redis.call('ZREMRANGEBYSCORE', key, '-inf', at - tonumber(window))
        redis.call('EXPIRE', key, ttl)
        return found .. ":" .. redis.call('ZCARD', key)
      end)
      out[#out + 1] = (key and ok) and answer or "e"
    end
    return table.concat(out, " ")
    """  # records "held-key|- window-key at member window ttl" -> "held:count" each

    def __init__(
        self, redis: Redis, prefix: str = "hearth:pace:", *, timer: Timer | None = None
    ) -> None:
        """`redis` is the process's client (bot/redis_pool.py); its owner closes it."""
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._redis = redis
        self._batch = PackedBatcher(self._redis, self.COUNT)  # a burst's counts: one call
        self._member = f"{uuid.uuid4().hex[:12]}:"  # window entries unique across processes
        self._serial = itertools.count()
        self._prefix = prefix
        self._warned_at = 0.0
        self._outages = 0
        self._down = False

    async def _safe(self, call: Awaitable[T], fallback: T) -> T:
        try:
            found = await call
        except (RedisError, OSError, TimeoutError) as error:
            if not self._down:
                self._down = True
                self._outages += 1
            now = self._timer.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("Redis unavailable, rate rules are off meanwhile: %s", error)
            return fallback
        self._down = False
        return found

    def outage(self) -> int:
        return self._outages if self._down else 0

    async def hit(self, key: str, at: float, window: float) -> int:
        return (await self._count("-", key, at, window))[1]

    async def held_and_hit(
        self, held_key: str, key: str, at: float, window: float
    ) -> tuple[bool, int]:
        return await self._count(self._prefix + "l:" + held_key, key, at, window)

    async def _count(self, held: str, key: str, at: float, window: float) -> tuple[bool, int]:
        """One record of the batched count: whether `held` exists, and the window's size."""
        record = (
            f"{held} {self._prefix}w:{key} {at!r} {self._member}{next(self._serial)} "
            f"{window!r} {int(window) + 1}"
        )
        answer = await self._safe(self._batch.run(record), "0:0")
        found, _, count = answer.partition(":")
        if not count:  # this record alone failed (see COUNT); Redis itself answers
            self._record_failed(key)
            return False, 0
        return found == "1", int(count)

    def _record_failed(self, key: str) -> None:
        now = self._timer.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("a rate counter could not be read (%s): that message passed", key)

    async def claim(self, key: str, at: float, ttl: float) -> bool:
        ok = self._redis.set(
            self._prefix + "l:" + key, at + ttl, nx=True, px=max(1, int(ttl * 1000))
        )
        return bool(await self._safe(ok, True))

    async def held(self, key: str, at: float) -> bool:
        return bool(await self._safe(self._redis.exists(self._prefix + "l:" + key), 0))

    async def release(self, key: str) -> None:
        await self._safe(self._redis.delete(self._prefix + "l:" + key), 0)

    async def prune(self, at: float) -> None:
        return None  # keys expire by themselves


def build_pace(redis: Redis | None, *, timer: Timer | None = None) -> Pace:
    """In Redis when the process has a client (shared by every process), else in memory."""
    return RedisPace(redis, timer=timer) if redis is not None else MemoryPace()
