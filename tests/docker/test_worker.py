"""The image run as compose.yaml runs a worker: webhook mode on PostgreSQL and Redis, JSON
logs, migrations first; it answers an update, passes compose's health check and stops
cleanly on `docker stop`. The container shares the host's network to reach the fake Bot API,
the test database (TEST_DATABASE_URL) and Redis (TEST_REDIS_ADDR, db 3); skips without them."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.conftest import POSTGRES_URL, reset_postgres
from tests.docker.conftest import ROOT, SKIP
from tests.e2e.conftest import GROUP, MEMBER, OWNER
from tests.e2e.http import free_port, get, listening
from tests.fakegram.server import FakeTelegram
from tests.redis_address import redis_url

pytestmark = [SKIP, pytest.mark.postgres]
REDIS_URL = redis_url(3)
SECRET = "s3cret-value"


def _health_check() -> str:
    """The Python one-liner compose.yaml's workers use as their health check."""
    found = re.search(r'"(import urllib\.request;[^"]+)"', (ROOT / "compose.yaml").read_text())
    assert found, "compose.yaml has no urllib health check"
    return found.group(1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(OWNER, "Olga", username="olga_owner", language_code="en")
    server.add_user(MEMBER, "Maria", username="maria", language_code="en")
    server.add_chat(GROUP, "Hearth Test")
    server.set_member(GROUP, OWNER, "creator")
    server.set_member(GROUP, MEMBER, "member")
    server.add_bot_to_chat(GROUP, OWNER, admin=True)
    yield server
    await server.stop()


async def _fresh_redis() -> None:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
        await client.flushdb()
    except Exception:
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    finally:
        await client.aclose()


async def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """`docker ...` without blocking the event loop the fake Bot API answers on."""
    process = await asyncio.create_subprocess_exec(
        "docker", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    output = out.decode(errors="replace")
    assert process.returncode == 0 or not check, f"docker {' '.join(args)}:\n{output}"
    return output


def _rules_update() -> dict[str, object]:
    return {
        "update_id": 1,
        "message": {
            "message_id": 10,
            "date": 1_700_000_000,
            "chat": {"id": GROUP, "type": "supergroup", "title": "Hearth Test"},
            "from": {"id": MEMBER, "is_bot": False, "first_name": "Maria", "language_code": "en"},
            "text": "/rules",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_a_worker_container_serves_the_webhook_and_stops_cleanly(
    image: str, fake: FakeTelegram
) -> None:
    if POSTGRES_URL is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    await reset_postgres(POSTGRES_URL)  # the container's own migrations build the schema
    await _fresh_redis()
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    env = {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.url,
        "DATABASE_URL": POSTGRES_URL,
        "REDIS_URL": REDIS_URL,
        "WEBHOOK_URL": url,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "DEFAULT_LANGUAGE": "en",
        "LOG_FORMAT": "json",
    }
    name = f"hearth-worker-{uuid.uuid4().hex[:8]}"
    options = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    await docker("run", "--detach", "--name", name, "--network", "host", *options, image)
    try:
        hook = await fake.wait_for(lambda: fake.calls_of("setWebhook"), timeout=120)
        assert hook[-1].params["url"] == url
        await fake.wait_for(lambda: listening(port), timeout=30)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json=_rules_update(), headers=headers) as response,
        ):
            assert response.status == 200
        reply = await fake.wait_for(lambda: fake.sent_messages(GROUP), timeout=30)
        assert "no rules" in reply[-1]["text"].lower()
        status, body = await get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200, body
        await docker("exec", name, "python", "-c", _health_check().replace("8080", str(port)))

        await docker("stop", "--time", "20", name, timeout=60)
        state = json.loads(await docker("inspect", name))[0]["State"]
        output = await docker("logs", name)
        assert state["ExitCode"] == 0, output  # SIGTERM reached the bot: not killed (137)
        assert "database is up to date" in output
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert records, output  # LOG_FORMAT=json: one JSON object a line
        assert fake.token.split(":")[1] not in output  # the token is never logged
    finally:
        await docker("rm", "--force", name, check=False)
