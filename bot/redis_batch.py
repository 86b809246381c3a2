"""Records of one event-loop turn sent to Redis as one script call.

Under a burst hundreds of updates are in flight at once and each asks Redis one question (the
flood counters of a message). Sent one by one, each pays redis-py's per-call cost: a pooled
connection, the encoding of every argument, the parsing of every reply line. That cost, not
Redis, capped the per-message path. A pipeline of one script call per message still encoded and
parsed each call. Here the callers of one loop turn each hand in a record (one line of
space-separated fields); the records go out as one argument of one EVALSHA, the script walks
them and answers one line of space-separated results, in order. A burst costs one call per
loop turn (at most `MAX_BATCH` records each); a lone record waits no longer than one turn.

The script runs atomically in Redis, as each record's own script did. Its keys travel inside
the records, not as KEYS: fine for one Redis server, not for Redis Cluster.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

__all__ = ["MAX_BATCH", "PackedBatcher"]

MAX_BATCH = 256  # records per call: bounded, so one call never blocks Redis for long


class PackedBatcher:
    """Runs `script` over the records of many callers in as few calls as the load allows.

    The script gets the records joined by newlines in ARGV[1] and must return one result per
    record, joined by single spaces, in the records' order."""

    def __init__(self, redis: Redis, script: str) -> None:
        self._redis = redis
        self._script = script
        self._sha: str | None = None
        self._pending: list[tuple[str, asyncio.Future[str]]] = []
        self._scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()

    async def run(self, record: str) -> str:
        """This record's result; a Redis error of the call is raised to each of its callers."""
        if not record or "\n" in record:  # the script walks non-empty lines
            raise ValueError("a record is one line, not empty")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()
        self._pending.append((record, done))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await done

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), MAX_BATCH):
            task = asyncio.create_task(self._send(pending[start : start + MAX_BATCH]))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _send(self, batch: list[tuple[str, asyncio.Future[str]]]) -> None:
        try:
            answer = await self._call("\n".join(record for record, _ in batch))
            results = (answer.decode() if isinstance(answer, bytes) else str(answer)).split(" ")
            if len(results) != len(batch):
                raise ValueError(f"{len(results)} results for {len(batch)} records")
        except Exception as error:  # Redis down, or a broken script: tell every caller
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():  # else the caller was cancelled
                done.set_result(result)

    async def _call(self, payload: str) -> bytes | str:
        """One EVALSHA; the script is loaded once, and again if Redis lost it (a restart)."""
        if self._sha is None:
            self._sha = await self._redis.script_load(self._script)
        try:
            return await self._redis.evalsha(self._sha, 0, payload)  # type: ignore[no-any-return]
        except NoScriptError:
            self._sha = await self._redis.script_load(self._script)
            return await self._redis.evalsha(self._sha, 0, payload)  # type: ignore[no-any-return]
