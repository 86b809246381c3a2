"""Routers. `build_router()` assembles a fresh tree for every dispatcher."""

from __future__ import annotations

from aiogram import Router

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
from handlers.common import commands_only


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
    router.include_routers(
        errors.build_router(),
        membership.build_router(),
        verification.build_router(),
        commands,
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
        members.build_router(),  # after every router with buttons: it answers stale ones
        reactions.build_router(),
    )
    return router
