"""An idea as views draw it (a plain value, no session attached), and the names behind it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.ideas import Idea, IdeaStatus
from models.users import User


@dataclass(frozen=True)
class IdeaCard:
    """One idea: `author` is None once its author was forgotten (/forget)."""

    id: int
    chat_id: int
    author_id: int
    author: str | None
    text: str
    status: IdeaStatus
    comment: str | None
    up: int
    down: int
    message_id: int | None


def card_of(idea: Idea, author: str | None) -> IdeaCard:
    return IdeaCard(
        id=idea.id,
        chat_id=idea.chat_id,
        author_id=idea.author_id,
        author=author,
        text=idea.text,
        status=IdeaStatus(idea.status),
        comment=idea.comment,
        up=idea.up,
        down=idea.down,
        message_id=idea.message_id,
    )


async def names_of(session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    """Full names of the people the bot knows among `user_ids` (a forgotten author is
    not among them)."""
    if not user_ids:
        return {}
    rows = await session.execute(select(User).where(User.id.in_(set(user_ids))))
    return {user.id: user.full_name for user in rows.scalars()}
