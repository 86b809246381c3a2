"""How long a newcomer's first message waits for someone else's reply (/stats).

The per-message path only touches memory: a newcomer's first message seen by this process
and replies to people who may be newcomers are buffered, and `flush()` writes them with the
activity flush, one conditional update each, so an ordinary message costs no write at all.
Only message ids and times are kept, never text. Each flush forgets which newcomers it has
seen, so a newcomer who wrote since the last flush costs one conditional update per flush
(a no-op once their first message is stored), memory stays bounded, and someone who left
and joined again (their first message reset) is recorded afresh; the update keeps the
first message stored.
"""

from __future__ import annotations

from datetime import datetime

from bot.db import Database
from models.members import MemberRepository, TrustLevel

__all__ = ["FirstReplies"]

Reply = tuple[int, int, int]
"""(chat_id, the replied-to author, the replied-to message id)"""


class FirstReplies:
    """Buffers newcomers' first messages and the first replies to them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._seen: set[tuple[int, int]] = set()  # newcomers who wrote since the last flush
        self._firsts: dict[tuple[int, int], tuple[int, datetime]] = {}
        self._replies: dict[Reply, datetime] = {}

    def message(
        self,
        chat_id: int,
        user_id: int,
        level: str,
        message_id: int,
        at: datetime,
        replied: tuple[int, int, str | None] | None = None,
    ) -> None:
        """A message passed the gate. `replied`: (its author, its id, the author's cached
        trust level or None when unknown) of the message it answers. Memory only."""
        key = (chat_id, user_id)
        if level == TrustLevel.NEWCOMER and key not in self._seen:
            self._seen.add(key)
            self._firsts.setdefault(key, (message_id, at))
        if replied is None:
            return
        author, target, author_level = replied
        if author != user_id and author_level in (TrustLevel.NEWCOMER, None):
            self._replies.setdefault((chat_id, author, target), at)

    def pending(self) -> int:
        return len(self._firsts) + len(self._replies)

    async def flush(self) -> int:
        """Write what was buffered (first messages before replies); returns how many."""
        if not self._firsts and not self._replies:
            return 0
        firsts, self._firsts = self._firsts, {}
        replies, self._replies = self._replies, {}
        self._seen.clear()
        try:
            async with self._db.transaction() as session:
                repo = MemberRepository(session)
                for (chat_id, user_id), (message_id, at) in firsts.items():
                    await repo.note_first_message(chat_id, user_id, message_id, at)
                for (chat_id, author, message_id), at in replies.items():
                    await repo.note_first_reply(chat_id, author, message_id, at)
        except Exception:
            for key, first in firsts.items():  # kept for the next try
                self._firsts.setdefault(key, first)
            for reply, at in replies.items():
                self._replies.setdefault(reply, at)
            raise
        return len(firsts) + len(replies)
