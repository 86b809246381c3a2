"""Errors in handlers are logged with the update id; polling goes on. A few expected ones
are answered instead."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.context import Hearth
from bot.middlewares.language import reply_language
from bot.services.trust import AmbiguousUsername
from bot.views import common as views

log = logging.getLogger("hearth.errors")


async def on_ambiguous_username(event: ErrorEvent, hearth: Hearth) -> bool:
    """A command named an @username two stored accounts carry: any command that resolves a
    target refuses alike, instead of acting on either of them."""
    message = event.update.message
    if message is None:
        return True
    lang = await reply_language(hearth, message)
    username = str(event.exception.args[0]) if event.exception.args else ""
    text = views.ambiguous_target(lang, username)
    await hearth.notifier.send(message.chat.id, text, reply_to=message.message_id)
    return True


async def on_error(event: ErrorEvent) -> bool:
    log.error(
        "update %s failed: %r",
        event.update.update_id,
        event.exception,
        exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
    )
    return True


def build_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_ambiguous_username, ExceptionTypeFilter(AmbiguousUsername))
    router.errors.register(on_error)
    return router
