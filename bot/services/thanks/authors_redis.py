"""Recent message authors in Redis, shared by every process of the bot (see authors.py).

Stored: per chat and hour of writing, one hash `hearth:authors:<bot id>:<chat>:<hour>` from
message id to author id, nothing else (no text; no time finer than the hour). Each hash expires
12 hours after its hour ends, so an author stays known for 12 to 13 hours.

The per-message path never waits for Redis: `seen` writes this process's memory (asked first,
and alone while Redis is down) and queues the pair; one background write at a time sends what
queued meanwhile as one pipeline (an HSET and an EXPIRE per chat and hour), so a burst costs a
few round trips, not one per message. A reaction asks Redis (one pipeline of 13 HGETs) only
when this process did not see the message itself.

/forget: the person's pairs leave this process's memory and every hash; other processes may
still remember some in memory (or write back a queued one), so `forgotten:<user id>` (the id
alone, no time) is kept for 13 hours and a reaction to that person's message is not credited
meanwhile, whichever process handles it.

Redis down: each process knows the messages it saw, as without Redis; logged once per outage.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.services.thanks.authors import LIMIT, RECENT, RecentAuthors

__all__ = ["BUCKET", "MAX_BATCH", "SharedAuthors"]

log = logging.getLogger(__name__)

BUCKET = 3600  # seconds of messages one hash holds
MAX_PENDING = 50_000  # pairs queued while Redis is slow; beyond that only memory has them
MAX_BATCH = 5_000  # pairs per pipeline
FORGET_KEYS = 100  # hashes looked through per script call (Redis runs a script alone)

FORGET = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'hash' then  -- not the `forgotten:` marks
    local all = redis.call('HGETALL', key)
    for i = 1, #all, 2 do
      if all[i + 1] == ARGV[1] then redis.call('HDEL', key, all[i]) n = n + 1 end
    end
  end
end
return n
"""
"""Delete the fields (messages) of the given hashes whose value (author) is ARGV[1]."""

Pair = tuple[int, int, int, int]
"""(chat id, message id, author id, when as Unix seconds) queued for Redis."""


class SharedAuthors:
    """Recent authors in this process's memory and in Redis (see the module)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "hearth:authors:",
        *,
        recent: timedelta = RECENT,
        limit: int = LIMIT,
    ) -> None:
        """`redis` is the process's client (bot/redis_pool.py); the application closes it."""
        self._redis = redis
        self._prefix = prefix
        self._recent = int(recent.total_seconds())
        self._memory = RecentAuthors(recent, limit)
        self._pending: list[Pair] = []
        self._writing: asyncio.Task[None] | None = None
        self._forget = redis.register_script(FORGET)
        self._down = False

    def seen(self, chat_id: int, message_id: int, user_id: int, at: datetime) -> None:
        self._memory.seen(chat_id, message_id, user_id, at)
        if len(self._pending) < MAX_PENDING:
            self._pending.append((chat_id, message_id, user_id, int(at.timestamp())))
        if self._writing is None:  # started now, it runs once this loop turn's messages queued
            self._writing = asyncio.get_running_loop().create_task(self._write_pending())

    async def author(self, chat_id: int, message_id: int, now: datetime) -> int | None:
        found = self._memory.known(chat_id, message_id, now)
        if found is None:
            found = await self._shared(chat_id, message_id, now)
        if found is None or await self._forgotten(found):
            return None
        return found

    async def _shared(self, chat_id: int, message_id: int, now: datetime) -> int | None:
        at = int(now.timestamp())
        newest, oldest = at // BUCKET, (at - self._recent) // BUCKET
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for bucket in range(newest, oldest - 1, -1):
                    pipe.hget(self._key(chat_id, bucket), str(message_id))
                answers = await pipe.execute()
        except (RedisError, OSError, TimeoutError) as error:
            self._failed(error)
            return None
        self._answered()
        return next((int(value) for value in answers if value is not None), None)

    async def _forgotten(self, user_id: int) -> bool:
        """Whether the person used /forget in the last 13 hours (in any process: another
        one may still hold their messages in memory, or write a queued pair back)."""
        try:
            found = await self._redis.exists(self._forgotten_key(user_id))
        except (RedisError, OSError, TimeoutError) as error:
            self._failed(error)
            return False
        return bool(found)

    async def forget_person(self, user_id: int) -> None:
        """/forget: the person's messages leave memory, the queue and every hash in Redis
        (if Redis fails, they expire within 13 hours; that is logged)."""
        self._memory.forget_here(user_id)
        self._pending = [pair for pair in self._pending if pair[2] != user_id]
        await self.settle()
        try:
            # what other processes still remember of them is not credited meanwhile
            await self._redis.set(self._forgotten_key(user_id), 1, ex=self._recent + BUCKET)
            keys: list[bytes] = []
            async for key in self._redis.scan_iter(match=self._prefix + "*", count=1000):
                keys.append(key)
                if len(keys) >= FORGET_KEYS:
                    await self._forget(keys=keys, args=[user_id])
                    keys = []
            if keys:
                await self._forget(keys=keys, args=[user_id])
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("could not drop a person's recent messages from Redis: %s", error)

    async def settle(self) -> None:
        while self._writing is not None:
            await asyncio.wait({self._writing})

    async def _write_pending(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not await self._write(batch):
                    # Redis is away: memory keeps them; trying the rest now would only hold
                    # up a shutdown by a socket timeout per batch
                    self._pending.clear()
        finally:
            self._writing = None

    async def _write(self, batch: list[Pair]) -> bool:
        """One pipeline: per chat and hour, the messages' authors and the hash's expiry
        (12 hours after the hour ends, counted from the message's time)."""
        fields: dict[str, dict[int, int]] = {}
        ttls: dict[str, int] = {}
        for chat_id, message_id, user_id, at in batch:
            bucket = at // BUCKET
            key = self._key(chat_id, bucket)
            fields.setdefault(key, {})[message_id] = user_id
            ttls[key] = (bucket + 1) * BUCKET + self._recent - at
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, authors in fields.items():
                    pipe.hset(key, mapping=authors)  # type: ignore[arg-type]
                    pipe.expire(key, ttls[key])
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as error:
            self._failed(error)  # memory still has them: this process's reactions count
            return False
        self._answered()
        return True

    def _key(self, chat_id: int, bucket: int) -> str:
        return f"{self._prefix}{chat_id}:{bucket}"

    def _forgotten_key(self, user_id: int) -> str:
        return f"{self._prefix}forgotten:{user_id}"

    def _failed(self, error: BaseException) -> None:
        if not self._down:
            log.warning(
                "Redis unavailable: a reaction counts as thanks only in the process that saw "
                "the message: %s",
                error,
            )
        self._down = True

    def _answered(self) -> None:
        if self._down:
            log.info("Redis answers again: recent authors are shared again")
        self._down = False
