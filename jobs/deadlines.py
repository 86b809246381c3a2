"""The deadline sweeper: claims due rows and runs the action of their kind, once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import update

from bot.clock import Clock
from bot.db import Database
from models.deadlines import Deadline, DeadlineRepository

log = logging.getLogger(__name__)

Action = Callable[[int, int], Awaitable[None]]
LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=60)
MAX_RETRY = timedelta(minutes=10)
LOUD_AFTER = 5  # attempts; from then on every failure is logged as an error


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failure: 1, 2, 4, 8 minutes, then 10."""
    if attempts >= 5:
        return MAX_RETRY
    delay: timedelta = FIRST_RETRY * 2 ** max(0, attempts - 1)
    return min(MAX_RETRY, delay)


class DeadlineSweeper:
    """Runs due deadlines. A claimed row is leased, so a crash mid-action retries later;
    a finished one is deleted in its own transaction, so nothing runs twice once done.
    A failing action is never dropped: it is retried with backoff until it succeeds
    (or is cancelled or replaced), so an outage never loses a removal."""

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
                    await self._failed(deadline, now)
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

    async def _failed(self, deadline: Deadline, now: datetime) -> None:
        attempts = deadline.attempts + 1
        retry_at = now + retry_delay(attempts)
        message = "deadline %s (%s, chat %s, user %s) failed on attempt %d; retrying at %s"
        args = (deadline.id, deadline.kind, deadline.chat_id, deadline.user_id, attempts, retry_at)
        if attempts >= LOUD_AFTER:
            log.error(message, *args, exc_info=True)
        else:
            log.warning(message, *args, exc_info=True)
        async with self._db.transaction() as session:
            # unless the action (or someone) rescheduled it meanwhile: keep their moment
            await session.execute(
                update(Deadline)
                .where(Deadline.id == deadline.id, Deadline.due_at <= now)
                .values(due_at=retry_at, locked_until=None)
            )
