"""Scheduled jobs must be coroutine functions: APScheduler's asyncio executor runs anything
else in a thread, where a returned coroutine is never awaited."""

from __future__ import annotations

import inspect

from bot.app import build_application
from bot.config import Settings


async def test_every_scheduled_job_is_awaited(db_url: str) -> None:
    settings = Settings(
        bot_token="123:TOKEN",  # type: ignore[arg-type]
        database_url=db_url,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = build_application(settings)
    try:
        jobs = app.scheduler.get_jobs()
        assert {job.id for job in jobs} >= {"deadlines", "promotions", "activity", "counters"}
        for job in jobs:
            assert inspect.iscoroutinefunction(job.func), job.id
    finally:
        await app.bot.session.close()
        await app.db.close()
