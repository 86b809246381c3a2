"""Weekly check-ins, small wins and gentle nudges.

Every deadline is a column of a `checkin_rounds` row (start, reminder, close); `tick()` is the
one periodic job: it plans the next round of each chat, then starts, reminds and closes the
rounds that are due, each step claimed by a conditional UPDATE in the same transaction that
queues its messages in the outbox, so a step runs once even across restarts.

The use cases live in the modules of this package; `CheckinService` is the one object the
composition root builds and the handlers call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.locks import Locks
from bot.notifier import Notifier
from bot.services.activity import ActivityTracker
from bot.services.checkins.common import Deps
from bot.services.checkins.flow import MAX_ANSWER_LENGTH, Flow, Prompt
from bot.services.checkins.nudges import Nudges
from bot.services.checkins.planning import Planner
from bot.services.checkins.preferences import MAX_PAUSE, Preferences, Streak
from bot.services.checkins.questions import Question, parse_questions
from bot.services.checkins.rounds import Rounds, StartNow, StartResult
from bot.services.checkins.support import SupportFallback
from bot.services.ledger import Ledger
from bot.services.settings import SettingsService

__all__ = [
    "MAX_ANSWER_LENGTH",
    "MAX_PAUSE",
    "CheckinService",
    "Prompt",
    "Question",
    "StartNow",
    "StartResult",
    "Streak",
    "parse_questions",
]

log = logging.getLogger(__name__)

NUDGE_CHECK_EVERY = timedelta(minutes=1)


class CheckinService:
    """Check-in rounds, the private flow, opt-in, pauses, streaks and nudges."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        activity: ActivityTracker,
        wake_outbox: Callable[[], None],
        ledger: Ledger | None = None,
        locks: Locks | None = None,
    ) -> None:
        locks = locks if locks is not None else Locks()
        deps = Deps(db, clock, notifier, settings, activity, wake_outbox, ledger, locks)
        self._deps = deps
        self._planner = Planner(deps)
        self._rounds = Rounds(deps)
        self._flow = Flow(deps)
        self._preferences = Preferences(deps)
        self._nudges = Nudges(deps)
        self._nudges_checked: datetime | None = None
        # the use cases, by the names handlers, jobs and the composition root call
        self.plan = self._planner.plan
        self.start_due = self._rounds.start_due
        self.remind_due = self._rounds.remind_due
        self.close_due = self._rounds.close_due
        self.start_now = self._rounds.start_now
        self.begin = self._flow.begin
        self.answer_text = self._flow.answer_text
        self.skip = self._flow.skip
        self.share = self._flow.share
        self.offer = self._preferences.offer
        self.set_opt_in = self._preferences.set_opt_in
        self.pause = self._preferences.pause
        self.sweep_held = self._preferences.sweep_held
        self.zone = self._preferences.zone
        self.status = self._preferences.status
        self.streaks = self._preferences.streaks
        self.paused_until = self._preferences.paused_until
        self.questions = self._preferences.questions
        self.set_questions = self._preferences.set_questions
        self.nudge_due = self._nudges.nudge_due
        self.undeliverable = SupportFallback(deps).undeliverable

    async def tick(self) -> int:
        """Plan, start, remind, close and nudge whatever is due; returns the steps taken."""
        steps = 0
        stages: tuple[tuple[str, Callable[[], Awaitable[int]]], ...] = (
            ("planning", self.plan),
            ("starting", self.start_due),
            ("reminding", self.remind_due),
            ("closing", self.close_due),
        )
        for name, stage in stages:
            try:
                steps += await stage() or 0
            except Exception:
                log.exception("check-ins: %s failed", name)
        now = self._deps.clock.now()
        if self._nudges_checked is None or now - self._nudges_checked >= NUDGE_CHECK_EVERY:
            self._nudges_checked = now
            try:
                steps += await self.nudge_due()
            except Exception:
                log.exception("check-ins: nudging failed")
            try:
                await self.sweep_held()
            except Exception:
                log.exception("check-ins: sweeping held messages failed")
        if steps:
            self._deps.wake()
        return steps
