"""What circles keep about a person, for /mydata and /forget (bot/services/privacy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.circles import Circle, CircleCall, CircleMember


async def export_circles(
    session: AsyncSession, user_id: int, title: dict[int, str]
) -> dict[str, Any]:
    """The person's circles (chat, name, how calls reach them, since when), how many calls
    they made, and the circles they proposed."""
    rows = await session.execute(
        select(Circle.chat_id, Circle.name, CircleMember.delivery, CircleMember.joined_at)
        .join(Circle, Circle.id == CircleMember.circle_id)
        .where(CircleMember.user_id == user_id)
        .order_by(Circle.chat_id, Circle.key)
    )
    calls = await session.scalar(
        select(func.count()).select_from(CircleCall).where(CircleCall.caller_id == user_id)
    )
    proposed = await session.execute(
        select(Circle.chat_id, Circle.name).where(Circle.proposed_by == user_id)
    )
    return {
        "circles": [
            {
                "chat": title.get(int(chat_id), ""),
                "circle": name,
                "calls_reach_me": delivery,
                "joined_at": joined_at.isoformat(),
            }
            for chat_id, name, delivery, joined_at in rows.all()
        ],
        "circle_calls_made": int(calls or 0),
        "circles_proposed": [
            {"chat": title.get(int(chat_id), ""), "circle": name}
            for chat_id, name in proposed.all()
        ],
    }


async def forget_circles(session: AsyncSession, user_id: int) -> int:
    """Delete the person's memberships and calls; circles they proposed stay, without
    their name on them. The number of rows deleted."""
    gone = 0
    for model, where in (
        (CircleMember, CircleMember.user_id == user_id),
        (CircleCall, CircleCall.caller_id == user_id),
    ):
        result = await session.execute(
            delete(model).where(where).execution_options(synchronize_session=False)
        )
        gone += int(getattr(result, "rowcount", 0) or 0)
    await session.execute(
        update(Circle)
        .where(Circle.proposed_by == user_id)
        .values(proposed_by=None)
        .execution_options(synchronize_session=False)
    )
    return gone
