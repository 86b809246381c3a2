"""Per-chat settings: validation, storage and a read cache (the registry of keys and their
parsers is bot.services.setting_values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import SystemTimer, Timer
from bot.db import Database
from bot.durations import parse_duration
from bot.expiring import Expiring
from bot.invalidation import Changes, Kind
from bot.services.checkin_schedule import QuietHours, WeeklySlot, parse_quiet, parse_slot
from bot.services.setting_values import GENERAL, BadSettingValue, parse_rate, specs
from models.chats import ChatRepository

# re-exported: services and handlers import these from here
__all__ = [
    "CACHE_TTL",
    "GENERAL",
    "BadSettingValue",
    "ChatConfig",
    "SettingsService",
    "UnknownSetting",
    "parse_rate",
]

CACHE_TTL = 60.0
"""Seconds a chat's settings are cached: with Redis other processes hear of a change at once
(bot/invalidation.py); without it, or while it is down, they see it within this."""


class UnknownSetting(KeyError):
    """No setting has this key."""


@dataclass(frozen=True)
class ChatConfig:
    """The settings of one chat, parsed."""

    values: dict[str, str]

    def raw(self, key: str) -> str:
        return self.values[key]

    @property
    def language(self) -> str:
        return self.values["language"]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.values["timezone"])

    @property
    def topic(self) -> int | None:
        """The forum topic the bot posts to; None for General."""
        value = self.values["topic"]
        return None if value == GENERAL else int(value)

    @property
    def verify_timeout(self) -> timedelta:
        return parse_duration(self.values["verify_timeout"])

    @property
    def probation(self) -> timedelta:
        return parse_duration(self.values["probation"])

    @property
    def veteran_after(self) -> timedelta:
        return parse_duration(self.values["veteran_after"])

    @property
    def buddy_max_load(self) -> int:
        return int(self.values["buddy_max_load"])

    @property
    def buddy_followup(self) -> timedelta | None:
        value = self.values["buddy_followup"]
        return None if value == "off" else parse_duration(value)

    # ---- rules and pace (moderation)
    def _rate_or_none(self, key: str) -> tuple[int, timedelta] | None:
        value = self.values[key]
        return None if value == "off" else parse_rate(value)

    @property
    def flood_limit(self) -> tuple[int, timedelta] | None:
        return self._rate_or_none("flood_limit")

    @property
    def newcomer_flood_limit(self) -> tuple[int, timedelta] | None:
        return self._rate_or_none("newcomer_flood_limit")

    @property
    def flood_mute(self) -> timedelta:
        return parse_duration(self.values["flood_mute"])

    @property
    def slowmode(self) -> timedelta | None:
        value = self.values["slowmode"]
        return None if value == "off" else parse_duration(value)

    @property
    def newcomer_links(self) -> bool:
        return self.values["newcomer_links"] == "on"

    @property
    def newcomer_forwards(self) -> bool:
        return self.values["newcomer_forwards"] == "on"

    @property
    def warn_limit(self) -> int:
        return int(self.values["warn_limit"])

    @property
    def warn_action(self) -> str:
        return self.values["warn_action"]

    @property
    def warn_mute(self) -> timedelta:
        return parse_duration(self.values["warn_mute"])

    @property
    def warn_expiry(self) -> timedelta:
        return parse_duration(self.values["warn_expiry"])

    @property
    def trusted_bots(self) -> frozenset[int]:
        """Other bots whose messages skip the rules (all others are held to flood and
        stop words)."""
        value = self.values["trusted_bots"]
        return frozenset() if value == "off" else frozenset(int(i) for i in value.split(","))

    @property
    def mention_limit(self) -> int | None:
        """The most mentions a newcomer's message may carry; None: no limit."""
        value = self.values["mention_limit"]
        return None if value == "off" else int(value)

    #
    #

    # ---- weekly check-ins and nudges
    @property
    def checkin(self) -> WeeklySlot | None:
        value = self.values["checkin"]
        return None if value == "off" else parse_slot(value)

    @property
    def checkin_window(self) -> timedelta:
        return parse_duration(self.values["checkin_window"])

    @property
    def checkin_reminder(self) -> timedelta | None:
        value = self.values["checkin_reminder"]
        return None if value == "off" else parse_duration(value)

    @property
    def quiet_hours(self) -> QuietHours | None:
        value = self.values["quiet_hours"]
        return None if value == "off" else parse_quiet(value)

    @property
    def nudge_after(self) -> timedelta | None:
        value = self.values["nudge_after"]
        return None if value == "off" else parse_duration(value)

    # ---- community health
    @property
    def health_digest(self) -> WeeklySlot | None:
        """When the admins get the weekly health note (the chat's time zone); None: never."""
        value = self.values["health_digest"]
        return None if value == "off" else parse_slot(value)

    # ---- paid membership
    @property
    def price(self) -> int:
        """Telegram Stars per 30 days; 0 means the chat is free."""
        return int(self.values["price"])

    @property
    def plan(self) -> str:
        return self.values["plan"]

    @property
    def period(self) -> timedelta:
        return parse_duration(self.values["period"])

    @property
    def grace(self) -> timedelta:
        return parse_duration(self.values["grace"])

    @property
    def remind_before(self) -> list[timedelta]:
        """Reminder offsets before the end, longest first."""
        value = self.values["remind_before"]
        if value == "off":
            return []
        return sorted((parse_duration(p) for p in value.split(",")), reverse=True)

    @property
    def trial(self) -> timedelta | None:
        value = self.values["trial"]
        return None if value == "off" else parse_duration(value)

    # ---- privacy and retention
    @property
    def answers_keep(self) -> timedelta:
        """How long check-in answers are kept after their round closes."""
        return parse_duration(self.values["answers_keep"])

    @property
    def reports_keep(self) -> timedelta:
        """How long a reported message's text is kept after the report is resolved."""
        return parse_duration(self.values["reports_keep"])

    @property
    def ideas_newcomers(self) -> bool:
        """Whether newcomers (on probation) may post to the ideas board."""
        return self.values["ideas_newcomers"] == "on"

    @property
    def ledger_hourly(self) -> timedelta:
        """How long the activity ledger keeps hourly rows before rolling them into days."""
        return parse_duration(self.values["ledger_hourly"])


class SettingsService:
    """Reads chat settings (cached) and changes them with validation."""

    def __init__(
        self,
        db: Database,
        default_language: str,
        default_timezone: str,
        *,
        timer: Timer | None = None,
        changes: Changes | None = None,
    ) -> None:
        self._db = db
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._changes = changes
        self.specs = specs(default_language, default_timezone)
        self._cache: Expiring[int, ChatConfig] = Expiring(CACHE_TTL, self._timer)

    @property
    def keys(self) -> list[str]:
        return list(self.specs)

    def defaults(self) -> ChatConfig:
        return ChatConfig({key: spec.default for key, spec in self.specs.items()})

    async def get(self, chat_id: int) -> ChatConfig:
        return await self._cache.get(chat_id, lambda: self._read(chat_id))

    async def _read(self, chat_id: int) -> ChatConfig:
        async with self._db.transaction() as session:
            stored = await ChatRepository(session).settings(chat_id)
        values = {key: spec.default for key, spec in self.specs.items()}
        values.update({key: value for key, value in stored.items() if key in self.specs})
        return ChatConfig(values)

    def validate(self, key: str, raw: str) -> str:
        """The canonical value, or UnknownSetting / BadSettingValue."""
        spec = self.specs.get(key.strip().lower())
        if spec is None:
            raise UnknownSetting(key)
        return spec.parse(raw)

    async def set(self, chat_id: int, key: str, raw: str) -> str:
        """Validate and store one setting; returns the stored (canonical) value."""
        key = key.strip().lower()
        value = self.validate(key, raw)
        async with self._db.transaction() as session:
            await ChatRepository(session).put_setting(chat_id, key, value)
        await self._changed(chat_id)
        return value

    async def replace(self, chat_id: int, key: str, expected: str, value: str) -> bool:
        """Store `value` only if the setting is still `expected`; True when this call changed
        it (of several racing callers, exactly one)."""
        async with self._db.transaction() as session:
            changed = await ChatRepository(session).replace_setting(chat_id, key, expected, value)
        if changed:
            await self._changed(chat_id)
        else:
            self.forget(chat_id)  # someone else changed it: read what they stored
        return changed

    async def _changed(self, chat_id: int) -> None:
        """After the commit: drop the cached copy here and in every other process."""
        self.forget(chat_id)
        if self._changes is not None:
            await self._changes.publish(Kind.SETTINGS, chat_id)

    def forget(self, chat_id: int) -> None:
        """Drop the chat's cached settings (changed here or elsewhere, or the chat moved)."""
        self._cache.forget(chat_id)

    def clear(self) -> None:
        """Drop every cached chat (changes may have gone unheard)."""
        self._cache.clear()
