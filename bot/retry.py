"""Bot API request middleware: obey 429 `retry_after`, retry 5xx and network errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

DIRECT: ContextVar[bool] = ContextVar("hearth_direct_requests", default=False)
"""Set by a caller that handles 429 and 5xx itself (the outbox): no retries here."""


class RetryMiddleware(BaseRequestMiddleware):
    """Retries a Bot API call: waits `retry_after` on 429, backs off on 5xx and timeouts."""

    def __init__(
        self,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.sleep = sleep  # tests pass one that moves time instead of waiting
        self.base_delay = base_delay
        self.max_retry_after = max_retry_after

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if DIRECT.get():  # the outbox paces and retries on its own
            return await make_request(bot, method)
        if method.__api_method__ == "getUpdates":  # polling has its own backoff
            return await make_request(bot, method)
        delay = self.base_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.max_retry_after:
                    raise
                log.warning("%s: 429, waiting %ss", method.__api_method__, error.retry_after)
                await self.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                if attempt == self.attempts:
                    raise
                log.warning("%s failed (%s); retry in %.1fs", method.__api_method__, error, delay)
                await self.sleep(delay)
                delay = min(delay * 2, 10.0)
        raise AssertionError("unreachable")  # pragma: no cover
