"""Dispatcher tier: the production dispatcher, fed updates taken from the fake Bot API,
with a clock the test moves and background work (welcomes, sweeps) run by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from bot.app import ALLOWED_UPDATES, Application, build_application
from bot.clock import FakeClock
from bot.config import Settings
from tests.conftest import close_session
from tests.fakegram.server import FakeTelegram
from tests.fakegram.timer import FakeTelegramTimer

GROUP = -1001000000001
OWNER = 1
ADMIN = 2
MEMBER = 3
NEWCOMER = 500
BOSS = 900  # in OWNER_IDS, not a Telegram admin


@dataclass
class Harness:
    fake: FakeTelegram
    app: Application
    clock: FakeClock
    offset: int = 0
    handled: list[int] = field(default_factory=list)

    async def deliver(self, reverse: bool = False) -> int:
        """Fetch pending updates over HTTP and feed each to the dispatcher; returns the count.

        `reverse` feeds each batch newest first, as concurrent handling may order them."""
        count = 0
        while True:
            updates = await self.app.bot.get_updates(
                offset=self.offset, timeout=0, allowed_updates=ALLOWED_UPDATES
            )
            if not updates:
                return count
            self.offset = updates[-1].update_id + 1
            for update in reversed(updates) if reverse else updates:
                await self.app.dispatcher.feed_update(self.app.bot, update)
                self.handled.append(update.update_id)
                count += 1

    async def settle(self) -> None:
        """Deliver updates and run background work until nothing is left to do."""
        for _ in range(10):
            delivered = await self.deliver()
            for chat_id in await self.app.hearth.onboarding.chats_awaiting_welcome():
                await self.app.hearth.onboarding.post_welcome(chat_id)
            swept = await self.app.sweeper.sweep()
            if (
                not delivered
                and not swept
                and not await self.app.hearth.onboarding.chats_awaiting_welcome()
            ):
                return

    def replies(self, chat_id: int) -> list[str]:
        """The texts the bot sent to the chat (pictures and files have none)."""
        return [m["text"] for m in self.fake.sent_messages(chat_id) if "text" in m]


@asynccontextmanager
async def running_harness(db_url: str, **overrides: object) -> AsyncIterator[Harness]:
    """A harness on `db_url`; `overrides` are extra settings (REDIS_URL, say)."""
    fake = FakeTelegram()
    await fake.start()
    fake.add_user(OWNER, "Olga", username="olga", language_code="en")
    fake.add_user(ADMIN, "Anton", username="anton", language_code="en")
    fake.add_user(MEMBER, "Maria", username="maria", language_code="en")
    fake.add_user(NEWCOMER, "Nina", username="nina", language_code="en")
    fake.add_user(BOSS, "Boss", username="boss", language_code="en")
    fake.add_chat(GROUP, "Circle")
    fake.set_member(GROUP, OWNER, "creator")
    fake.set_member(GROUP, ADMIN, "administrator")
    fake.set_member(GROUP, MEMBER, "member")
    fake.set_member(GROUP, BOSS, "member")
    fake.add_bot_to_chat(GROUP, OWNER, admin=True)
    settings = Settings(
        bot_token=fake.token,  # type: ignore[arg-type]
        telegram_api_url=fake.url,
        database_url=db_url,
        owner_ids=frozenset({BOSS}),
        default_language="en",
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )
    clock = FakeClock(datetime.fromtimestamp(fake.now(), UTC))  # agree with Telegram's dates
    # retry pauses and outbox pacing move a timer instead of waiting
    app = build_application(settings, clock=clock, timer=FakeTelegramTimer(fake))
    harness = Harness(fake, app, clock)
    try:
        me = await app.bot.get_me()
        app.hearth.notifier.username = me.username or ""
        await harness.settle()
        yield harness
    finally:
        await close_app(harness.app)  # the one running now (a test may have restarted it)
        await fake.stop()


async def close_app(app: Application) -> None:
    """Everything an application holds open: tasks, its Redis client, the DB, then HTTP."""
    await app.close()
    await close_session(app.bot)


async def restart(h: Harness) -> None:
    """The bot restarts: a new application on the same database (memory, caches lost)."""
    await close_app(h.app)
    h.app = build_application(h.app.settings, clock=h.clock, timer=FakeTelegramTimer(h.fake))
    me = await h.app.bot.get_me()
    h.app.hearth.notifier.username = me.username or ""


@pytest.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    async with running_harness(db_url) as running:
        yield running
