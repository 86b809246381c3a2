"""The windows the send budget (`bot/sendpace.py`) keeps: Telegram's limits, a process's own
window, and the window in Redis that every process of the bot shares.

Telegram counts a send when it arrives, somewhere between our grant and its answer. A send is
therefore counted from its grant until one span after its answer: then `limit` + 1 never arrive
within a span, however late a request leaves or however long Telegram (or the fake, its event
loop stalled) takes to read it. Counting grants only, as the shared window once did, let the
sends of a stalled second arrive together with the next second's: 429s in a busy spike.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import deque
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

RATE = 28.0  # the pace of grants, a little under the limit: requests arrive with jitter
OVERALL_PER_SECOND = 30
PRIVATE_GAP = 1.0
GROUP_PER_MINUTE = 20
STALE = 60.0  # a send granted this long ago and never reported finished counts no more
SHARED_STALE = 10.0  # the same in Redis: a killed process must not hold the budget long
SHARED_POLL = 0.05  # seconds until asking Redis again while sends in flight fill a window

ChatKey = int | str | None  # a chat id, an @channel name, or None for the overall budget only


def is_group(chat: ChatKey) -> bool:
    return isinstance(chat, str) or (chat is not None and chat < 0)


class Window:
    """Sends that may count toward `limit` per `span` seconds: those in flight and those
    answered within `span` (see the module's docstring)."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self._flying: deque[float] = deque()  # grant times
        self._done: deque[float] = deque()  # answer times (non-decreasing)

    def count(self, now: float) -> int:
        while self._done and self._done[0] <= now - self.span:
            self._done.popleft()
        while self._flying and self._flying[0] <= now - STALE:
            self._flying.popleft()
        return len(self._flying) + len(self._done)

    def wait(self, now: float, extra: int = 0) -> float:
        """Seconds until one more (after `extra` others) may go; inf while that depends on
        sends in flight being answered."""
        excess = self.count(now) + extra - self.limit + 1
        if excess <= 0:
            return 0.0
        if excess <= len(self._done):
            return self._done[excess - 1] + self.span - now
        return math.inf

    def start(self, now: float) -> None:
        self._flying.append(now)

    def finish(self, now: float) -> None:
        if self._flying:
            self._flying.popleft()
            self._done.append(now)


class SharedWindow:
    """The windows in Redis, shared by every process of the bot (a bounded pool whose
    callers wait for a connection: `bot/redis_pool.py`). A sorted set per key: a send in
    flight is scored `SHARED_STALE` seconds ahead (so it counts until answered, or until its
    process is surely gone), then rescored with its answer time by `finish`."""

    SCRIPT = """
    local now, member, stale = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[6])
    local function wait(key, limit, span)
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
      if redis.call('ZCARD', key) < limit then return nil end
      local first = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
      if first > now + stale / 2 then return ARGV[7] end
      return tostring(math.max(first + span - now, 0.001))
    end
    local all = wait(KEYS[1], tonumber(ARGV[3]), 1)
    if all then return {'all', all} end
    local limit = tonumber(ARGV[4])
    local chat = limit > 0 and wait(KEYS[2], limit, tonumber(ARGV[5]))
    if chat then return {'chat', chat} end
    for _, key in ipairs(limit > 0 and KEYS or {KEYS[1]}) do
      redis.call('ZADD', key, now + stale, member)
      redis.call('PEXPIRE', key, math.floor(62000 + stale * 1000))
    end
    return {'ok', '0'}
    """

    def __init__(
        self, redis: Redis, wall: Callable[[], float], prefix: str = "hearth:send:"
    ) -> None:
        self._redis = redis  # the process's client: the application closes it
        self._script = self._redis.register_script(self.SCRIPT)
        self._wall = wall  # a clock every process agrees on (time.time; tests pass a fake)
        self._prefix = prefix
        self._answered: list[tuple[ChatKey, str, float]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def take(self, chat: ChatKey) -> tuple[float, bool, str]:
        """(0, _, member) once the send is recorded as in flight, else (seconds to wait,
        whether only this chat waits, "")."""
        limit, span = (GROUP_PER_MINUTE, 60.0) if is_group(chat) else (1, PRIVATE_GAP)
        if chat is None:
            limit = 0
        member = uuid.uuid4().hex
        args: list[str | float] = [
            self._wall(),
            member,
            RATE,
            limit,
            span,
            SHARED_STALE,
            SHARED_POLL,
        ]
        scope, wait = await self._script(keys=self._keys(chat), args=args)
        if scope in (b"ok", "ok"):
            return 0.0, False, member
        return max(0.0, float(wait)), scope in (b"chat", "chat"), ""

    def finish(self, chat: ChatKey, member: str) -> None:
        """The send recorded as `member` was answered: from now on it counts for one span
        more. Written in the background, batched; lost on a Redis error (it then counts
        until `SHARED_STALE`)."""
        self._answered.append((chat, member, self._wall()))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="hearth-send-answers")

    async def _flush(self) -> None:
        while self._answered:
            batch, self._answered = self._answered, []
            pipe = self._redis.pipeline(transaction=False)
            for chat, member, at in batch:
                for key in self._keys(chat)[: 1 if chat is None else 2]:
                    pipe.zadd(key, {member: at}, xx=True)  # only if still there
            try:
                await pipe.execute()
            except (RedisError, OSError, TimeoutError):
                return

    def _keys(self, chat: ChatKey) -> list[str]:
        return [self._prefix + "all", f"{self._prefix}chat:{chat}"]

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher}, timeout=1.0)
            self._flusher.cancel()
