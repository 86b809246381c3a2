"""Script calls made together go to Redis together, and each caller gets its own answer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.redis_batch import ScriptBatcher
from bot.redis_pool import connect
from tests.unit.test_pace import REDIS_URL, _redis_available

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


async def test_a_burst_of_calls_travels_in_one_pipeline_and_each_gets_its_own_answer() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    redis = connect(REDIS_URL)
    key = f"test:batch:{uuid.uuid4().hex}"
    script = redis.register_script(INCR)
    batcher = ScriptBatcher(redis)
    pipelines = 0
    real_pipeline = redis.pipeline

    def counting_pipeline(*args: object, **kwargs: object) -> object:
        nonlocal pipelines
        pipelines += 1
        return real_pipeline(*args, **kwargs)  # type: ignore[arg-type]

    redis.pipeline = counting_pipeline  # type: ignore[method-assign]
    try:
        answers = await asyncio.gather(*(batcher.run(script, [key], [1]) for _ in range(100)))
        assert sorted(int(a) for a in answers) == list(range(1, 101))  # each its own count
        assert pipelines == 1
        assert int(await batcher.run(script, [key], [5])) == 105  # a lone call is answered too
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_when_redis_is_down_every_caller_hears_the_error() -> None:
    redis = connect("redis://127.0.0.1:1/0")  # nothing listens there
    script = redis.register_script(INCR)
    batcher = ScriptBatcher(redis)
    results = await asyncio.gather(
        *(batcher.run(script, ["k"], [1]) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RedisConnectionError | OSError) for r in results), results
    await redis.aclose()


async def test_scripts_flushed_from_redis_are_loaded_again() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    redis = connect(REDIS_URL)
    key = f"test:batch:{uuid.uuid4().hex}"
    script = redis.register_script(INCR)
    batcher = ScriptBatcher(redis)
    try:
        assert int(await batcher.run(script, [key], [1])) == 1
        await redis.script_flush()  # as after a restart of Redis without persistence
        answers = await asyncio.gather(*(batcher.run(script, [key], [1]) for _ in range(3)))
        assert sorted(int(a) for a in answers) == [2, 3, 4]
    finally:
        await redis.delete(key)
        await redis.aclose()
