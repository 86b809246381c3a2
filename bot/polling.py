"""Polling is one process: Telegram hands `getUpdates` to one consumer at a time and answers
the other with 409 Conflict ("terminated by other getUpdates request").

When that happens the process says so in one clear line, once (again only after polling has
worked in between), and keeps polling as aiogram does, with its back-off. Why not stop: the
other poller is most often the previous run during a deploy or a restart, about to exit; a
process that stopped itself could leave no poller at all once that one is gone. Updates are
not lost or doubled meanwhile: each is confirmed by its offset, whichever process fetched it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramConflictError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

__all__ = ["ANOTHER_POLLER", "PollingConflicts", "watch_for_other_pollers"]

log = logging.getLogger("hearth")

ANOTHER_POLLER = (
    "another process is polling this bot (Telegram answered getUpdates with 409 Conflict): "
    "polling allows one process; stop the other one, or run several in webhook mode "
    "(WEBHOOK_WORKERS, README: Running in production). Retrying meanwhile"
)


class PollingConflicts(BaseRequestMiddleware):
    """Logs `ANOTHER_POLLER` once per conflict episode."""

    def __init__(self) -> None:
        self.conflicted = False

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ != "getUpdates":
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except TelegramConflictError as error:
            if "other getUpdates" in error.message and not self.conflicted:
                log.warning(ANOTHER_POLLER)
                self.conflicted = True
            raise
        if self.conflicted:
            log.info("polling again without a conflict")
            self.conflicted = False
        return response


class _QuietConflicts(logging.Filter):
    """aiogram logs every failed getUpdates (an error and a retry line); a conflict is
    already said once, so those two lines are dropped while it lasts."""

    def __init__(self, conflicts: PollingConflicts) -> None:
        super().__init__()
        self._conflicts = conflicts

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if record.msg == "Failed to fetch updates - %s: %s" and args:
            return bool(args[0] != "TelegramConflictError")
        retrying = isinstance(record.msg, str) and record.msg.startswith("Sleep for %f seconds")
        return not (retrying and self._conflicts.conflicted)


def watch_for_other_pollers(bot: Bot) -> PollingConflicts:
    """Make `bot`'s polling say once, clearly, that another process polls the same bot."""
    conflicts = PollingConflicts()
    bot.session.middleware(conflicts)
    quiet = _QuietConflicts(conflicts)
    logging.getLogger("aiogram.dispatcher").addFilter(quiet)
    return conflicts
