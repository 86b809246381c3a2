"""Outer middleware on group messages: registers people seen for the first time, deletes
anything a person still pending verification manages to post, and applies the chat's rules
(flood, slow mode, newcomer limits, stop words) to everyone else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from bot.context import Hearth
from bot.convert import chat_ref, incoming, is_upgrade, person
from bot.services.ledger import LedgerKind
from bot.services.people import Person
from models.members import TrustLevel


def _replied(event: Message, hearth: Hearth) -> tuple[int, int, str | None] | None:
    """(author, message id, the author's cached trust level) of the person's message this
    one replies to; None for no reply, a reply to a bot, or a forum topic's opening."""
    target = event.reply_to_message
    if target is None or target.from_user is None or target.from_user.is_bot:
        return None
    if target.forum_topic_created is not None:
        return None
    author = target.from_user.id
    return author, target.message_id, hearth.directory.cached(event.chat.id, author)


class GroupGate(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Message) or event.chat.type not in ("group", "supergroup"):
            return await handler(event, data)
        hearth: Hearth = data["hearth"]
        if event.sender_chat is not None:
            return await self._as_channel(handler, event, data, hearth)
        user = event.from_user
        if user is None:
            return await handler(event, data)
        if event.new_chat_members or event.left_chat_member or await is_upgrade(event):
            # service messages describe, not post (an upgrade's old id is not registered again)
            return await handler(event, data)
        if user.is_bot:
            return await self._as_bot(handler, event, data, hearth)
        sender = person(user)
        level = await hearth.directory.observe(chat_ref(event.chat), sender)
        if level == TrustLevel.PENDING:
            await hearth.notifier.delete(event.chat.id, event.message_id)
            return None
        now = hearth.clock.now()
        hearth.activity.touch(event.chat.id, user.id, now)
        edited = event.edit_date is not None
        if not edited:  # counted in memory; the activity flush writes it
            hearth.ledger.count(event.chat.id, user.id, LedgerKind.MESSAGE, now)
        # Telegram's timestamp, so a backlog delivered after a restart is not a "flood"
        at = event.date if not edited else now
        if not await hearth.moderation.check(incoming(event, sender, level, at, edited)):
            return None
        if not edited:  # memory only: a newcomer's first message, a reply to one
            hearth.health.replies.message(
                event.chat.id, user.id, level, event.message_id, now, _replied(event, hearth)
            )
            # who wrote it, for 12 hours: a reaction update does not say (thanks)
            hearth.thanks.service.authors.seen(event.chat.id, event.message_id, user.id, now)
        return await handler(event, data)

    async def _as_bot(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Message,
        data: dict[str, Any],
        hearth: Hearth,
    ) -> Any:
        """Another bot: held to flood limits and stop words unless the chat trusts it (its
        id in `trusted_bots`). Bots are not members: no trust level, no newcomer rules."""
        assert event.from_user is not None
        bot_id = event.from_user.id
        trusted = (await hearth.chat_settings.get(event.chat.id)).trusted_bots
        if bot_id in trusted or bot_id == data["bot"].id:
            return await handler(event, data)
        edited = event.edit_date is not None
        at = event.date if not edited else hearth.clock.now()
        check = incoming(event, person(event.from_user), TrustLevel.MEMBER, at, edited)
        if not await hearth.moderation.check(check):
            return None
        return await handler(event, data)

    async def _as_channel(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Message,
        data: dict[str, Any],
        hearth: Hearth,
    ) -> Any:
        """Someone posting as a channel: anonymous admins (as the group itself) and the linked
        channel's automatic forwards pass; any other channel is held to the rules."""
        sender_chat = event.sender_chat
        assert sender_chat is not None
        if sender_chat.id == event.chat.id or event.is_automatic_forward:
            return await handler(event, data)
        sender = Person(sender_chat.id, sender_chat.title or sender_chat.username or "channel")
        edited = event.edit_date is not None
        at = event.date if not edited else hearth.clock.now()
        check = incoming(event, sender, TrustLevel.MEMBER, at, edited)
        if not await hearth.moderation.check(check):
            return None
        return await handler(event, data)
