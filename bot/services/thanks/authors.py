"""Who wrote which recent message, kept in memory for 12 hours.

A `message_reaction` update names the message but not its author, and Hearth never stores
group messages; so the group path remembers (chat, message) -> author for the last
`RECENT` only, bounded to `LIMIT` entries. A reaction to an older message, or one that
reaches another process of a scaled-out bot, finds no author and is not a thanks: the
"receiver wrote within the last 12 hours" rule, kept without a table.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

RECENT = timedelta(hours=12)
LIMIT = 200_000  # about 30 MB at most; the oldest go first


class RecentAuthors:
    """(chat, message) -> (author, when), oldest first."""

    def __init__(self, recent: timedelta = RECENT, limit: int = LIMIT) -> None:
        self._recent = recent
        self._limit = limit
        self._seen: OrderedDict[tuple[int, int], tuple[int, datetime]] = OrderedDict()

    def seen(self, chat_id: int, message_id: int, user_id: int, at: datetime) -> None:
        """A person's message in a group (the per-message path: a dict write)."""
        self._seen[(chat_id, message_id)] = (user_id, at)
        self._prune(at)

    def author(self, chat_id: int, message_id: int, now: datetime) -> int | None:
        """The author of a message written within `RECENT`, if this process saw it."""
        found = self._seen.get((chat_id, message_id))
        if found is None or now - found[1] > self._recent:
            return None
        return found[0]

    def forget_person(self, user_id: int) -> None:
        """/forget: drop the person's recent messages."""
        for key in [key for key, (author, _) in self._seen.items() if author == user_id]:
            del self._seen[key]

    def _prune(self, now: datetime) -> None:
        while self._seen:
            key, (_, at) = next(iter(self._seen.items()))
            if len(self._seen) <= self._limit and now - at <= self._recent:
                return
            del self._seen[key]
