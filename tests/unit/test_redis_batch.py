"""Records handed in together go to Redis as one script call, and each caller gets its own
answer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.redis_batch import MAX_BATCH, PackedBatcher
from bot.redis_pool import connect
from tests.unit.test_pace import REDIS_URL, _redis_available

# records "key amount"; answers the new value of each key, in order
INCR = """
local out = {}
for record in string.gmatch(ARGV[1], "[^\\n]+") do
  local key, amount = string.match(record, "^(%S+) (%S+)$")
  out[#out + 1] = redis.call('INCRBY', key, amount)
end
return table.concat(out, " ")
"""


async def test_a_burst_travels_in_one_call_and_each_caller_gets_its_own_answer() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    redis = connect(REDIS_URL)
    key = f"test:batch:{uuid.uuid4().hex}"
    batcher = PackedBatcher(redis, INCR)
    calls = 0
    real_evalsha = redis.evalsha

    async def counting_evalsha(*args: object) -> object:
        nonlocal calls
        calls += 1
        return await real_evalsha(*args)  # type: ignore[arg-type,misc]

    redis.evalsha = counting_evalsha  # type: ignore[assignment,method-assign]
    try:
        answers = await asyncio.gather(*(batcher.run(f"{key} 1") for _ in range(100)))
        assert sorted(int(a) for a in answers) == list(range(1, 101))  # each its own count
        assert calls == 1
        assert int(await batcher.run(f"{key} 5")) == 105  # a lone record is answered too
        calls = 0
        await asyncio.gather(*(batcher.run(f"{key} 1") for _ in range(MAX_BATCH + 1)))
        assert calls == 2  # a bounded batch: one call never blocks Redis for long
        assert int(await redis.get(key)) == 105 + MAX_BATCH + 1
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_when_redis_is_down_every_caller_hears_the_error() -> None:
    redis = connect("redis://127.0.0.1:1/0")  # nothing listens there
    batcher = PackedBatcher(redis, INCR)
    results = await asyncio.gather(*(batcher.run("k 1") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RedisConnectionError | OSError) for r in results), results
    await redis.aclose()


async def test_a_record_of_two_lines_is_refused_before_it_reaches_redis() -> None:
    redis = connect("redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="one line"):
        await PackedBatcher(redis, INCR).run("k 1\nother 1")
    await redis.aclose()


async def test_a_script_flushed_from_redis_is_loaded_again() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    redis = connect(REDIS_URL)
    key = f"test:batch:{uuid.uuid4().hex}"
    batcher = PackedBatcher(redis, INCR)
    try:
        assert int(await batcher.run(f"{key} 1")) == 1
        await redis.script_flush()  # as after a restart of Redis without persistence
        answers = await asyncio.gather(*(batcher.run(f"{key} 1") for _ in range(3)))
        assert sorted(int(a) for a in answers) == [2, 3, 4]
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_an_empty_record_fails_alone_not_the_whole_loop_turn() -> None:
    """Review: the script walks non-empty lines, so an empty record shifted the answers and
    every caller of the loop turn got "N results for M records"; it is refused up front."""
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    redis = connect(REDIS_URL)
    key = f"test:batch:{uuid.uuid4().hex}"
    batcher = PackedBatcher(redis, INCR)
    try:
        good, empty = await asyncio.gather(
            batcher.run(f"{key} 1"), batcher.run(""), return_exceptions=True
        )
        assert good == "1", good
        assert isinstance(empty, ValueError)
    finally:
        await redis.delete(key)
        await redis.aclose()
