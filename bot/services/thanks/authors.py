"""Who wrote which recent message, for 12 hours: a reaction names the message, not its author.

A `message_reaction` update names the message but not its author, and Hearth never stores
group messages; so the group path remembers (chat, message) -> author for the last `RECENT`
only. `RecentAuthors` keeps them in this process, bounded to `LIMIT` entries (all there is
without Redis: one process). With Redis, `SharedAuthors` (authors_redis.py) keeps them there
too, so a reaction that reaches another process, or comes after a restart, still finds the
author. A reaction to an older message finds none and is not a thanks: the "receiver wrote
within the last 12 hours" rule, kept without a table.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Protocol

RECENT = timedelta(hours=12)
LIMIT = 200_000  # about 30 MB at most; the oldest go first


class Authors(Protocol):
    def seen(self, chat_id: int, message_id: int, user_id: int, at: datetime) -> None:
        """A person's message in a group (the per-message path: never waits for I/O)."""

    async def author(self, chat_id: int, message_id: int, now: datetime) -> int | None:
        """The author of a message written within `RECENT`, if known."""

    async def forget_person(self, user_id: int) -> None:
        """/forget: drop the person's recent messages."""

    async def settle(self) -> None:
        """Wait until what `seen` was told is where other processes look (shutdown, tests)."""


class RecentAuthors:
    """(chat, message) -> (author, when) in this process, oldest first."""

    def __init__(self, recent: timedelta = RECENT, limit: int = LIMIT) -> None:
        self._recent = recent
        self._limit = limit
        self._seen: OrderedDict[tuple[int, int], tuple[int, datetime]] = OrderedDict()

    def seen(self, chat_id: int, message_id: int, user_id: int, at: datetime) -> None:
        """A person's message in a group (the per-message path: a dict write)."""
        self._seen[(chat_id, message_id)] = (user_id, at)
        self._prune(at)

    async def author(self, chat_id: int, message_id: int, now: datetime) -> int | None:
        return self.known(chat_id, message_id, now)

    def known(self, chat_id: int, message_id: int, now: datetime) -> int | None:
        """The author of a message written within `RECENT`, if this process saw it."""
        found = self._seen.get((chat_id, message_id))
        if found is None or now - found[1] > self._recent:
            return None
        return found[0]

    async def forget_person(self, user_id: int) -> None:
        self.forget_here(user_id)

    def forget_here(self, user_id: int) -> None:
        """Drop the person's recent messages from this process."""
        for key in [key for key, (author, _) in self._seen.items() if author == user_id]:
            del self._seen[key]

    async def settle(self) -> None:
        return None

    def _prune(self, now: datetime) -> None:
        while self._seen:
            key, (_, at) = next(iter(self._seen.items()))
            if len(self._seen) <= self._limit and now - at <= self._recent:
                return
            del self._seen[key]
