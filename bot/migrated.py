"""Bot API request middleware: a call to a group that became a supergroup goes to the
supergroup. Telegram answers such a call with a 400 naming the new id (aiogram raises
TelegramMigrateToChat); the call is sent again there, later calls go there at once, and
`on_moved` moves the chat's state (in case the upgrade's service messages were missed)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramMigrateToChat
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)


class FollowUpgrades(BaseRequestMiddleware):
    """Redirects calls about an upgraded group to its supergroup."""

    def __init__(self, on_moved: Callable[[int, int], Awaitable[object]] | None = None) -> None:
        self.moved: dict[int, int] = {}  # old group id -> supergroup id (upgrades are rare)
        self._on_moved = on_moved

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int) or chat_id >= 0:
            return await make_request(bot, method)
        if chat_id in self.moved:
            method = method.model_copy(update={"chat_id": self.moved[chat_id]})
        try:
            return await make_request(bot, method)
        except TelegramMigrateToChat as error:
            new_id = error.migrate_to_chat_id
            log.info("%s: chat %s is now supergroup %s", method.__api_method__, chat_id, new_id)
            self.moved[chat_id] = new_id
            if self._on_moved is not None:
                try:
                    await self._on_moved(chat_id, new_id)
                except Exception:
                    log.exception("moving chat %s to %s failed", chat_id, new_id)
            return await make_request(bot, method.model_copy(update={"chat_id": new_id}))
