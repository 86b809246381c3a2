"""Routers. `build_router()` assembles a fresh tree for every dispatcher."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    billing,
    buddies,
    checkins,
    errors,
    members,
    membership,
    moderation,
    verification,
)


def build_router() -> Router:
    router = Router(name="hearth")
    router.include_routers(
        errors.build_router(),
        membership.build_router(),
        verification.build_router(),
        admin.build_router(),
        buddies.build_router(),
        moderation.build_router(),
        checkins.build_router(),
        billing.build_router(),
        members.build_router(),
    )
    return router
