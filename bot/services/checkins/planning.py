"""Planning: one round per chat at its next weekly slot, following changes of the settings."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.checkin_schedule import latest_slot, next_slot, week_of
from bot.services.checkins.common import Deps
from bot.services.settings import ChatConfig
from models.checkin_repository import CheckinRepository
from models.checkins import RoundStatus

log = logging.getLogger(__name__)


def deadlines(start: datetime, config: ChatConfig) -> tuple[datetime, datetime | None]:
    """When a round starting at `start` closes, and when its reminder goes (if any)."""
    reminder, window = config.checkin_reminder, config.checkin_window
    remind = start + reminder if reminder is not None and reminder < window else None
    return start + window, remind


def round_values(
    chat_id: int, week: str, start: datetime, config: ChatConfig, *, manual: bool
) -> dict[str, object]:
    """The columns of a new planned round."""
    closes, remind = deadlines(start, config)
    return {
        "chat_id": chat_id,
        "week": week,
        "status": RoundStatus.PLANNED,
        "starts_at": start,
        "closes_at": closes,
        "remind_at": remind,
        "reminded": False,
        "manual": manual,
    }


def plan_stamp(config: ChatConfig, now: datetime) -> tuple[object, ...]:
    """What planning a chat depends on besides the rounds themselves (which it writes)."""
    slot, zone = config.checkin, config.timezone
    if slot is None:
        return (tuple(sorted(config.values.items())),)
    latest = latest_slot(slot, now, zone)
    return (
        tuple(sorted(config.values.items())),
        next_slot(slot, now, zone),
        latest,
        now < latest + config.checkin_window,
    )


class Planner:
    """Keeps the planned rounds in step with each chat's `checkin` settings."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._planned: dict[int, tuple[object, ...]] = {}  # per chat: what it was planned for

    async def plan(self) -> int:
        """Keep one planned round per chat at its next slot; follow changes of the setting."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            enabled = await repo.enabled_chats()
            planned = await repo.planned_ahead(now)
        chats = enabled | {r.chat_id for r in planned}
        self._planned = {c: v for c, v in self._planned.items() if c in chats}
        for chat_id in sorted(chats):
            try:
                config = await self._deps.settings.get(chat_id)
                stamp = plan_stamp(config, now)
                if self._planned.get(chat_id) == stamp:
                    continue  # nothing that planning depends on changed since the last tick
                async with self._deps.db.transaction() as session:
                    await self._plan_chat(session, chat_id, config, now)
                self._planned[chat_id] = stamp
            except Exception:
                log.exception("chat %s: planning its check-in failed", chat_id)
        return 0

    @staticmethod
    async def _plan_chat(
        session: AsyncSession, chat_id: int, config: ChatConfig, now: datetime
    ) -> None:
        repo = CheckinRepository(session)
        slot, zone = config.checkin, config.timezone
        wanted: list[datetime] = []
        if slot is not None:
            wanted.append(next_slot(slot, now, zone))
            latest = latest_slot(slot, now, zone)
            # a slot that passed while the bot was down: only if check-ins ran before it
            if now < latest + config.checkin_window and await repo.any_before(chat_id, latest):
                wanted.append(latest)
        # planned future rounds that no longer match the setting go away
        await repo.drop_planned_except(chat_id, now, wanted)
        for start in wanted:
            week = week_of(start, zone)
            existing = await repo.by_week(chat_id, week)
            if existing is None:
                values = round_values(chat_id, week, start, config, manual=False)
                await repo.add_planned(values)
            elif existing.status == RoundStatus.PLANNED and not existing.manual:
                # follow changes of checkin (within the week), checkin_window, checkin_reminder
                closes, remind = deadlines(start, config)
                if existing.starts_at != start:
                    existing.starts_at = start
                if existing.closes_at != closes:
                    existing.closes_at = closes
                if existing.remind_at != remind:
                    existing.remind_at = remind
