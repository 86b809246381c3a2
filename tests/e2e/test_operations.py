"""The running process as an operator sees it: /healthz and /metrics on METRICS_PORT in
polling mode and on the webhook server, and LOG_FORMAT=json logs with no token or text."""

from __future__ import annotations

import json

import aiohttp

from tests.e2e.conftest import GROUP, MEMBER, BotProcess, seed_chat
from tests.e2e.test_webhook import free_port, listening
from tests.fakegram.server import FakeTelegram

SECRET_TEXT = "my private plans for tuesday"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def metrics_showing(fake: FakeTelegram, port: int, *lines: str) -> str:
    """The /metrics text once it has every line (updates are counted when handled, a moment
    after the bot's reply went out)."""
    seen = ""

    async def has_all() -> bool:
        nonlocal seen
        status, seen = await get(f"http://127.0.0.1:{port}/metrics")
        return status == 200 and all(line in seen for line in lines)

    try:
        await fake.wait_for(has_all, timeout=30)
    except AssertionError:
        missing = [line for line in lines if line not in seen]
        raise AssertionError(f"missing {missing} in:\n{seen}") from None
    return seen


async def test_polling_serves_health_and_metrics_on_metrics_port_and_logs_json(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", language="en")
    port = free_port()
    bot_process.extra_env.update(METRICS_PORT=str(port), LOG_FORMAT="json")
    await bot_process.start()
    await fake.wait_for(lambda: listening(port), timeout=30)
    fake.send_message(GROUP, MEMBER, SECRET_TEXT)
    fake.send_message(GROUP, MEMBER, "/rules")
    await fake.wait_for(lambda: fake.sent_messages(GROUP), timeout=30)

    status, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    await metrics_showing(
        fake,
        port,
        'hearth_updates_total{type="message"} 2.0',
        'hearth_updates_total{type="my_chat_member"} 1.0',  # the bot added to the group
        'hearth_telegram_calls_total{method="getUpdates",result="ok"}',
    )
    sent = len(fake.calls_of("sendMessage"))  # every update handled: as many as the fake saw
    await metrics_showing(
        fake, port, f'hearth_telegram_calls_total{{method="sendMessage",result="ok"}} {sent}.0'
    )
    assert await bot_process.stop() == 0
    assert not listening(port)

    log = bot_process.log()
    lines = [line for line in log.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e["message"].startswith("started as @") for e in entries)
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert fake.token not in log
    assert fake.token.partition(":")[2] not in log
    assert SECRET_TEXT not in log


async def test_webhook_server_answers_healthz_and_metrics(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    port = free_port()
    bot_process.extra_env.update(
        WEBHOOK_URL=f"http://127.0.0.1:{port}/webhook",
        WEBHOOK_SECRET="s3cret-value",
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    )
    await bot_process.start(ready_call="setWebhook")
    await fake.wait_for(lambda: listening(port), timeout=30)
    status, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert status == 200, body
    assert json.loads(body)["bot"].startswith("@")
    await metrics_showing(
        fake,
        port,
        'hearth_telegram_calls_total{method="setWebhook",result="ok"} 1.0',
        "hearth_deadline_lag_seconds 0.0",
    )
    assert await bot_process.stop() == 0
