"""Rules through the production dispatcher: flood with counters in memory or in Redis,
warnings and the log (moved from the end-to-end tier: it needs no real process)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness, running_harness
from tests.dispatcher.test_flow_admin import command
from tests.dispatcher.test_moderation import LOG_CHAT
from tests.unit.test_pace import REDIS_URL, _redis_available


@pytest.fixture(params=["memory", "redis"])
async def counted(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[Harness]:
    """A harness whose rate counters live in memory, or in Redis."""
    if request.param == "memory":
        async with running_harness(db_url) as h:
            yield h
        return
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()  # counters left by an earlier run would carry its episodes over
    await client.aclose()
    async with running_harness(db_url, redis_url=REDIS_URL) as h:
        yield h


async def test_a_flood_is_cut_short_once_and_warnings_escalate(counted: Harness) -> None:
    h = counted
    assert "Done" in await command(h, GROUP, OWNER, "/set warn_limit 2")
    ids = []
    for n in range(8):
        update = h.fake.send_message(GROUP, MEMBER, f"burst {n}")
        assert update is not None
        ids.append(update["message"]["message_id"])
    await h.settle()
    assert sum(h.fake.is_deleted(GROUP, i) for i in ids) == 3
    assert len(h.fake.calls_of("restrictChatMember")) >= 1
    member = h.fake.member(GROUP, MEMBER)
    assert member["status"] == "restricted" and member["can_send_messages"] is False
    notices = [m for m in h.fake.sent_messages(GROUP) if "too many messages" in m["text"]]
    assert len(notices) == 1

    h.fake.set_member(GROUP, MEMBER, "member")  # an admin lifted the mute by hand
    assert "(1/2)" in await command(h, GROUP, ADMIN, "/warn @maria rude")
    answer = await command(h, GROUP, ADMIN, "/warn @maria again")
    assert "(2/2)" in answer and "muted" in answer
    log = await command(h, GROUP, ADMIN, "/modlog")
    assert "flood mute" in log and log.count("warning:") == 2


async def test_a_redis_that_is_down_lets_messages_through_and_the_log_chat_hears_once(
    db_url: str,
) -> None:
    """Fail open only when the counter store is really down, and say so once in the chat's
    log channel (not per message)."""
    async with running_harness(db_url, redis_url="redis://127.0.0.1:1/0") as h:
        h.fake.add_chat(LOG_CHAT, "Mod log")
        h.fake.set_member(LOG_CHAT, ADMIN, "creator")
        h.fake.add_bot_to_chat(LOG_CHAT, ADMIN, admin=True)
        await h.settle()
        assert "Done" in await command(h, GROUP, ADMIN, f"/setlog {LOG_CHAT}")
        ids = []
        for n in range(8):
            update = h.fake.send_message(GROUP, MEMBER, f"burst {n}")
            assert update is not None
            ids.append(update["message"]["message_id"])
        await h.settle()
        assert not any(h.fake.is_deleted(GROUP, i) for i in ids)  # the chat is not silenced
        told = [m for m in h.fake.sent_messages(LOG_CHAT) if "Redis" in m["text"]]
        assert len(told) == 1 and "Circle" in told[0]["text"]
