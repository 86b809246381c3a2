"""aiogram objects → the plain values services take."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import Chat, Message, MessageOriginChannel, User

from bot.services.moderation import Incoming
from bot.services.people import ChatRef, Person

LINK_ENTITIES = ("url", "text_link")
MENTION_ENTITIES = ("mention", "text_mention")


def person(user: User) -> Person:
    return Person(
        id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        is_bot=user.is_bot,
    )


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(id=chat.id, title=chat.title or chat.full_name or str(chat.id), type=chat.type)


def thread_of(message: Message) -> int | None:
    """The forum topic a message was posted in; None for General (and ordinary chats)."""
    return message.message_thread_id if message.is_topic_message else None


async def is_upgrade(message: Message) -> bool:
    """Telegram's note that a group became a supergroup (in the old chat and in the new one):
    it describes the move, nobody posted it. A coroutine, so it serves as an aiogram filter
    too (aiogram runs plain callables in a worker thread)."""
    return message.migrate_to_chat_id is not None or message.migrate_from_chat_id is not None


def incoming(message: Message, sender: Person, level: str, at: datetime, edited: bool) -> Incoming:
    """What the moderation rules need to know about a group message."""
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or []
    mentions = tuple(
        entity.extract_from(text).lstrip("@") for entity in entities if entity.type == "mention"
    )
    return Incoming(
        chat_id=message.chat.id,
        message_id=message.message_id,
        sender=sender,
        level=level,
        at=at,
        text=text,
        has_link=any(entity.type in LINK_ENTITIES for entity in entities),
        mentions=mentions,
        mention_count=sum(1 for entity in entities if entity.type in MENTION_ENTITIES),
        from_channel=isinstance(message.forward_origin, MessageOriginChannel),
        edited=edited,
        command=text.startswith("/"),
        thread=message.message_thread_id if message.is_topic_message else None,
    )
