"""Circles count as interests for buddy matching: the volunteer in the newcomer's circle
(or sharing a circle with what the newcomer told /interests) is chosen."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db import Database
from bot.services.circles.interests import with_circles
from bot.services.matching import Candidate, choose_buddy
from models.chats import ChatRepository
from models.circles import Circle, CircleRepository, CircleStatus

CHAT = -100777
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
NEWCOMER, SPORTY, BOOKISH = 500, 10, 11


async def test_a_volunteer_sharing_a_circle_is_preferred(db: Database) -> None:
    async with db.transaction() as session:
        await ChatRepository(session).register(CHAT, "Chat", "supergroup", NOW)
        circles = CircleRepository(session)
        for name, status in (("Yoga", CircleStatus.OPEN), ("chess", CircleStatus.PROPOSED)):
            circle = Circle(
                chat_id=CHAT, name=name, key=name.lower(), status=status,
                created_at=NOW, active_at=NOW,
            )  # fmt: skip
            await circles.add(circle)
        yoga = await circles.by_key(CHAT, "yoga")
        chess = await circles.by_key(CHAT, "chess")
        assert yoga is not None and chess is not None
        await circles.join(yoga.id, SPORTY, "mention", NOW)
        await circles.join(chess.id, BOOKISH, "mention", NOW)  # a proposal is no interest yet
    candidates = [
        Candidate(BOOKISH, frozenset({"chess"}), 0, None),
        Candidate(SPORTY, frozenset(), 1, None),  # busier: chosen only for the shared circle
    ]
    first = choose_buddy(candidates, frozenset({"yoga"}), 3, {NEWCOMER})
    assert first is not None and first.user_id == BOOKISH  # without circles: the less busy

    async with db.transaction() as session:
        wanted, found = await with_circles(
            session, CHAT, (NEWCOMER, frozenset({"yoga"})), candidates
        )

    assert wanted == {"yoga"}
    assert {c.user_id: c.interests for c in found} == {
        BOOKISH: {"chess"},
        SPORTY: {"yoga"},
    }
    chosen = choose_buddy(found, wanted, 3, {NEWCOMER})
    assert chosen is not None and chosen.user_id == SPORTY
