"""A fake timer for the bot under test that keeps the fake Bot API's windows in step."""

from __future__ import annotations

from bot.clock import FakeTimer

from .state import World


class FakeTelegramTimer(FakeTimer):
    """The bot's pauses (retries, pacing) return at once; Telegram's rate-limit windows
    pass as if the bot had waited."""

    def __init__(self, fake: World) -> None:
        super().__init__()
        self._fake = fake

    async def sleep(self, seconds: float) -> None:
        self._fake.wait_passes(seconds)
        await super().sleep(seconds)
