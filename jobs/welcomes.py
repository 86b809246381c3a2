"""The welcome pacer: posts welcomes so a join wave never floods the group.

At most one welcome per chat every `interval` seconds (10 a minute, half of Telegram's
20 messages per minute for a group); people who join meanwhile are named together in
the next one. What is waiting is read from the database, so a restart loses nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.clock import SystemTimer, Timer

log = logging.getLogger(__name__)


class WelcomePacer:
    def __init__(
        self,
        chats_waiting: Callable[[], Awaitable[list[int]]],
        post: Callable[[int], Awaitable[int]],
        interval: float = 6.0,
        timer: Timer | None = None,
    ) -> None:
        self._timer: Timer = timer or SystemTimer()
        self._chats_waiting = chats_waiting
        self._post = post
        self.interval = interval
        self._last_post: dict[int, float] = {}
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._event.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="welcome-pacer")
        self.wake()

    async def stop(self, grace: float = 5.0) -> None:
        """Let a welcome being posted finish (so it is recorded), then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._event.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        wait: float | None = None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=wait)
            self._event.clear()
            if self._stopping:
                return
            try:
                wait = await self.tick()
            except Exception:
                log.exception("posting welcomes failed; retrying in 5 s")
                wait = 5.0

    async def tick(self) -> float | None:
        """Post what may be posted now; returns seconds until the next post is allowed."""
        next_wait: float | None = None
        for chat_id in await self._chats_waiting():
            ready_at = self._last_post.get(chat_id, float("-inf")) + self.interval
            if self._timer.monotonic() < ready_at:
                delay = ready_at - self._timer.monotonic()
                next_wait = delay if next_wait is None else min(next_wait, delay)
                continue
            if await self._post(chat_id):
                self._last_post[chat_id] = self._timer.monotonic()
                next_wait = self.interval if next_wait is None else min(next_wait, self.interval)
        return next_wait
