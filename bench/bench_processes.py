"""Per-message throughput of 1 and of 2 bot processes on the same machine.

Real `python -m bot` processes in webhook mode on PostgreSQL and Redis (TEST_DATABASE_URL, and
TEST_REDIS_URL or redis://127.0.0.1:6379/15; both are emptied first), the fake Bot API
delivering a burst of ordinary group messages round robin among them, up to 40 requests at a
time as Telegram does. A webhook is answered only after its update is handled, so messages per
second = confirmed deliveries over the time from the first to the last. Members write within
the flood limit: nothing is deleted, every message takes the whole per-message path (gate,
flood counters in Redis, the ledger). Skips (exit 0) without PostgreSQL or Redis.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from tests.conftest import reset_postgres
from tests.e2e.conftest import BotProcess, seed_chat
from tests.e2e.http import free_port, listening
from tests.fakegram.server import FakeTelegram
from tests.redis_address import redis_url

GROUP = -1001234567890
OWNER = 1
MEMBERS = 500
PER_MEMBER = 4  # under the flood limit (5 in 10 s): nothing is deleted
# a test database, emptied before each run (never REDIS_URL, which may be a live bot's)
REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_url(15))


async def _redis_ready() -> bool:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
        await client.flushdb()
    except Exception:
        return False
    finally:
        await client.aclose()
    return True


def _world() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_user(OWNER, "Owner")
    fake.add_chat(GROUP, "Bench")
    fake.set_member(GROUP, OWNER, "creator")
    for user_id in range(1000, 1000 + MEMBERS):
        fake.add_user(user_id, f"M{user_id}", language_code="en")
        fake.set_member(GROUP, user_id, "member")
    fake.add_bot_to_chat(GROUP, OWNER, admin=True)
    return fake


async def _run(db_url: str, processes: int, folder: Path) -> float:
    """Messages per second with `processes` bot processes."""
    await reset_postgres(db_url)
    fake = _world()
    await fake.start()
    await seed_chat(db_url, GROUP, "Bench", language="en")
    proxy = f"http://127.0.0.1:{free_port()}/webhook"
    procs = []
    for index in range(processes):
        workdir = folder / f"{processes}-{index}"
        workdir.mkdir()
        listen = f"127.0.0.1:{free_port()}"
        env = {"REDIS_URL": REDIS_URL, "WEBHOOK_URL": proxy, "WEBHOOK_LISTEN": listen}
        env.update(WEBHOOK_SECRET="bench", LOG_LEVEL="WARNING")
        procs.append(BotProcess(fake, db_url, workdir, **env))
    try:
        await asyncio.gather(*(p.start(ready_call="getMe") for p in procs))
        ports = [int(p.extra_env["WEBHOOK_LISTEN"].rpartition(":")[2]) for p in procs]
        await fake.wait_for(lambda: all(listening(port) for port in ports), timeout=60)
        fake.deliver_webhooks([f"http://127.0.0.1:{port}/webhook" for port in ports])
        await fake.wait_for(lambda: fake.pending_updates == 0, timeout=30)  # the bot's join
        first = fake.webhooks.delivered
        started = time.monotonic()
        for round_ in range(PER_MEMBER):
            for user_id in range(1000, 1000 + MEMBERS):
                fake.send_message(GROUP, user_id, f"message {round_} from {user_id}")
        total = MEMBERS * PER_MEMBER
        await fake.wait_for(lambda: fake.webhooks.delivered - first >= total, timeout=300)
        rate = total / (time.monotonic() - started)
        deleted = len(fake.calls_of("deleteMessage"))
        print(f"{processes} process(es): {rate:7.0f} messages/s ({total}, {deleted} deleted)")
        return rate
    finally:
        for proc in procs:
            if not proc.exited():
                await proc.stop()
        await fake.stop()


async def main() -> int:
    db_url = os.environ.get("TEST_DATABASE_URL")
    if not db_url or not await _redis_ready():
        print("skipped: needs TEST_DATABASE_URL (PostgreSQL) and Redis at " + REDIS_URL)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        one = await _run(db_url, 1, Path(folder))
        two = await _run(db_url, 2, Path(folder))
    print(f"2 processes / 1: {two / one:.2f}x (2 cores shared with the fake and PostgreSQL)")
    return 0
