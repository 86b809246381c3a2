"""Reactions: the ledger counts one `reaction` for a person who set a new one. Anonymous
reactions (an anonymous admin, or only the totals in `message_reaction_count`) are not
counted: there is no person to count them for. Thanks by reaction: handlers/thanks.py."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import MessageReactionUpdated

from bot.context import Hearth
from bot.services.ledger import LedgerKind
from handlers import thanks
from handlers.filters import GROUP_TYPES


async def reacted(event: MessageReactionUpdated, hearth: Hearth) -> None:
    user = event.user
    if user is None or user.is_bot or event.chat.type not in GROUP_TYPES:
        return
    if any(reaction not in event.old_reaction for reaction in event.new_reaction):
        # a new reaction is activity; one taken back is not
        hearth.ledger.count(event.chat.id, user.id, LedgerKind.REACTION)
    await thanks.reaction_changed(event, hearth)  # 👍 ❤ 🙏 thank; taking them away un-thanks


def build_router() -> Router:
    router = Router(name="reactions")
    router.message_reaction.register(reacted)
    return router
