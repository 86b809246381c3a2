"""Plain descriptions of people and chats, as services see them (no aiogram types)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or str(self.id)

    @property
    def mention(self) -> str:
        """An HTML mention that works without a username."""
        return mention(self.id, self.full_name)


@dataclass(frozen=True)
class ChatRef:
    id: int
    title: str
    type: str = "supergroup"


def mention(user_id: int, name: str) -> str:
    shown = escape(name[:64] or str(user_id))
    return f'<a href="tg://user?id={user_id}">{shown}</a>'
