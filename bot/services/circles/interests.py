"""Circles count as interests for buddy matching: a person's circles in the chat join the
interests they told /interests (circle keys are normalised as interests are)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.matching import Candidate
from models.circles import CircleRepository


async def with_circles(
    session: AsyncSession,
    chat_id: int,
    newcomer: tuple[int, frozenset[str]],
    candidates: list[Candidate],
) -> tuple[frozenset[str], list[Candidate]]:
    """The newcomer's interests and the candidates', each with their circles added."""
    newcomer_id, wanted = newcomer
    people = {newcomer_id, *(c.user_id for c in candidates)}
    circles = await CircleRepository(session).keys_by_person(chat_id, people)
    return wanted | circles.get(newcomer_id, set()), [
        replace(c, interests=c.interests | circles.get(c.user_id, set())) for c in candidates
    ]
