"""The ledger's shared buffer in Redis, so several processes of the bot add to one set of
counters and the database write drains them once.

Each process still counts in memory (no Redis round trip per message). A flush moves the
process's counts into one Redis hash (`HINCRBY`, field = the counter key) in one pipeline,
then *takes* the hash: a Lua script renames it to a key of its own and records the take in
a sorted set (member = the taken key, score = when it was taken). The taken hash is written
to the database in one transaction, and only after the commit is it deleted.

The window: nothing is lost when a process dies at any point, since counts are either in
its memory (lost with it, as without Redis: at most one minute of its counting), in the
shared hash, or in a taken hash. A taken hash whose process died (or whose database write
failed and was never retried) is claimed again by the first flush of any process once it is
`stale` old (five minutes). A counter is written twice only when a process dies after its
database commit and before the `DEL` of the taken hash (one round trip), or when a database write
takes longer than `stale` and another process claims the hash meanwhile.
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

CHUNK = 20_000  # HINCRBY commands per round trip


def encode(key: Count) -> str:
    chat_id, user_id, hour, kind = key
    return f"{chat_id}|{user_id}|{hour}|{kind}"


def decode(field: bytes | str) -> Count:
    text = field.decode() if isinstance(field, bytes) else field
    chat, user, hour, kind = text.split("|", 3)
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

    CONNECT_TIMEOUT = 0.5
    TIMEOUT = 5.0  # a big batch takes longer than one rate-limit check
    STALE = 300_000  # milliseconds after which a taken hash is anyone's to write

    def __init__(self, url: str, prefix: str = "hearth:ledger:", *, stale: int = STALE) -> None:
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=self.TIMEOUT, socket_connect_timeout=self.CONNECT_TIMEOUT
        )
        self._prefix = prefix
        self._counts = prefix + "counts"
        self._taken = prefix + "taken"
        self._stale = stale
        self._take = self._redis.register_script(TAKE)
        self._claim = self._redis.register_script(CLAIM)
        self._renew = self._redis.register_script(RENEW)

    async def push(self, counts: dict[Count, int]) -> None:
        """Add the counts to the shared hash, a chunk per round trip (each chunk is a
        MULTI/EXEC, all or nothing); the counts pushed are removed from `counts`, so after
        a failure `counts` holds exactly what did not arrive."""
        keys = list(counts)
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            async with _talking(), self._redis.pipeline(transaction=True) as pipe:
                for key in part:
                    pipe.hincrby(self._counts, encode(key), counts[key])
                await pipe.execute()
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
        """The counts of a taken hash, read a chunk per round trip (one HGETALL of 100,000
        fields outlasted the timeout on a busy machine)."""
        counts: dict[Count, int] = {}
        async with _talking():
            async for field, n in self._redis.hscan_iter(name, count=CHUNK):
                if int(n):
                    counts[decode(field)] = int(n)
        return counts

    async def done(self, name: str) -> None:
        """The taken hash is in the database: forget it."""
        async with _talking(), self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.zrem(self._taken, name)
            await pipe.execute()

    async def ping(self) -> bool:
        async with _talking():
            return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
