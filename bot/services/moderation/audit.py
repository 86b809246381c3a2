"""The audit log: every moderation action stored, posted to the chat's log chat if it has
one, and listed by /modlog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.clock import Clock, SystemTimer, Timer
from bot.db import Database
from bot.expiring import Expiring
from bot.invalidation import Changes, Kind
from bot.notifier import Notifier
from bot.services.ledger import Ledger, LedgerKind
from bot.services.moderation.values import REASON_LIMIT, Action
from bot.services.settings import CACHE_TTL, SettingsService
from bot.views import moderation as views
from models.chats import ChatRepository
from models.moderation import ModAction, ModerationRepository

LOG_CHAT_KEY = "log_chat"
COUNTED = {
    Action.WARN: LedgerKind.WARNED,
    Action.MUTE: LedgerKind.MUTED,
    Action.FLOOD: LedgerKind.MUTED,
    Action.BAN: LedgerKind.BANNED,
    Action.REPORT: LedgerKind.REPORTED,
}
"""Actions the activity ledger counts for their target (a kick counts as "removed" when the
member leaves)."""


class AuditLog:
    """Records actions and knows each chat's log chat (cached briefly)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        *,
        timer: Timer | None = None,
        ledger: Ledger | None = None,
        changes: Changes | None = None,
    ) -> None:
        self._db = db
        self._changes = changes
        self._ledger = ledger
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._log_chats: Expiring[int, int | None] = Expiring(CACHE_TTL, self._timer)

    async def record(
        self,
        chat_id: int,
        actor_id: int | None,
        target_id: int,
        action: Action,
        reason: str,
        until: datetime | None = None,
        *,
        post: bool = True,
    ) -> None:
        """Store an action; unless `post` is False, also post it to the chat's log chat."""
        entry = ModAction(
            chat_id=chat_id,
            actor_id=actor_id,
            target_id=target_id,
            action=action.value,
            reason=reason[:REASON_LIMIT],
            created_at=self._clock.now(),
            until=until,
        )
        async with self._db.transaction() as session:
            repo = ModerationRepository(session)
            await repo.log(entry)
            names = await repo.names({i for i in (actor_id, target_id) if i is not None})
        if self._ledger is not None and action in COUNTED:
            self._ledger.count(chat_id, target_id, COUNTED[action], entry.created_at)
        log_chat = await self.log_chat(chat_id) if post else None
        if log_chat is not None:
            config = await self._settings.get(chat_id)
            title = await self.chat_title(chat_id)
            line = views.log_line(config.language, config.timezone, entry, names, title)
            await self._notifier.send(log_chat, line)

    async def shown(
        self, chat_id: int, viewers: Sequence[int | None], member_id: int, what: str
    ) -> None:
        """Record that a member's private words were shown to `viewers` (admins; None: a log
        chat). Stored only: /modlog and the log chat never list these."""
        async with self._db.transaction() as session:
            await ModerationRepository(session).log_shown(
                chat_id, viewers, member_id, what, self._clock.now()
            )

    async def modlog(self, chat_id: int, limit: int) -> list[str]:
        """The latest entries as lines for the chat itself (reporters stay anonymous)."""
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            repo = ModerationRepository(session)
            entries = await repo.recent_actions(chat_id, limit)
            ids = {entry.target_id for entry in entries}
            ids |= {entry.actor_id for entry in entries if entry.actor_id is not None}
            names = await repo.names(ids)
        return [
            views.log_line(config.language, config.timezone, entry, names, public=True)
            for entry in entries
        ]

    async def log_chat(self, chat_id: int) -> int | None:
        return await self._log_chats.get(chat_id, lambda: self._read(chat_id))

    async def _read(self, chat_id: int) -> int | None:
        async with self._db.transaction() as session:
            stored = (await ChatRepository(session).settings(chat_id)).get(LOG_CHAT_KEY)
        return int(stored) if stored and stored != "off" else None

    async def set_log_chat(self, chat_id: int, log_chat_id: int | None) -> None:
        async with self._db.transaction() as session:
            await ChatRepository(session).put_setting(
                chat_id, LOG_CHAT_KEY, str(log_chat_id) if log_chat_id is not None else "off"
            )
        self._log_chats.put(chat_id, log_chat_id)
        await self._publish(chat_id)

    async def _publish(self, *chat_ids: int) -> None:
        """After the commit: other processes drop their cached log chat of these chats."""
        if self._changes is not None:
            for chat_id in chat_ids:
                await self._changes.publish(Kind.LOG_CHAT, chat_id)

    def forget_chat(self, chat_id: int) -> None:
        """Drop the cached log chat of one chat (another process changed it)."""
        self._log_chats.forget(chat_id)

    def forget(self) -> None:
        """Drop every cached log chat (a chat moved: others may have logged into it; or
        changes may have gone unheard)."""
        self._log_chats.clear()

    async def stop_logs_into(self, log_chat_id: int) -> list[int]:
        """Stop every chat that posts its log into `log_chat_id`; their ids."""
        async with self._db.transaction() as session:
            stopped = await ChatRepository(session).clear_setting_where(
                LOG_CHAT_KEY, str(log_chat_id), "off"
            )
        for chat_id, target in self._log_chats.kept().items():
            if target == log_chat_id:
                self._log_chats.put(chat_id, None)
        await self._publish(*stopped)
        return stopped

    async def chat_title(self, chat_id: int) -> str:
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        return chat.title if chat else str(chat_id)
