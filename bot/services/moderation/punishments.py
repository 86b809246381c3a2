"""Warnings and the manual actions: warn, unwarn, mute, unmute, kick, ban, unban."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.i18n import pick_language
from bot.notifier import Outcome
from bot.services.moderation.parts import Part
from bot.services.moderation.values import PUNISHING, REASON_LIMIT, Action, WarnResult
from bot.services.people import Person
from bot.services.settings import ChatConfig
from bot.views import moderation as views
from models.moderation import ModerationRepository, Warning_
from models.users import UserRepository

WARN_TIMEOUT = 60.0  # seconds; a warning tells the person and may restrict them


class Punishments(Part):
    """Applies the admins' decisions (and the warning limit), tells the person concerned and
    records each action in the audit log."""

    async def warn(
        self, chat_id: int, target: Person, actor_id: int | None, reason: str
    ) -> WarnResult:
        """Add a warning; at `warn_limit` apply `warn_action` and start counting afresh.

        Warnings of one person are handled one at a time, in whichever process, so a burst of
        stop-word hits neither skips the limit nor punishes twice."""
        async with self._locks.lock(f"warn:{chat_id}:{target.id}", WARN_TIMEOUT):
            return await self._warn(chat_id, target, actor_id, reason)

    async def _warn(
        self, chat_id: int, target: Person, actor_id: int | None, reason: str
    ) -> WarnResult:
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        reason = reason[:REASON_LIMIT]
        async with self._db.transaction() as session:
            repo = ModerationRepository(session)
            await repo.add_warning(
                Warning_(
                    chat_id=chat_id,
                    user_id=target.id,
                    actor_id=actor_id,
                    reason=reason,
                    created_at=now,
                    expires_at=now + config.warn_expiry,
                    active=True,
                )
            )
            active = await repo.active_warnings(chat_id, target.id, now)
        await self._audit.record(chat_id, actor_id, target.id, Action.WARN, reason)
        count, limit = len(active), config.warn_limit
        language = await self._language_of(target, config)
        title = await self._audit.chat_title(chat_id)
        await self._notifier.send(
            target.id, views.warned_private(language, title, reason, count, limit)
        )
        if count < limit:
            return WarnResult(count, limit)
        action = Action(config.warn_action)
        duration = config.warn_mute if action is Action.MUTE else None
        label = views.warn_limit_reason(config.language, limit)
        outcome, until = await self._apply(chat_id, target, None, action, duration, label)
        if outcome is Outcome.DONE:  # spent; if it failed they stay, so the next one escalates
            async with self._db.transaction() as session:
                await ModerationRepository(session).spend_warnings([w.id for w in active])
        return WarnResult(count, limit, action, outcome, until)

    async def unwarn(self, chat_id: int, target_id: int, actor_id: int | None) -> int | None:
        """Remove the latest active warning; the number left, or None if there was none."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            active = await ModerationRepository(session).active_warnings(chat_id, target_id, now)
            if not active:
                return None
            active[-1].active = False
        await self._audit.record(chat_id, actor_id, target_id, Action.UNWARN, "")
        return len(active) - 1

    async def warnings(self, chat_id: int, user_id: int) -> list[Warning_]:
        async with self._db.transaction() as session:
            return await ModerationRepository(session).active_warnings(
                chat_id, user_id, self._clock.now()
            )

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
        if await self._admins.is_admin(chat_id, target.id):
            return Outcome.TARGET_ADMIN, None
        return await self._apply(chat_id, target, actor_id, action, duration, reason[:REASON_LIMIT])

    async def _apply(
        self,
        chat_id: int,
        target: Person,
        actor_id: int | None,
        action: Action,
        duration: timedelta | None,
        reason: str,
    ) -> tuple[Outcome, datetime | None]:
        now = self._clock.now()
        until = now + duration if duration else None
        if action is Action.MUTE:
            outcome = await self._notifier.mute(chat_id, target.id, until)
        elif action is Action.UNMUTE:
            outcome = await self._notifier.unmute(chat_id, target.id)
        elif action is Action.KICK:
            outcome, until = await self._notifier.kick(chat_id, target.id, now), None
        elif action is Action.BAN:
            outcome = await self._notifier.ban(chat_id, target.id, until)
        elif action is Action.UNBAN:
            outcome = await self._notifier.unban(chat_id, target.id)
        else:
            raise ValueError(action)
        if outcome is not Outcome.DONE:
            return outcome, None
        if action in (Action.UNMUTE, Action.UNBAN):  # their next messages are welcome again
            await self._pace.release(f"e:{chat_id}:{target.id}")
        await self._audit.record(chat_id, actor_id, target.id, action, reason, until)
        if action in PUNISHING:
            config = await self._settings.get(chat_id)
            language = await self._language_of(target, config)
            title = await self._audit.chat_title(chat_id)
            text = views.punished_private(
                language, action.value, title, reason, until, config.timezone
            )
            await self._notifier.send(target.id, text)
        return outcome, until

    async def release(self, chat_id: int, user_id: int) -> None:
        """Lift a verification hold, unless a mute still runs (it outlives leaving and
        rejoining): then the mute is put back for the time it has left."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            latest = await ModerationRepository(session).latest_restriction(chat_id, user_id)
        still_muted = latest is not None and latest.action != Action.UNMUTE
        if latest is not None and still_muted and (latest.until is None or latest.until > now):
            await self._notifier.mute(chat_id, user_id, latest.until)
            return
        await self._notifier.release(chat_id, user_id)

    async def _language_of(self, person: Person, config: ChatConfig) -> str:
        code = person.language_code
        if code is None:
            async with self._db.transaction() as session:
                user = await UserRepository(session).get(person.id)
            code = user.language_code if user else None
        return pick_language(code, config.language)
