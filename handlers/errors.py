"""Errors in handlers are logged with the update id; polling goes on."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

log = logging.getLogger("hearth.errors")


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
    router.errors.register(on_error)
    return router
