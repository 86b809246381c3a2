"""One send budget for every message the bot sends, under Telegram's limits: about 30 a
second overall, one a second per private chat, 20 a minute per group.

Replies, notices and welcomes reach it through `SendPacer`, a Bot API request middleware; the
outbox takes its slots itself (`slot(chat, bulk=True)`) and marks its request `PACED`. Waiters
are granted in priority order (replies ahead of bulk outbox rows), then in arrival order; a
chat that has used its share waits without holding up other chats. One pump task grants the
slots and is the only thing that sleeps, on the injected `Timer` (tests move a fake one).

With REDIS_URL the windows are also kept in Redis (`bot/sendwindows.py`), shared by every
process, each send counted there from its grant until a span after its answer; priority stays
per process. Redis down: this process paces alone (logged once per outage) and tries Redis
again later.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import math
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.clock import SystemTimer, Timer
from bot.sendwindows import (
    GROUP_PER_MINUTE,
    OVERALL_PER_SECOND,
    PRIVATE_GAP,
    RATE,
    ChatKey,
    SharedWindow,
    Window,
    is_group,
)

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

__all__ = ["RATE", "ChatKey", "SendBudget", "SendPacer", "SharedWindow", "build_budget"]

PRUNE_ABOVE = 5000
REDIS_RETRY = 30.0  # seconds this process paces alone after Redis failed

# fmt: off
SEND_METHODS = frozenset([
    "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAnimation", "sendAudio",
    "sendVoice", "sendVideoNote", "sendSticker", "sendMediaGroup", "sendPoll", "sendDice",
    "sendLocation", "sendVenue", "sendContact", "sendInvoice", "sendPaidMedia",
    "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
])
# fmt: on
# Edits take a slot of the overall budget only: Telegram counts them against the bot's flood
# budget, but an edit of a button held back behind a group's 20-a-minute posts would make the
# buttons feel broken (a 429 on an edit is still waited out by the retry middleware).
EDIT_METHODS = frozenset(
    ["editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia"]
)

PACED: ContextVar[bool] = ContextVar("hearth_paced_send", default=False)
"""Set by a caller that took its slot itself (the outbox): the middleware lets it through."""


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    chat: ChatKey = field(compare=False)
    future: asyncio.Future[None] = field(compare=False)


class SendBudget:
    """The shared budget: `slot()` resolves when a message to `chat` may go out now."""

    def __init__(self, timer: Timer, *, rate: float = RATE, shared: SharedWindow | None = None):
        self._timer = timer
        self._interval = 1.0 / rate
        self._shared = shared
        self._shared_down_until: float | None = None  # None: Redis is (believed) up
        self._waiting: list[_Waiter] = []  # sorted: priority, then arrival
        self._seq = itertools.count()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._overall = Window(OVERALL_PER_SECOND, 1.0)
        self._private_next: dict[ChatKey, float] = {}
        self._groups: dict[ChatKey, Window] = {}
        self._blocked: dict[ChatKey, float] = {}  # a chat's own 429 (or Redis' word): until
        self._in_redis: dict[ChatKey, deque[str]] = {}  # sends in flight there, oldest first
        self._arrived = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    def slot(self, chat: ChatKey, *, bulk: bool = False) -> asyncio.Future[None]:
        """A future that resolves when the send may go; registered at once, so a caller can
        take several before awaiting any (cancel it to give the place up)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        now = self._timer.monotonic()
        if not self._waiting and self._shared is None and self._ready_now(chat, now):
            self._grant(chat, now)  # the common case: nobody waits, no pause
            future.set_result(None)
            return future
        bisect.insort(self._waiting, _Waiter(int(bulk), next(self._seq), chat, future))
        self._arrived.set()
        if self._pump is None:
            self._pump = asyncio.create_task(self._run(), name="hearth-send-pacer")
        return future

    def ready(self, chat: ChatKey) -> bool:
        """Whether one more send to `chat` could go now, counting those already waiting (the
        outbox skips rows of a chat that has used its share rather than wait on them)."""
        now = self._timer.monotonic()
        if chat is None or self._blocked.get(chat, 0.0) > now:
            return chat is None  # nothing but the overall pace limits edits
        queued = sum(1 for w in self._waiting if w.chat == chat and not w.future.done())
        if is_group(chat):
            return self._group(chat).wait(now, queued) <= 0
        return queued == 0 and self._private_next.get(chat, 0.0) <= now

    def finished(self, chat: ChatKey) -> None:
        """The send granted for `chat` was answered (or failed): call once per granted slot."""
        now = self._timer.monotonic()
        self._overall.finish(now)
        if is_group(chat):
            self._group(chat).finish(now)
        self._finish_shared(chat)
        self._arrived.set()  # the windows may allow the next one now

    def _finish_shared(self, chat: ChatKey) -> None:
        flying = self._in_redis.get(chat)
        if flying and self._shared is not None:
            self._shared.finish(chat, flying.popleft())
            if not flying:
                del self._in_redis[chat]

    def penalize(self, chat: ChatKey, retry_after: float) -> None:
        """Telegram answered 429 anyway (another process, a manual send): a group's wait holds
        that group, any other holds every send."""
        until = self._timer.monotonic() + retry_after
        if is_group(chat):
            self._blocked[chat] = max(self._blocked.get(chat, 0.0), until)
        else:
            self._paused_until = max(self._paused_until, until)
        self._arrived.set()

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        if self._shared is not None:
            await self._shared.close()

    def _group(self, chat: ChatKey) -> Window:
        return self._groups.setdefault(chat, Window(GROUP_PER_MINUTE, 60.0))

    def _chat_wait(self, chat: ChatKey, now: float) -> float:
        wait = self._blocked.get(chat, 0.0) - now
        if chat is None:
            return wait
        if is_group(chat):
            return max(wait, self._group(chat).wait(now))
        return max(wait, self._private_next.get(chat, 0.0) - now)

    def _ready_now(self, chat: ChatKey, now: float) -> bool:
        return self._overall_wait(now) <= 0 and self._chat_wait(chat, now) <= 0

    def _overall_wait(self, now: float) -> float:
        paced = max(self._next_slot, self._paused_until) - now
        return max(paced, self._overall.wait(now))

    def _grant(self, chat: ChatKey, now: float) -> None:
        self._next_slot = max(now, self._next_slot) + self._interval
        self._overall.start(now)
        if is_group(chat):
            self._group(chat).start(now)
        elif chat is not None:
            self._private_next[chat] = now + PRIVATE_GAP
        if len(self._private_next) + len(self._groups) > PRUNE_ABOVE:
            self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget per-chat state that no longer limits anything (it would grow forever)."""
        self._private_next = {c: at for c, at in self._private_next.items() if at > now}
        self._groups = {c: w for c, w in self._groups.items() if w.count(now)}
        self._blocked = {c: at for c, at in self._blocked.items() if at > now}

    async def _run(self) -> None:
        try:
            while True:
                self._waiting = [w for w in self._waiting if not w.future.done()]
                if not self._waiting:
                    return
                now = self._timer.monotonic()
                overall = self._overall_wait(now)
                if overall > 0:
                    await self._nap(overall)  # an answer may free the window earlier
                    continue
                waiter, soonest = self._first_ready(now)
                if waiter is None:
                    await self._nap(soonest)  # every waiting chat has used its share
                    continue
                allowed = await self._shared_allows(waiter.chat, now)
                if waiter.future.done():  # given up meanwhile: its place in Redis too
                    if allowed:
                        self._finish_shared(waiter.chat)
                    continue
                if not allowed:
                    continue
                self._waiting.remove(waiter)
                self._grant(waiter.chat, now)
                if not waiter.future.done():
                    waiter.future.set_result(None)
        finally:
            self._pump = None

    def _first_ready(self, now: float) -> tuple[_Waiter | None, float]:
        """The first waiter whose chat may take a send now; else the shortest chat wait."""
        soonest = float("inf")
        for waiter in self._waiting:
            wait = self._chat_wait(waiter.chat, now)
            if wait <= 0:
                return waiter, 0.0
            soonest = min(soonest, wait)
        return None, soonest

    async def _nap(self, seconds: float) -> None:
        """Sleep, but wake when someone arrives or a send is answered (`inf`: only then)."""
        self._arrived.clear()
        waker = asyncio.ensure_future(self._arrived.wait())
        if math.isinf(seconds):
            await waker
            return
        sleeper = asyncio.ensure_future(self._timer.sleep(seconds))
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def _shared_allows(self, chat: ChatKey, now: float) -> bool:
        """Record the send in Redis; False (and the wait noted here) when another process
        used the budget first. Redis down: pace this process alone for a while."""
        if self._shared is None:
            return True
        if self._shared_down_until is not None and now < self._shared_down_until:
            return True
        try:
            wait, chat_only, member = await self._shared.take(chat)
        except (RedisError, OSError, TimeoutError) as error:
            if self._shared_down_until is None:
                log.warning("Redis unavailable: pacing sends in this process alone (%s)", error)
            self._shared_down_until = now + REDIS_RETRY
            return True
        if self._shared_down_until is not None:
            log.info("Redis is back: sends are paced with the other processes again")
            self._shared_down_until = None
        if member:
            self._in_redis.setdefault(chat, deque()).append(member)
            return True
        now = self._timer.monotonic()  # the wait counts from Redis' answer, not our question
        if chat_only:
            self._blocked[chat] = max(self._blocked.get(chat, 0.0), now + wait)
        else:
            self._paused_until = max(self._paused_until, now + wait)
        return False


class SendPacer(BaseRequestMiddleware):
    """Takes a slot of the budget for every sending request (and every edit, overall only);
    register it after `RetryMiddleware` so each retry is paced too."""

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if PACED.get() or (name not in SEND_METHODS and name not in EDIT_METHODS):
            return await make_request(bot, method)
        chat: ChatKey = getattr(method, "chat_id", None)
        key = chat if name in SEND_METHODS else None
        await self.budget.slot(key)
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            self.budget.penalize(chat, float(error.retry_after))
            raise
        finally:
            self.budget.finished(key)


def build_budget(redis: Redis | None, timer: Timer, bot_id: str) -> SendBudget:
    """The process's budget; shared through Redis (per bot: limits are each bot's own) when
    configured, on a clock all processes agree on: the wall clock (under test, the fake)."""
    if redis is None:
        return SendBudget(timer)
    wall = time.time if isinstance(timer, SystemTimer) else timer.monotonic
    return SendBudget(timer, shared=SharedWindow(redis, wall, f"hearth:send:{bot_id}:"))
