"""Circles: mini-groups by interest inside a chat (see book.py, proposals.py, calls.py and
weekly.py). `CircleService` holds the four parts; `build_circles` is their wiring."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.circles.book import Added, CircleBook, CircleInfo, Menu
from bot.services.circles.calls import Call, Called, CallResult, CircleCalls
from bot.services.circles.proposals import Proposals, Proposed, Supported
from bot.services.circles.rules import hashtag_keys
from bot.services.circles.weekly import CircleWeekly
from bot.services.core import ServiceCore

__all__ = [
    "Added",
    "Call",
    "CallResult",
    "Called",
    "CircleInfo",
    "CircleService",
    "Menu",
    "Proposed",
    "Supported",
    "build_circles",
]


@dataclass(frozen=True)
class CircleService:
    book: CircleBook
    proposals: Proposals
    calls: CircleCalls
    weekly: CircleWeekly

    async def hashtags(self, call: Call, text: str) -> list[tuple[str, CallResult]]:
        """The calls a group message makes with `#name`: cheap for the many messages
        without a `#`, and without a query for hashtags that name no circle (cached keys)."""
        keys = hashtag_keys(text)
        if not keys:
            return []
        known = await self.book.keys(call.chat_id)
        return [(key, await self.calls.call(call, key)) for key in keys if key in known]

    async def offer(self, chat_id: int, user_id: int) -> None:
        await self.book.offer(chat_id, user_id)

    async def member_left(self, chat_id: int, user_id: int) -> None:
        await self.book.member_left(chat_id, user_id)


def build_circles(c: ServiceCore) -> CircleService:
    """The four parts, wired; the outbox is woken after private messages are queued."""
    wake = c.outbox.wake
    book = CircleBook(
        c.db, c.clock, c.notifier, c.chat_settings, wake, timer=c.timer, changes=c.invalidations
    )
    return CircleService(
        book=book,
        proposals=Proposals(c.db, c.clock, c.notifier, c.chat_settings, book),
        calls=CircleCalls(c.db, c.clock, c.notifier, c.chat_settings, wake),
        weekly=CircleWeekly(c.db, c.clock, c.notifier, c.chat_settings, wake),
    )
