"""The fake delivers updates to a webhook as Telegram does: with the secret, again after a
failure, and (standing in for a proxy) round robin among several targets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiohttp import web

from .server import FakeTelegram
from .test_fakegram import ANNA, make_bot


class Receiver:
    """A webhook endpoint that records what it got and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[int, str | None]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.got.append((body["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response(status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(ANNA, "Anna")
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


async def test_updates_are_posted_with_the_secret_and_confirmed_by_200(
    bot: Bot, fake: FakeTelegram
) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        await bot.set_webhook(receiver.url, secret_token="s3cret")
        fake.deliver_webhooks()
        sent = fake.send_message(ANNA, ANNA, "hi")
        await fake.wait_for(lambda: fake.pending_updates == 0)
        assert receiver.got == [(sent["update_id"], "s3cret")]
    finally:
        await receiver.stop()


async def test_a_failed_delivery_is_tried_again(bot: Bot, fake: FakeTelegram) -> None:
    receiver = Receiver(status=500)
    await receiver.start()
    try:
        await bot.set_webhook(receiver.url)
        fake.deliver_webhooks()
        fake.send_message(ANNA, ANNA, "hi")
        await fake.wait_for(lambda: len(receiver.got) >= 2)
        assert fake.pending_updates == 1  # not confirmed
        receiver.status = 200
        await fake.wait_for(lambda: fake.pending_updates == 0)
        assert len({update_id for update_id, _ in receiver.got}) == 1
    finally:
        await receiver.stop()


async def test_targets_take_turns_and_a_dead_one_loses_nothing(
    bot: Bot, fake: FakeTelegram
) -> None:
    first, second, dead = Receiver(), Receiver(), Receiver()
    for receiver in (first, second, dead):
        await receiver.start()
    await dead.stop()  # its port refuses connections now
    try:
        await bot.set_webhook("https://proxy.example/hook")
        fake.deliver_webhooks([first.url, second.url, dead.url])
        sent = [fake.send_message(ANNA, ANNA, f"m{i}")["update_id"] for i in range(12)]
        await fake.wait_for(lambda: fake.pending_updates == 0)
        assert first.got and second.got
        got = sorted(update_id for update_id, _ in first.got + second.got)
        assert got == sorted(sent)  # each delivered once, none lost to the dead target
    finally:
        await first.stop()
        await second.stop()
