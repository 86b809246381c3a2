"""Webhook mode: set when WEBHOOK_URL is given; requests without the secret are refused;
the same server answers /healthz and /metrics (one start of the process for all of it)."""

from __future__ import annotations

import json

import aiohttp

from tests.e2e.conftest import GROUP, MEMBER, BotProcess, seed_chat
from tests.e2e.http import free_port, get, listening, metrics_showing
from tests.fakegram.server import FakeTelegram


async def test_webhook_mode_receives_updates_and_checks_the_secret(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", language="en")
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    bot_process.extra_env.update(
        WEBHOOK_URL=url, WEBHOOK_SECRET="s3cret-value", WEBHOOK_LISTEN=f"127.0.0.1:{port}"
    )
    await bot_process.start(ready_call="setWebhook")
    hook = await fake.wait_for(lambda: fake.calls_of("setWebhook"), timeout=30)
    assert hook[-1].params["url"] == url
    assert hook[-1].params["secret_token"] == "s3cret-value"

    update = {
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
    async with aiohttp.ClientSession() as http:
        await fake.wait_for(lambda: listening(port), timeout=30)  # the server may be starting
        async with http.post(url, json=update) as response:
            assert response.status == 401  # refused before it is handled at all
        assert not fake.sent_messages(GROUP)
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
        async with http.post(url, json=update, headers=headers) as response:
            assert response.status == 200
    reply = await fake.wait_for(lambda: fake.sent_messages(GROUP))
    assert "no rules" in reply[-1]["text"].lower()

    status, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert status == 200, body
    assert json.loads(body)["bot"].startswith("@")
    await metrics_showing(
        fake,
        port,
        'hearth_telegram_calls_total{method="setWebhook",result="ok"} 1.0',
        'hearth_updates_total{type="message"} 1.0',  # the one with the secret
        "hearth_deadline_lag_seconds 0.0",
    )
    assert await bot_process.stop() == 0
