"""Steps that must not interleave: one person's check-in answers, one person's warnings, the
buddy matching of one chat.

Updates are handled concurrently, and with several processes behind one webhook two updates
of the same person may land in two processes. `Locks.lock(name, timeout)` serialises a step:

* in this process, an asyncio.Lock per name, kept in a weak dictionary so the names of people
  who went quiet do not pile up (all there is without Redis: then bot/singleton.py makes sure
  there is one process);
* with `REDIS_URL`, also a Redis lock (redis-py's `Lock`: `SET NX PX` with a random token,
  released only by its owner). `timeout` is its expiry, so a process killed while holding it
  keeps the step closed for at most that long; a waiter gives up after `timeout` as well
  (`LockTimeout`), by when a dead holder's lock has expired. The local lock is taken first,
  so the waiters of one process queue in memory and only one of them polls Redis.

When Redis is down the local lock alone serialises the step (within this process only, as
before several processes existed); that is logged once until Redis answers again, and Redis
is asked again `RETRY_AFTER` seconds later, not on every step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError, RedisError

from bot.clock import SystemTimer, Timer

__all__ = ["DEFAULT_TIMEOUT", "RETRY_AFTER", "LockTimeout", "Locks"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds: far longer than a step that makes no Telegram call
RETRY_AFTER = 5.0  # seconds between attempts to reach a Redis that failed
POLL = 0.05  # seconds between a waiter's attempts to take a lock held in another process


class LockTimeout(Exception):
    """Another process held the lock for longer than the step's timeout."""


class Locks:
    """Named locks, across processes when a Redis client is given (see the module)."""

    def __init__(
        self,
        redis: Redis | None = None,
        prefix: str = "hearth:lock:",
        *,
        timer: Timer | None = None,
    ) -> None:
        """`redis`: the process's client (the application closes it); None: this process only."""
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._redis = redis
        self._prefix = prefix
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._down_since: float | None = None

    @property
    def shared(self) -> bool:
        """Whether the locks reach other processes (Redis configured and answering)."""
        return self._redis is not None and self._down_since is None

    @contextlib.asynccontextmanager
    async def lock(
        self, name: str, timeout: float = DEFAULT_TIMEOUT, blocking_timeout: float | None = None
    ) -> AsyncIterator[None]:
        """Hold `name` for the `async with` block. In Redis the lock expires after `timeout`
        seconds even if its holder never lets go; waiting for it ends after `blocking_timeout`
        (default: `timeout`) with LockTimeout."""
        local = self._local.get(name)
        if local is None:
            local = self._local[name] = asyncio.Lock()
        async with local:
            wait = timeout if blocking_timeout is None else blocking_timeout
            shared = await self._acquire(name, timeout, wait)
            try:
                yield
            finally:
                if shared is not None:
                    await self._release(shared, name, timeout)

    async def _acquire(self, name: str, timeout: float, wait: float) -> Lock | None:
        """The Redis lock, held; None without Redis (or while it is down)."""
        if self._redis is None or not self._due_for_redis():
            return None
        shared = self._redis.lock(
            self._prefix + name,
            timeout=timeout,
            sleep=POLL,
            blocking_timeout=wait,
            thread_local=False,
        )
        try:
            acquired = await shared.acquire()
        except (RedisError, OSError, TimeoutError) as error:
            if self._down_since is None:
                log.warning(
                    "Redis unavailable, steps are serialised within this process only: %s",
                    error,
                )
            self._down_since = self._timer.monotonic()
            return None
        if self._down_since is not None:
            log.info("Redis answers again: steps are serialised across processes")
            self._down_since = None
        if not acquired:
            raise LockTimeout(f"{name} held elsewhere for more than {wait} s")
        return shared

    def _due_for_redis(self) -> bool:
        """Whether to ask Redis: always while it answers, every RETRY_AFTER while it does not."""
        if self._down_since is None:
            return True
        return self._timer.monotonic() - self._down_since >= RETRY_AFTER

    async def _release(self, shared: Lock, name: str, timeout: float) -> None:
        try:
            await shared.release()
        except LockNotOwnedError:
            # it expired meanwhile, so another process may have entered: the timeout is short
            log.warning("lock %s was held past its %s s timeout", name, timeout)
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("could not release lock %s (it expires by itself): %s", name, error)
