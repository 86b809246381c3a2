"""Routers. `build_router()` assembles a fresh tree for every dispatcher."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
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


def _skip_idle(router: Router) -> frozenset[str]:
    """Let each router in the tree pass over an event none of its handlers (nor its
    sub-routers') could take, without aiogram's per-router work; returns the update types
    the tree handles. Middlewares sit on the dispatcher, so nothing is skipped but the walk."""
    handled = frozenset(
        {kind for kind, observer in router.observers.items() if observer.handlers}.union(
            *(_skip_idle(sub) for sub in router.sub_routers)
        )
    )
    walk = router.propagate_event

    async def propagate_event(update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        if update_type not in handled:
            return UNHANDLED
        return await walk(update_type=update_type, event=event, **kwargs)

    setattr(router, "propagate_event", propagate_event)  # noqa: B010 (an instance's own)
    return handled
