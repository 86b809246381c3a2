"""What an operator scrapes: /healthz and /metrics served by aiohttp over the production
application, after real updates went through the dispatcher and real calls through the Bot
API client (the fake Telegram counts the same calls from its side)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp.test_utils as aiohttp_test
import pytest
from aiogram.exceptions import TelegramBadRequest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.db import Database
from bot.health_http import Probe, add_routes
from models.outbox import OutboxRepository
from tests.dispatcher.conftest import GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_moderation import say, start_bot

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@asynccontextmanager
async def operator_client(probe: Probe) -> AsyncIterator[aiohttp_test.TestClient]:
    web_app = web.Application()
    add_routes(web_app, probe)
    async with aiohttp_test.TestClient(aiohttp_test.TestServer(web_app)) as client:
        yield client


async def scrape(h: Harness) -> Samples:
    async with operator_client(Probe.of(h.app)) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def sent_calls(h: Harness, method: str) -> int:
    return len(h.fake.calls_of(method))


async def test_metrics_count_updates_by_type_and_bot_api_calls_by_method(
    harness: Harness,
) -> None:
    h = harness
    before = await scrape(h)
    sends_before = sent_calls(h, "sendMessage")

    await say(h, MEMBER, "hello")
    await say(h, OWNER, "hi")
    h.fake.user_joins(GROUP, NEWCOMER)  # a chat_member update (and its service message)
    await h.settle()
    start_bot(h, MEMBER)  # answered privately: a sendMessage
    await h.settle()

    after = await scrape(h)
    updates = "hearth_updates_total"
    assert value(after, updates, type="message") - value(before, updates, type="message") == 4
    assert value(after, updates, type="chat_member") == 2  # joined, then held by the bot
    latency = "hearth_handler_seconds_count"
    assert value(after, latency, type="message") == value(after, updates, type="message")
    sends = sent_calls(h, "sendMessage") - sends_before
    assert sends >= 2  # the welcome and the private answer
    calls = "hearth_telegram_calls_total"
    assert (
        value(after, calls, method="sendMessage", result="ok")
        - value(before, calls, method="sendMessage", result="ok")
        == sends
    )
    assert value(after, calls, method="restrictChatMember", result="ok") == 1  # the newcomer
    assert value(after, calls, method="getMe", result="ok") >= 1
    # labels name methods and update types only: no chat ids, no text
    assert not any("hello" in str(key) or str(GROUP) in str(key) for key in after)


async def test_a_429_from_telegram_is_counted_as_429_and_the_retry_as_ok(
    harness: Harness,
) -> None:
    h = harness
    h.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3, times=1)
    h.fake.fail_next("deleteMessage", 400, "Bad Request: message to delete not found")
    before = await scrape(h)

    start_bot(h, MEMBER)
    await h.settle()
    with pytest.raises(TelegramBadRequest):
        await h.app.bot.delete_message(GROUP, 1)

    after = await scrape(h)
    calls = "hearth_telegram_calls_total"

    def delta(result: str, method: str = "sendMessage") -> float:
        return value(after, calls, method=method, result=result) - value(
            before, calls, method=method, result=result
        )

    assert h.replies(MEMBER), "the answer still arrives after the 429"
    assert delta("429") == 1
    assert delta("ok") == 1
    assert delta("4xx") == delta("5xx") == delta("network") == 0
    assert delta("4xx", method="deleteMessage") == 1


async def test_deadline_lag_and_outbox_depth_are_read_at_scrape_time(harness: Harness) -> None:
    h = harness
    h.fake.user_joins(GROUP, NEWCOMER)  # five minutes to confirm: a deadline row
    await h.settle()
    assert value(await scrape(h), "hearth_deadline_lag_seconds") == 0

    h.clock.advance(timedelta(minutes=5, seconds=90))  # nobody swept: 90 s overdue
    lagging = await scrape(h)
    assert value(lagging, "hearth_deadline_lag_seconds") == 90
    await h.settle()  # the sweep removes the newcomer and the row
    assert value(await scrape(h), "hearth_deadline_lag_seconds") == 0

    now = h.clock.now()
    async with h.app.db.transaction() as session:
        rows = OutboxRepository(session)
        for n, due in enumerate((now - timedelta(seconds=40), now + timedelta(hours=1))):
            await rows.add(
                f"ops:{n}", MEMBER, "x", buttons=None, not_before=due, expires_at=None, now=now
            )
    samples = await scrape(h)
    assert value(samples, "hearth_outbox_pending") == 2
    assert value(samples, "hearth_outbox_oldest_due_seconds") == 40  # the later one is not due
    assert value(samples, "hearth_db_pool_checked_out") == 0  # the scrape gave its own back


async def test_healthz_is_ready_only_with_a_database_and_a_known_identity(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    probe = Probe.of(h.app)
    async with operator_client(probe) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        body = await response.json()
        assert body["status"] == "ok"
        assert body["database"] == "ok"
        assert body["bot"].startswith("@")

        h.app.hearth.notifier.username = ""  # as before getMe answered at start-up
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["reason"] == "bot identity not known yet"
        h.app.hearth.notifier.username = body["bot"][1:]

        await h.app.db.close()  # shutting down
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["reason"] == "database closed (shutting down)"

    tmp_path.joinpath("not-a-file").mkdir()  # SQLite cannot open a directory
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'not-a-file'}")
    threads_before = set(threading.enumerate())
    try:
        async with operator_client(Probe(broken, h.clock, h.app.metrics, lambda: "bot")) as c:
            response = await c.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert body["reason"] == "database unavailable (OperationalError)"
            assert str(tmp_path) not in await response.text()
            metrics = await c.get("/metrics")  # still served, with what is known
            assert metrics.status == 200
            assert "hearth_updates_total" in await metrics.text()
    finally:
        await broken.close()
        # aiosqlite stops the thread of a connection that failed to open by a message it
        # answers on this test's event loop: wait for it, or it answers a closed loop later
        for thread in set(threading.enumerate()) - threads_before:
            await asyncio.to_thread(thread.join, 5)
