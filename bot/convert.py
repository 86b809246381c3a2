"""aiogram objects → the plain values services take."""

from __future__ import annotations

from aiogram.types import Chat, User

from bot.services.people import ChatRef, Person


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
