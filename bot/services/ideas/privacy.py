"""/forget and /mydata for the ideas board (bot/services/privacy calls these inside its own
transaction).

/forget anonymises a person's ideas rather than deleting them: an idea was posted to the
whole group on purpose, others voted on it and the admins may already be working on it, so
it stays on the board under "a former member" (the same choice as the moderation log). The
person's votes are deleted and the ideas' counts lowered; the buttons follow at the next
edit pass, which also redraws the person's posts (open or decided) under "a former member".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.ideas import Idea, IdeaRepository, IdeaVote
from models.users import FORMER_MEMBER

SECTIONS = ("ideas", "idea_votes")


async def erase_ideas(session: AsyncSession, user_id: int) -> int:
    """Delete the person's votes (recounting those ideas) and anonymise their ideas;
    the number of votes deleted."""
    voted = list(
        (await session.execute(select(IdeaVote.idea_id).where(IdeaVote.user_id == user_id)))
        .scalars()
        .all()
    )
    result = await session.execute(
        delete(IdeaVote)
        .where(IdeaVote.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    await IdeaRepository(session).recount([int(idea_id) for idea_id in voted])
    await session.execute(
        update(Idea)
        .where(Idea.author_id == user_id)
        # dirty: the edit job redraws these posts, which still name the person
        .values(author_id=FORMER_MEMBER, dirty=True)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def export_ideas(
    session: AsyncSession, user_id: int, title: dict[int, str]
) -> dict[str, list[dict[str, Any]]]:
    """The person's ideas (with their status and counts) and their votes (which idea, which
    way); other voters never appear."""
    ideas = await session.execute(
        select(Idea).where(Idea.author_id == user_id).order_by(Idea.created_at)
    )
    votes = await session.execute(
        select(IdeaVote, Idea)
        .join(Idea, Idea.id == IdeaVote.idea_id)
        .where(IdeaVote.user_id == user_id)
        .order_by(IdeaVote.voted_at)
    )
    return {
        "ideas": [
            {
                "chat": title.get(idea.chat_id, ""),
                "id": idea.id,
                "text": idea.text,
                "status": idea.status,
                "comment": idea.comment,
                "votes_up": idea.up,
                "votes_down": idea.down,
                "posted_at": idea.created_at.isoformat(),
            }
            for idea in ideas.scalars()
        ],
        "idea_votes": [
            {
                "chat": title.get(idea.chat_id, ""),
                "idea": idea.id,
                "vote": "up" if vote.value > 0 else "down",
                "at": vote.voted_at.isoformat(),
            }
            for vote, idea in votes.all()
        ],
    }
