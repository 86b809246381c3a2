"""Inner middleware: picks the language of the reply and passes it to handlers as `lang`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.context import Hearth
from bot.i18n import pick_language


async def reply_language(hearth: Hearth, event: TelegramObject) -> str:
    """The sender's language where we speak it, else the group's, else the default."""
    chat_language = hearth.config.default_language
    user_language: str | None = None
    chat = None
    if isinstance(event, Message):
        chat = event.chat
        user_language = event.from_user.language_code if event.from_user else None
    elif isinstance(event, CallbackQuery):
        chat = event.message.chat if event.message else None
        user_language = event.from_user.language_code
    if chat is not None and chat.type in ("group", "supergroup"):
        chat_language = (await hearth.chat_settings.get(chat.id)).language
    return pick_language(user_language, chat_language)


class LanguageMiddleware(BaseMiddleware):
    """Inner, so ordinary messages that no handler takes never pay for it; filters that
    run before it (refusals) ask `reply_language` themselves."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["lang"] = await reply_language(data["hearth"], event)
        return await handler(event, data)
