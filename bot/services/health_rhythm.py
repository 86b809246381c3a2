"""The chat's rhythm for the /stats card: messages and reactions by weekday and hour in the
chat's own time zone, and the daily trend of alive people and messages.

Read from the ledger's hourly rows (days already rolled up have no hour and are left out).
Like every health figure, nothing from fewer than `MIN_PEOPLE` people is given (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.services.health import MIN_PEOPLE, HealthService
from bot.services.ledger import Ledger
from bot.services.settings import SettingsService
from models.ledger import LedgerKind, LedgerRepository, day_of

__all__ = ["HOURS", "WEEKDAYS", "HealthRhythm", "Rhythm", "TrendDay"]

WEEKDAYS = 7  # rows of the heatmap, Monday first
HOURS = 24  # columns, 00 to 23 local time


@dataclass(frozen=True)
class TrendDay:
    """One UTC day of the trend; None: fewer than 3 people."""

    day: date
    alive: int | None
    messages: int | None


@dataclass(frozen=True)
class Rhythm:
    """`heatmap[weekday][hour]`: messages and reactions at that local hour (Monday = 0) over
    the period; None when fewer than 3 people made them. `zone` names the time zone."""

    zone: str
    heatmap: list[list[int]] | None
    trend: list[TrendDay]

    @property
    def busiest(self) -> tuple[int, int] | None:
        """(weekday, hour) of the busiest cell, or None without activity to show."""
        if self.heatmap is None:
            return None
        value, weekday, hour = max(
            (count, day, hour)
            for day, row in enumerate(self.heatmap)
            for hour, count in enumerate(row)
        )
        return (weekday, hour) if value > 0 else None


class HealthRhythm:
    """Reads the heatmap (in the chat's time zone) and the daily trend for one chat."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ledger: Ledger,
        settings: SettingsService,
        health: HealthService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._settings = settings
        self._health = health

    async def heatmap(self, chat_id: int, days: int) -> tuple[str, list[list[int]] | None]:
        """(time zone name, weekday x hour counts) over the last `days` days (today included,
        UTC days as the other figures); None when fewer than 3 people were active."""
        await self._ledger.flush_quietly()
        zone = (await self._settings.get(chat_id)).timezone
        until = day_of(self._clock.now()) + timedelta(days=1)
        since = until - timedelta(days=days)
        async with self._db.transaction() as session:
            hours, people = await LedgerRepository(session).hourly_activity(chat_id, since, until)
        if 0 < people < MIN_PEOPLE:
            return zone.key, None
        grid = [[0] * HOURS for _ in range(WEEKDAYS)]
        for bucket, count in hours:
            local = bucket.astimezone(zone)
            grid[local.weekday()][local.hour] += count
        return zone.key, grid

    async def rhythm(self, chat_id: int, days: int) -> Rhythm:
        """The heatmap and the daily trend of alive people and messages over `days` days."""
        zone, grid = await self.heatmap(chat_id, days)
        trend = [
            TrendDay(one.day, one.alive(), one.figure(LedgerKind.MESSAGE.value))
            for one in await self._health.daily(chat_id, days)
        ]
        return Rhythm(zone, grid, trend)
