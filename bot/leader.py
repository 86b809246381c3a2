"""Which process runs the scheduled work that is not claimed row by row.

Deadlines, check-in steps and outbox rows are claimed one by one in the database, so every
process may sweep them. Promotions, the Stars reconciliation, the ledger roll-up, digests and
retention are whole-table passes: several processes would each do them. With Redis, one
process holds a lease (`hearth:leader:<bot id>`) renewed every `RENEW_EVERY`; only it runs
those jobs; when it dies the lease runs out after `LEASE` and the next process to ask takes
over. Without Redis there is one process (bot/singleton.py) and it always leads.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = [
    "LEASE",
    "RENEW_EVERY",
    "Leadership",
    "RedisLeader",
    "SoleLeader",
    "build_leadership",
    "led",
]

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=45)
RENEW_EVERY = timedelta(seconds=15)


class Leadership(Protocol):
    @property
    def renew_every(self) -> timedelta:
        """How often `lead()` must be called to keep the lease."""

    async def lead(self) -> bool:
        """Whether this process leads now (taking or renewing the lease)."""

    async def close(self) -> None: ...


class SoleLeader:
    """One process: it always leads."""

    renew_every = RENEW_EVERY

    async def lead(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class RedisLeader:
    """A lease in Redis; a Redis failure counts as leading (the gated jobs are safe to repeat,
    only wasteful), and is logged once until Redis answers again."""

    TAKE = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1
    end
    if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
    return 0
    """

    GIVE_UP = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """

    def __init__(self, redis: Redis, bot_id: str, *, lease: timedelta = LEASE) -> None:
        self._redis = redis  # the process's client: the application closes it
        self._take = self._redis.register_script(self.TAKE)
        self._key = f"hearth:leader:{bot_id}"
        self._me = uuid.uuid4().hex
        self._lease_ms = int(lease.total_seconds() * 1000)
        # renewed three times a lease: one missed tick (a busy loop) does not lose it
        self.renew_every = lease / 3
        self._leading: bool | None = None
        self._failing = False

    async def lead(self) -> bool:
        try:
            leading = bool(await self._take(keys=[self._key], args=[self._me, self._lease_ms]))
        except (RedisError, OSError, TimeoutError) as error:
            if not self._failing:
                log.warning("Redis unavailable, this process runs the shared jobs: %s", error)
            self._failing = True
            return True
        self._failing = False
        if leading != self._leading:
            log.info("this process %s the shared scheduled jobs", "runs" if leading else "leaves")
            self._leading = leading
        return leading

    async def close(self) -> None:
        """Give the lease up (if held) so another process takes over at once (before the
        application closes the client)."""
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._redis.eval(self.GIVE_UP, 1, self._key, self._me)


def build_leadership(
    redis: Redis | None, bot_id: str, lease: timedelta = LEASE
) -> RedisLeader | None:
    """A Redis lease when processes share Redis; None (the process always leads) without."""
    return RedisLeader(redis, bot_id, lease=lease) if redis is not None else None


def led(
    leadership: Leadership, run: Callable[[], Awaitable[object]]
) -> Callable[[], Awaitable[None]]:
    """`run`, only in the process that leads."""

    async def gated() -> None:
        if await leadership.lead():
            await run()

    return gated
