"""Routers. `build_router()` assembles a fresh tree for every dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.types import TelegramObject

from handlers import (
    admin,
    billing,
    buddies,
    checkins,
    circles,
    drift,
    errors,
    ideas,
    kb,
    members,
    membership,
    moderation,
    privacy,
    reactions,
    stats,
    stories,
    thanks,
    verification,
)
from handlers.common import COMMAND_ROUTERS, commands_only
from handlers.filters import PRECHECKS, MessageCheck


def build_router() -> Router:
    router = Router(name="hearth")
    # routers with nothing but commands for messages sit under one filter, so an ordinary
    # group message is turned away once instead of by each of them
    commands = commands_only(Router(name="commands"))
    commands.include_routers(
        admin.build_router(),
        buddies.build_router(),
        moderation.build_router(),
    )
    features = [
        circles.build_router(),  # `#name` in a group message calls a circle
        checkins.build_router(),
        billing.build_router(),
        drift.build_router(),
        privacy.build_router(),
        stats.build_router(),
        ideas.build_router(),
        thanks.build_router(),
        kb.build_router(),  # `#name` and newcomers' questions on the per-message path
        stories.build_router(),
    ]
    _gather_commands(features, commands)
    router.include_routers(
        errors.build_router(),
        membership.build_router(),
        verification.build_router(),
        commands,
        *features,
        members.build_router(),  # after every router with buttons: it answers stale ones
        reactions.build_router(),
    )
    _skip_idle(router)
    return router


def _gather_commands(features: list[Router], commands: Router) -> None:
    """Move each feature's command-only sub-router under `commands`, in the features' order.

    aiogram pays for every router an event passes through (its outer middlewares are wrapped
    anew, its root filters run); an ordinary group message passed through each feature's
    command router one by one. Gathered, it is turned away by one filter. Commands now come
    before the features' own message handlers, which never take a command (hashtags, thanks
    replies, check-in answers in private and payments all leave text starting with "/" alone).
    """
    for feature in features:
        for sub in list(feature.sub_routers):
            if sub in COMMAND_ROUTERS:
                feature.sub_routers.remove(sub)
                sub._parent_router = None
                commands.include_router(sub)


def _skip_idle(router: Router) -> dict[str, Entry]:
    """Let each router in the tree pass over an event none of its handlers (nor its
    sub-routers') could take, without aiogram's per-router work; returns the update types
    the tree handles, each with its entry check (see `_entry`). Middlewares sit on the
    dispatcher, so nothing is skipped but the walk.

    An ordinary group message used to walk about ten routers (aiogram wraps the outer
    middlewares anew and copies the handler data at each); now the root's entry check turns
    it away at once, unless a filter that looks at the message alone says some router
    could take it (a command, a `#name`, a thanks reply, a question, a join)."""
    below = [_skip_idle(sub) for sub in router.sub_routers]
    entries: dict[str, Entry] = {}
    for kind, observer in router.observers.items():
        if observer.handlers or any(kind in sub for sub in below):
            entries[kind] = _entry(observer, [sub[kind] for sub in below if kind in sub])
    walk = router.propagate_event

    async def propagate_event(update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        if update_type not in entries:
            return UNHANDLED
        entry = entries[update_type]
        if entry is not None and not await entry(event):
            return UNHANDLED
        return await walk(update_type=update_type, event=event, **kwargs)

    setattr(router, "propagate_event", propagate_event)  # noqa: B010 (an instance's own)
    return entries


Entry = Callable[[Any], Awaitable[bool]] | None
"""A condition a message must meet for a router to take it; None: it cannot be told ahead."""


def _entry(observer: TelegramEventObserver, below: list[Entry]) -> Entry:
    """From the filters marked as prechecks: the router's root filters must all pass, and at
    least one of its handlers' (or sub-routers') conditions. Only for messages; None as soon
    as one way in has no precheck (a filter that needs more than the message, a catch-all)."""
    if observer.event_name not in ("message", "edited_message"):
        return None
    root = _checks(observer._handler)
    ways = [_checks(handler) for handler in observer.handlers]
    ways += [[entry] if entry is not None else [] for entry in below]
    if any(not way for way in ways):  # some way in cannot be told ahead
        return _all(root) if root else None
    options = [_all(way) for way in ways]

    async def entry(message: Any) -> bool:
        for check in root:
            if not await check(message):
                return False
        for option in options:
            if await option(message):
                return True
        return False

    return entry


def _checks(handler: HandlerObject) -> list[MessageCheck]:
    return [f.callback for f in handler.filters or () if f.callback in PRECHECKS]


def _all(checks: list[Any]) -> Any:
    if len(checks) == 1:
        return checks[0]

    async def every(message: Any) -> bool:
        for check in checks:
            if not await check(message):
                return False
        return True

    return every
