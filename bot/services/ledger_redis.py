"""The ledger's shared buffer in Redis, so several processes of the bot add to one set of
counters and the database write drains them once.

Each process still counts in memory (no Redis round trip per message). A flush moves the
process's counts into one Redis hash (`HINCRBY`, field = the counter key; one script call
per 20,000 counters), then *takes* the hash: a Lua script renames it to a key of its own and
records the take in a sorted set (member = the taken key, score = when, in ms). The taken
hash is written to the database in one transaction, and deleted only after the commit.

What a crash can cost. Counts still in a process's memory die with it, as without Redis (at
most a minute of its counting). Once pushed, nothing is lost: a count is in the shared hash
or in a taken one, and a taken hash whose process died (or whose database write failed and
was never retried) is claimed by the first flush of any process once it is `stale` old
(five minutes). A count is written twice only when a process dies after its database commit
and before the `DEL` of the taken hash (one round trip; a `DEL` that failed is retried by
the next flush), or when a database write outlasts `stale` while another process claims the
hash. Redis itself must keep its data (AOF or RDB) for the shared hash to survive a Redis
restart.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

Count = tuple[int, int, int, str]
"""(chat_id, user_id, the hour as Unix seconds, kind): the ledger's key while in memory."""

TAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[1], KEYS[2])
return 1
"""
"""Take the shared hash: rename it to this flush's key and record when (atomic)."""

CLAIM = """
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
for _, key in ipairs(found) do redis.call('ZADD', KEYS[1], ARGV[1], key) end
return found
"""
"""Claim every taken hash older than ARGV[2] (its owner died or gave up): they become this
process's, stamped with ARGV[1], so a second process does not claim them too."""

RENEW = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""
"""Renew this process's claim on a taken hash before retrying it, unless another process
claimed it meanwhile (its score changed)."""

PUSH = r"""
for field, n in string.gmatch(ARGV[1], '([^\t\n]+)\t(%d+)') do
  redis.call('HINCRBY', KEYS[1], field, n)
end
return 1
"""
"""Add "field<TAB>n" lines to the shared hash: one argument per chunk, not one command per
counter (redis-py spent seconds a 100,000-counter batch encoding commands and parsing
replies)."""

READ = r"""
return table.concat(redis.call('HGETALL', KEYS[1]), '\n')
"""
"""A taken hash as one string, "field<NL>n<NL>field<NL>n...", split in C on our side."""

CHUNK = 20_000  # counters per round trip (Redis runs a script alone: keep each one short)


def encode(key: Count) -> str:
    chat_id, user_id, hour, kind = key
    return f"{chat_id}|{user_id}|{hour}|{kind}"


def decode(field: str) -> Count:
    chat, user, hour, kind = field.split("|", 3)
    return int(chat), int(user), int(hour), kind


class RedisDown(Exception):
    """Redis did not answer (or answered an error): the ledger falls back to the database."""


@asynccontextmanager
async def _talking() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        raise RedisDown(str(error) or type(error).__name__) from error


class RedisBuffer:
    """The shared counters in Redis; every method raises `RedisDown` when Redis fails."""

    STALE = 300_000  # milliseconds after which a taken hash is anyone's to write

    def __init__(self, redis: Redis, prefix: str = "hearth:ledger:", *, stale: int = STALE) -> None:
        """`redis` is the process's client (bot/redis_pool.py: a flush waits for a free
        connection like any caller); the application closes it."""
        self._redis = redis
        self._prefix = prefix
        self._counts = prefix + "counts"
        self._taken = prefix + "taken"
        self._stale = stale
        self._take = self._redis.register_script(TAKE)
        self._claim = self._redis.register_script(CLAIM)
        self._renew = self._redis.register_script(RENEW)
        self._push = self._redis.register_script(PUSH)
        self._read = self._redis.register_script(READ)

    async def push(self, counts: dict[Count, int]) -> None:
        """Add the counts to the shared hash, a chunk per round trip (each chunk one script,
        all or nothing); the counts pushed are removed from `counts`, so after
        a failure `counts` holds exactly what did not arrive."""
        keys = list(counts)
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            lines = "\n".join(f"{encode(key)}\t{counts[key]}" for key in part)
            async with _talking():
                await self._push(keys=[self._counts], args=[lines])
            for key in part:
                del counts[key]

    async def take(self, now: int) -> str | None:
        """Take the shared hash for writing; returns its new name (None: nothing counted)."""
        name = f"{self._prefix}taking:{uuid.uuid4().hex}"
        async with _talking():
            taken = await self._take(keys=[self._counts, name, self._taken], args=[now])
        return name if taken else None

    async def claim_stale(self, now: int) -> list[str]:
        """Taken hashes left behind (taken more than `stale` before `now`, both in ms), now
        this process's to write."""
        async with _talking():
            found = await self._claim(keys=[self._taken], args=[now, now - self._stale])
        return [n.decode() if isinstance(n, bytes) else str(n) for n in found]

    async def renew(self, name: str, claimed: int, now: int) -> bool:
        """Stamp this process's claim `claimed` on `name` anew; False when it is no longer
        this process's (another claimed it as stale)."""
        async with _talking():
            return bool(await self._renew(keys=[self._taken], args=[name, claimed, now]))

    async def read(self, name: str) -> dict[Count, int]:
        """The counts of a taken hash."""
        async with _talking():
            found = await self._read(keys=[name])
        text = found.decode() if isinstance(found, bytes) else str(found)
        if not text:
            return {}
        parts = text.split("\n")
        return {decode(f): int(n) for f, n in zip(parts[::2], parts[1::2], strict=True) if n != "0"}

    async def done(self, name: str) -> None:
        """The taken hash is in the database: forget it."""
        async with _talking(), self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.zrem(self._taken, name)
            await pipe.execute()

    async def ping(self) -> bool:
        async with _talking():
            return bool(await self._redis.ping())
