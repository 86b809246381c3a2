"""Small helpers shared by command handlers."""

from __future__ import annotations

from aiogram.types import Message

from bot.context import Hearth
from bot.i18n import t

GROUP_TYPES = ("group", "supergroup")


async def reply(hearth: Hearth, message: Message, text: str) -> None:
    """Answer a command in the chat it came from, as a reply to it."""
    await hearth.notifier.send(message.chat.id, text, reply_to=message.message_id)


async def is_admin(hearth: Hearth, message: Message) -> bool:
    user_id = message.from_user.id if message.from_user else 0
    sender_chat = message.sender_chat.id if message.sender_chat else None
    return await hearth.admins.is_admin(message.chat.id, user_id, sender_chat)


async def require_group_admin(hearth: Hearth, message: Message, lang: str) -> bool:
    """True for an admin in a group; otherwise replies why not and returns False."""
    if message.chat.type not in GROUP_TYPES:
        await reply(hearth, message, t(lang, "errors.group_only"))
        return False
    if not await is_admin(hearth, message):
        await reply(hearth, message, t(lang, "errors.not_admin"))
        return False
    return True
