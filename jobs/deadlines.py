"""The deadline sweeper: claims due rows and runs the action of their kind, once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot.clock import Clock
from bot.db import Database
from models.deadlines import DeadlineRepository

log = logging.getLogger(__name__)

Action = Callable[[int, int], Awaitable[None]]
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5


class DeadlineSweeper:
    """Runs due deadlines. A claimed row is leased, so a crash mid-action retries later;
    a finished one is deleted in its own transaction, so nothing runs twice once done."""

    def __init__(self, db: Database, clock: Clock, actions: Mapping[str, Action]) -> None:
        self._db = db
        self._clock = clock
        self._actions = actions

    async def sweep(self) -> int:
        """Run every due deadline; returns how many were handled."""
        handled = 0
        while True:
            now = self._clock.now()
            async with self._db.transaction() as session:
                due = await DeadlineRepository(session).due(now)
            if not due:
                return handled
            for deadline in due:
                async with self._db.transaction() as session:
                    if not await DeadlineRepository(session).claim(deadline.id, now, LEASE):
                        continue
                action = self._actions.get(deadline.kind)
                try:
                    if action is None:
                        log.error("no action for deadline kind %r; dropping it", deadline.kind)
                    else:
                        await action(deadline.chat_id, deadline.user_id)
                except Exception:
                    log.exception(
                        "deadline %s (%s) failed on attempt %d",
                        deadline.id,
                        deadline.kind,
                        deadline.attempts + 1,
                    )
                    if deadline.attempts + 1 < MAX_ATTEMPTS:
                        continue
                async with self._db.transaction() as session:
                    repo = DeadlineRepository(session)
                    current = await repo.get(deadline.kind, deadline.chat_id, deadline.user_id)
                    # the action itself may have cancelled it, or a new one replaced it
                    if current is not None and current.due_at <= now:
                        await repo.done(current.id)
                handled += 1
            if len(due) < 50:
                return handled
