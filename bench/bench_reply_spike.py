"""A spike of direct replies: 300 members write to the bot within one second (an announcement
asked everyone to opt in) and the bot answers each, through the real application polling the
fake Bot API, which answers 429 as Telegram would (30/s overall, per chat).

Run twice in one process: the baseline with the send pacer taken out, then as configured; a
third time with the budget shared through Redis when BENCH_REDIS_URL names a database (its
sends then wait for Redis and count until answered, as with several processes). Prints per
run the 429s the fake answered and the time until every reply arrived, against the ideal
N / 30 s. Targets (pacer on): 429s under 5% of N, time within 1.3x, every reply."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from pathlib import Path

from bot.app import ALLOWED_UPDATES, build_application
from bot.config import Settings
from bot.db import upgrade_async
from bot.sendpace import SendPacer
from tests.fakegram.server import FakeTelegram

MEMBERS = 300
FIRST_MEMBER = 30_000
TARGET_RATIO = 1.3
TARGET_429 = 0.05


async def _spike(paced: bool, redis_url: str | None = None) -> tuple[float, int, int]:
    """(seconds until every reply arrived, 429s from the fake, replies delivered)."""
    members = range(FIRST_MEMBER, FIRST_MEMBER + MEMBERS)
    fake = FakeTelegram()
    await fake.start()
    for user_id in members:
        fake.add_user(user_id, f"M{user_id}", language_code="en")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        settings = Settings(
            bot_token=fake.token,
            telegram_api_url=fake.url,
            database_url=url,
            default_language="en",
            redis_url=redis_url,
            _env_file=None,
        )
        app = build_application(settings)
        if not paced:
            middlewares = app.bot.session.middleware
            for middleware in [m for m in middlewares if isinstance(m, SendPacer)]:
                middlewares.unregister(middleware)
        await app.bot.get_me()
        polling = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot, allowed_updates=ALLOWED_UPDATES, handle_signals=False, polling_timeout=1
            )
        )
        await asyncio.sleep(0.2)  # polling is up
        fake.rate_limited = 0
        started = time.monotonic()
        for index, user_id in enumerate(members):  # within one second, in bursts of ten
            fake.send_message(user_id, user_id, "/start")
            if index % 10 == 9:
                await asyncio.sleep(10 / MEMBERS)

        def answered() -> int:
            return len({chat for chat, _ in fake.bot_sent if chat >= FIRST_MEMBER})

        handling: set[asyncio.Task[object]] = getattr(app.dispatcher, "_handle_update_tasks", set())
        while answered() < MEMBERS and time.monotonic() - started < 300:
            if not handling and time.monotonic() - started > 2:
                break  # every handler is done: the replies missing were given up on
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - started
        limited = fake.rate_limited
        await app.dispatcher.stop_polling()
        await polling
        await app.budget.close()
        await app.bot.session.close()
        await app.db.close()
    delivered = answered()
    await fake.stop()
    return elapsed, limited, delivered


def _report(name: str, elapsed: float, limited: int, delivered: int) -> bool:
    ideal = MEMBERS / 30
    ratio = elapsed / ideal
    print(
        f"{name:<12} time {elapsed:5.1f} s ({ratio:.2f}x of N/30 = {ideal:.1f} s), "
        f"429s {limited} ({limited / MEMBERS:.0%} of N), replies {delivered}/{MEMBERS}"
    )
    return ratio <= TARGET_RATIO and limited < TARGET_429 * MEMBERS and delivered == MEMBERS


async def main() -> int:
    logging.disable(logging.CRITICAL)  # the baseline's 429s would flood the output
    print(f"members:     {MEMBERS} writing within one second, each answered once")
    _report("pacer off:", *await _spike(paced=False))
    ok = _report("pacer on:", *await _spike(paced=True))
    if redis_url := os.environ.get("BENCH_REDIS_URL"):
        ok = _report("with Redis:", *await _spike(paced=True, redis_url=redis_url)) and ok
    print(
        f"result:      {'ok' if ok else 'NOT within target'} "
        f"(pacer on: 429s < {TARGET_429:.0%}, time <= {TARGET_RATIO}x, every reply)"
    )
    return 0 if ok else 1
