"""Per-chat settings: the registry of keys, validation, storage and a read cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import SystemTimer, Timer, parse_zone
from bot.db import Database
from bot.durations import format_duration, parse_duration
from bot.i18n import SUPPORTED
from bot.services.checkin_schedule import QuietHours, WeeklySlot, parse_quiet, parse_slot
from models.chats import ChatRepository

CACHE_TTL = 60.0
"""Seconds a chat's settings are cached: other bot processes see a change within this."""


class UnknownSetting(KeyError):
    """No setting has this key."""


class BadSettingValue(ValueError):
    """The value does not fit the setting; the message is a locale key for the format."""


def _duration(low: timedelta, high: timedelta) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        try:
            value = parse_duration(raw)
        except ValueError:
            raise BadSettingValue() from None
        if not low <= value <= high:
            raise BadSettingValue()
        return format_duration(value)

    return parse


def _integer(low: int, high: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        # isdigit() alone also takes `²` and other digits int() refuses
        if not _ascii_number(value) or not low <= int(value) <= high:
            raise BadSettingValue()
        return str(int(value))

    return parse


def _ascii_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 9


def _optional(parse: Callable[[str], str]) -> Callable[[str], str]:
    """Also accept `off` (and `0`) to turn the feature off."""

    def parse_or_off(raw: str) -> str:
        return "off" if raw.strip().lower() in ("off", "0", "no", "выкл") else parse(raw)

    return parse_or_off


def _switch(raw: str) -> str:
    value = raw.strip().lower()
    if value in ("on", "yes", "1", "вкл", "да"):
        return "on"
    if value in ("off", "no", "0", "выкл", "нет"):
        return "off"
    raise BadSettingValue()


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise BadSettingValue()
        return value

    return parse


def parse_rate(value: str) -> tuple[int, timedelta]:
    """`5/10s` → (5, 10 seconds); ValueError otherwise."""
    count, slash, window = value.strip().partition("/")
    if not slash or not _ascii_number(count.strip()):
        raise ValueError(value)
    return int(count), parse_duration(window)


def _rate(raw: str) -> str:
    try:
        count, window = parse_rate(raw)
    except ValueError:
        raise BadSettingValue() from None
    if not 1 <= count <= 100 or not timedelta(seconds=1) <= window <= timedelta(hours=1):
        raise BadSettingValue()
    return f"{count}/{format_duration(window)}"


def _language(raw: str) -> str:
    value = raw.strip().lower()
    if value not in SUPPORTED:
        raise BadSettingValue()
    return value


def _timezone(raw: str) -> str:
    value = raw.strip()
    try:
        parse_zone(value)
    except ValueError:
        raise BadSettingValue() from None
    return value


GENERAL = "general"
"""The `topic` setting's value for General (a forum's main topic, or any other chat)."""


def _topic(raw: str) -> str:
    """A topic's thread id, or `general`; `/set topic here` is translated by the handler."""
    value = raw.strip().lower()
    if value in (GENERAL, "off", "0"):
        return GENERAL
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) < 2**31:
        raise BadSettingValue()
    return str(int(value))


def _ids(limit: int) -> Callable[[str], str]:
    """Telegram ids separated by commas or spaces, e.g. `123456,7890` (stored sorted)."""

    def parse(raw: str) -> str:
        parts = [p for p in raw.replace(",", " ").split() if p]
        if not parts or len(parts) > limit:
            raise BadSettingValue()
        if not all(p.isascii() and p.isdigit() and len(p) <= 15 for p in parts):
            raise BadSettingValue()
        return ",".join(str(i) for i in sorted({int(p) for p in parts}))

    return parse


def _weekly_slot(raw: str) -> str:
    try:
        return str(parse_slot(raw))
    except ValueError:
        raise BadSettingValue() from None


def _quiet_hours(raw: str) -> str:
    try:
        return str(parse_quiet(raw))
    except ValueError:
        raise BadSettingValue() from None


def _durations(high: timedelta) -> Callable[[str], str]:
    """A comma-separated list of durations, e.g. `3d,1d` (stored longest first)."""

    def parse(raw: str) -> str:
        parts = [p for p in raw.replace(" ", ",").split(",") if p.strip()]
        if not parts or len(parts) > 5:
            raise BadSettingValue()
        try:
            values = {parse_duration(p) for p in parts}
        except ValueError:
            raise BadSettingValue() from None
        if not all(timedelta(minutes=1) <= v <= high for v in values):
            raise BadSettingValue()
        return ",".join(format_duration(v) for v in sorted(values, reverse=True))

    return parse


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str
    parse: Callable[[str], str]


def _specs(default_language: str, default_timezone: str) -> dict[str, SettingSpec]:
    specs = [
        SettingSpec("verify_timeout", "5m", _duration(timedelta(seconds=30), timedelta(days=1))),
        SettingSpec("probation", "7d", _duration(timedelta(0), timedelta(days=365))),
        SettingSpec("veteran_after", "365d", _duration(timedelta(days=1), timedelta(days=3650))),
        SettingSpec("buddy_max_load", "3", _integer(1, 50)),
        SettingSpec(
            "buddy_followup", "3d", _optional(_duration(timedelta(hours=1), timedelta(days=60)))
        ),
        SettingSpec("language", default_language, _language),
        SettingSpec("timezone", default_timezone, _timezone),
        SettingSpec("topic", GENERAL, _topic),  # forums: where welcomes and notices go
        # ---- rules and pace (moderation)
        SettingSpec("flood_limit", "5/10s", _optional(_rate)),
        SettingSpec("newcomer_flood_limit", "3/10s", _optional(_rate)),
        SettingSpec("flood_mute", "5m", _duration(timedelta(seconds=30), timedelta(days=1))),
        SettingSpec(
            "slowmode", "off", _optional(_duration(timedelta(seconds=5), timedelta(days=1)))
        ),
        SettingSpec("newcomer_links", "off", _switch),
        SettingSpec("newcomer_forwards", "off", _switch),
        SettingSpec("warn_limit", "3", _integer(1, 20)),
        SettingSpec("warn_action", "mute", _choice("mute", "kick", "ban")),
        SettingSpec("warn_mute", "1d", _duration(timedelta(seconds=30), timedelta(days=365))),
        SettingSpec("warn_expiry", "30d", _duration(timedelta(hours=1), timedelta(days=3650))),
        SettingSpec("trusted_bots", "off", _optional(_ids(20))),
        SettingSpec("mention_limit", "5", _optional(_integer(1, 50))),
        #
        # ---- weekly check-ins and nudges
        SettingSpec("checkin", "off", _optional(_weekly_slot)),
        SettingSpec("checkin_window", "48h", _duration(timedelta(hours=1), timedelta(days=6))),
        SettingSpec(
            "checkin_reminder",
            "24h",
            _optional(_duration(timedelta(minutes=10), timedelta(days=6))),
        ),
        SettingSpec("quiet_hours", "22:00-09:00", _optional(_quiet_hours)),
        SettingSpec(
            "nudge_after", "30d", _optional(_duration(timedelta(days=1), timedelta(days=365)))
        ),
        # ---- paid membership
        SettingSpec("price", "0", _integer(0, 10000)),
        SettingSpec("plan", "recurring", _choice("recurring", "once")),
        SettingSpec("period", "30d", _duration(timedelta(days=1), timedelta(days=365))),
        SettingSpec("grace", "1d", _duration(timedelta(0), timedelta(days=30))),
        SettingSpec("remind_before", "3d,1d", _optional(_durations(timedelta(days=30)))),
        SettingSpec("trial", "off", _optional(_duration(timedelta(hours=1), timedelta(days=90)))),
    ]
    return {spec.key: spec for spec in specs}


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


class SettingsService:
    """Reads chat settings (cached) and changes them with validation."""

    def __init__(
        self,
        db: Database,
        default_language: str,
        default_timezone: str,
        *,
        timer: Timer | None = None,
    ) -> None:
        self._db = db
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self.specs = _specs(default_language, default_timezone)
        self._cache: dict[int, tuple[float, ChatConfig]] = {}

    @property
    def keys(self) -> list[str]:
        return list(self.specs)

    def defaults(self) -> ChatConfig:
        return ChatConfig({key: spec.default for key, spec in self.specs.items()})

    async def get(self, chat_id: int) -> ChatConfig:
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] > self._timer.monotonic():
            return cached[1]
        async with self._db.transaction() as session:
            stored = await ChatRepository(session).settings(chat_id)
        values = {key: spec.default for key, spec in self.specs.items()}
        values.update({key: value for key, value in stored.items() if key in self.specs})
        config = ChatConfig(values)
        self._cache[chat_id] = (self._timer.monotonic() + CACHE_TTL, config)
        return config

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
        self._cache.pop(chat_id, None)
        return value

    async def replace(self, chat_id: int, key: str, expected: str, value: str) -> bool:
        """Store `value` only if the setting is still `expected`; True when this call changed
        it (of several racing callers, exactly one)."""
        async with self._db.transaction() as session:
            changed = await ChatRepository(session).replace_setting(chat_id, key, expected, value)
        self._cache.pop(chat_id, None)
        return changed

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)
