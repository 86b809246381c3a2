"""Rules in the running bot: flood with counters in memory or in Redis, warnings and the log."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.e2e.conftest import ADMIN, GROUP, MEMBER, BotProcess, seed_chat
from tests.e2e.test_admin_and_garbage import command
from tests.fakegram.server import FakeTelegram
from tests.unit.test_pace import REDIS_URL, _redis_available


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "memory":
        return {}
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()  # counters left by an earlier run would carry its episodes over
    await client.aclose()
    return {"REDIS_URL": REDIS_URL}


async def test_a_flood_is_cut_short_once_and_warnings_escalate(
    fake: FakeTelegram, bot_process: BotProcess, counters: dict[str, str]
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", language="en", warn_limit="2")
    bot_process.extra_env.update(counters)
    await bot_process.start()
    ids = []
    for n in range(8):
        update = fake.send_message(GROUP, MEMBER, f"burst {n}")
        assert update is not None
        ids.append(update["message"]["message_id"])
    # updates are handled concurrently, so which three go is not fixed; that three go is
    await fake.wait_for(lambda: sum(fake.is_deleted(GROUP, i) for i in ids) >= 3, timeout=10)
    await fake.wait_for(lambda: len(fake.calls_of("restrictChatMember")) >= 1, timeout=10)
    assert sum(fake.is_deleted(GROUP, i) for i in ids) == 3
    member = fake.member(GROUP, MEMBER)
    assert member["status"] == "restricted" and member["can_send_messages"] is False
    notices = [m for m in fake.sent_messages(GROUP) if "too many messages" in m["text"]]
    assert len(notices) == 1

    fake.set_member(GROUP, MEMBER, "member")  # an admin lifted the mute by hand
    assert "(1/2)" in await command(fake, GROUP, ADMIN, "/warn @maria rude")
    answer = await command(fake, GROUP, ADMIN, "/warn @maria again")
    assert "(2/2)" in answer and "muted" in answer
    log = await command(fake, GROUP, ADMIN, "/modlog")
    assert "flood mute" in log and log.count("warning:") == 2
    assert await bot_process.stop() == 0
