"""The running process as an operator sees it: /healthz and /metrics on METRICS_PORT in
polling mode, and LOG_FORMAT=json logs with no token or text (the webhook server's are checked
in test_webhook.py, in the same start of the process as webhook delivery)."""

from __future__ import annotations

import json

from tests.e2e.conftest import GROUP, MEMBER, BotProcess, seed_chat
from tests.e2e.http import free_port, get, listening, metrics_showing
from tests.fakegram.server import FakeTelegram

SECRET_TEXT = "my private plans for tuesday"


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
