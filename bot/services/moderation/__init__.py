"""Moderation: the automatic rules on every message, warnings, manual actions, reports and
the audit log.

`ModerationService` is a thin facade over the parts: `rules` (the pure per-message decision),
`executor` (reads what the rules ask for and carries out their verdict), `stopwords`,
`punishments` (warn, mute, kick, ban, ...), `reports` and `audit` (the log chat and /modlog).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock, SystemTimer, Timer
from bot.db import Database
from bot.invalidation import Changes
from bot.locks import Locks
from bot.notifier import Notifier, Outcome
from bot.services.ledger import Ledger
from bot.services.members import AdminGuard
from bot.services.moderation.audit import AuditLog
from bot.services.moderation.executor import Executor
from bot.services.moderation.parts import Deps
from bot.services.moderation.punishments import Punishments
from bot.services.moderation.reports import Reports
from bot.services.moderation.stopwords import StopWords
from bot.services.moderation.values import (
    AUTO_ACTION_KEEP,
    UNPOST,
    Action,
    Incoming,
    ReportResult,
    WarnResult,
)
from bot.services.pace import Pace
from bot.services.people import Person
from bot.services.settings import SettingsService
from models.moderation import ModerationRepository, Report, Warning_

__all__ = [
    "UNPOST",
    "Action",
    "Incoming",
    "ModerationService",
    "ReportResult",
    "WarnResult",
]


class ModerationService:
    """Applies the chat's rules and the admins' decisions, and records every action."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        admins: AdminGuard,
        pace: Pace,
        *,
        timer: Timer | None = None,
        ledger: Ledger | None = None,
        changes: Changes | None = None,
        locks: Locks | None = None,
    ) -> None:
        timer = timer if timer is not None else SystemTimer()
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self.pace = pace
        self._audit = AuditLog(
            db, clock, notifier, settings, timer=timer, ledger=ledger, changes=changes
        )
        self._words = StopWords(db, timer=timer, changes=changes)
        locks = locks if locks is not None else Locks()
        deps = Deps(db, clock, notifier, settings, admins, pace, self._audit, locks)
        self._punishments = Punishments(deps)
        self._reports = Reports(deps, self._punishments)
        self._executor = Executor(deps, self._words, self._punishments)

    async def check(self, message: Incoming) -> bool:
        """Apply the automatic rules; False when the message was removed."""
        return await self._executor.check(message)

    async def prune_counters(self) -> None:
        """Scheduled: forget counters, and keys of automatic actions, that can no longer
        matter (Telegram keeps an undelivered update for 24 hours)."""
        now = self._clock.now()
        await self.pace.prune(now.timestamp())
        async with self._db.transaction() as session:
            await ModerationRepository(session).prune_auto_actions(now - AUTO_ACTION_KEEP)

    async def release(self, chat_id: int, user_id: int) -> None:
        """Lift a verification hold, unless a mute still runs."""
        await self._punishments.release(chat_id, user_id)

    async def unpost(self, chat_id: int, message_id: int) -> None:
        """Deadline action: remove a notice."""
        await self._notifier.delete(chat_id, message_id)

    async def stop_words(self, chat_id: int) -> list[str]:
        return await self._words.list(chat_id)

    async def add_stop_word(self, chat_id: int, phrase: str) -> str | None:
        """Store a phrase (normalised); None if it was there already."""
        return await self._words.add(chat_id, phrase)

    async def remove_stop_word(self, chat_id: int, phrase: str) -> bool:
        return await self._words.remove(chat_id, phrase)

    async def warn(
        self, chat_id: int, target: Person, actor_id: int | None, reason: str
    ) -> WarnResult:
        """Add a warning; at `warn_limit` apply `warn_action` and start counting afresh."""
        return await self._punishments.warn(chat_id, target, actor_id, reason)

    async def unwarn(self, chat_id: int, target_id: int, actor_id: int | None) -> int | None:
        """Remove the latest active warning; the number left, or None if there was none."""
        return await self._punishments.unwarn(chat_id, target_id, actor_id)

    async def warnings(self, chat_id: int, user_id: int) -> list[Warning_]:
        return await self._punishments.warnings(chat_id, user_id)

    async def act(
        self,
        chat_id: int,
        actor_id: int | None,
        target: Person,
        action: Action,
        duration: timedelta | None = None,
        reason: str = "",
    ) -> tuple[Outcome, datetime | None]:
        """Mute, unmute, kick, ban or unban; admins are never targets."""
        return await self._punishments.act(chat_id, actor_id, target, action, duration, reason)

    async def report(
        self,
        chat_id: int,
        message_id: int,
        reporter: Person,
        target: Person,
        text: str,
        reason: str,
    ) -> ReportResult:
        return await self._reports.report(chat_id, message_id, reporter, target, text, reason)

    async def resolve_report(
        self, report_id: int, admin_id: int, choice: str
    ) -> tuple[str, Report | None]:
        """An admin pressed a report button (see `Reports.resolve`)."""
        return await self._reports.resolve(report_id, admin_id, choice)

    async def modlog(self, chat_id: int, limit: int) -> list[str]:
        return await self._audit.modlog(chat_id, limit)

    async def log_chat(self, chat_id: int) -> int | None:
        return await self._audit.log_chat(chat_id)

    async def set_log_chat(self, chat_id: int, log_chat_id: int | None) -> None:
        await self._audit.set_log_chat(chat_id, log_chat_id)

    def forget(self, chat_id: int) -> None:
        """Drop what is cached about the chat (its stop words, log chats)."""
        self._words.forget(chat_id)
        self._audit.forget()

    def forget_stop_words(self, chat_id: int) -> None:
        """Another process changed the chat's stop words."""
        self._words.forget(chat_id)

    def forget_log_chat(self, chat_id: int) -> None:
        """Another process changed the chat's log chat."""
        self._audit.forget_chat(chat_id)

    def clear(self) -> None:
        """Drop every cached stop word and log chat (changes may have gone unheard)."""
        self._words.clear()
        self._audit.forget()

    async def stop_logs_into(self, log_chat_id: int) -> list[int]:
        """`/setlog off` in a log chat: every chat that logs into it stops."""
        return await self._audit.stop_logs_into(log_chat_id)
