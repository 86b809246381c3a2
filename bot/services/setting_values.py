"""The registry of per-chat settings: each key's default and the parser that turns what an
admin typed into the stored (canonical) value, or raises BadSettingValue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import parse_zone
from bot.durations import format_duration, parse_duration
from bot.i18n import SUPPORTED
from bot.services.checkin_schedule import parse_quiet, parse_slot


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
    """One setting: its key, its default (canonical) value and the parser of new values."""

    key: str
    default: str
    parse: Callable[[str], str]


_MODERATION: tuple[SettingSpec, ...] = (
    SettingSpec("flood_limit", "5/10s", _optional(_rate)),
    SettingSpec("newcomer_flood_limit", "3/10s", _optional(_rate)),
    SettingSpec("flood_mute", "5m", _duration(timedelta(seconds=30), timedelta(days=1))),
    SettingSpec("slowmode", "off", _optional(_duration(timedelta(seconds=5), timedelta(days=1)))),
    SettingSpec("newcomer_links", "off", _switch),
    SettingSpec("newcomer_forwards", "off", _switch),
    SettingSpec("warn_limit", "3", _integer(1, 20)),
    SettingSpec("warn_action", "mute", _choice("mute", "kick", "ban")),
    SettingSpec("warn_mute", "1d", _duration(timedelta(seconds=30), timedelta(days=365))),
    SettingSpec("warn_expiry", "30d", _duration(timedelta(hours=1), timedelta(days=3650))),
    SettingSpec("trusted_bots", "off", _optional(_ids(20))),
    SettingSpec("mention_limit", "5", _optional(_integer(1, 50))),
)
"""Rules and pace."""

_CHECKINS: tuple[SettingSpec, ...] = (
    SettingSpec("checkin", "off", _optional(_weekly_slot)),
    SettingSpec("checkin_window", "48h", _duration(timedelta(hours=1), timedelta(days=6))),
    SettingSpec(
        "checkin_reminder",
        "24h",
        _optional(_duration(timedelta(minutes=10), timedelta(days=6))),
    ),
    SettingSpec("quiet_hours", "22:00-09:00", _optional(_quiet_hours)),
    SettingSpec("nudge_after", "30d", _optional(_duration(timedelta(days=1), timedelta(days=365)))),
)
"""Weekly check-ins and nudges."""

_COMMUNITY: tuple[SettingSpec, ...] = (
    SettingSpec("health_digest", "mon 10:00", _optional(_weekly_slot)),
    SettingSpec("thanks_per_day", "5", _integer(1, 50)),
    SettingSpec("promote_on_thanks", "3", _optional(_integer(1, 50))),
    SettingSpec("thanks_board", "off", _switch),
    SettingSpec("ideas_newcomers", "on", _switch),
    SettingSpec("circle_quorum", "5", _integer(2, 100)),  # supporters a proposed circle needs
)
"""Community life: the weekly health note to admins, thanks, the ideas board, circles."""

_BILLING: tuple[SettingSpec, ...] = (
    SettingSpec("price", "0", _integer(0, 10000)),
    SettingSpec("plan", "recurring", _choice("recurring", "once")),
    SettingSpec("period", "30d", _duration(timedelta(days=1), timedelta(days=365))),
    SettingSpec("grace", "1d", _duration(timedelta(0), timedelta(days=30))),
    SettingSpec("remind_before", "3d,1d", _optional(_durations(timedelta(days=30)))),
    SettingSpec("trial", "off", _optional(_duration(timedelta(hours=1), timedelta(days=90)))),
)
"""Paid membership."""

_PRIVACY: tuple[SettingSpec, ...] = (
    SettingSpec("answers_keep", "180d", _duration(timedelta(days=1), timedelta(days=3650))),
    SettingSpec("reports_keep", "30d", _duration(timedelta(days=1), timedelta(days=365))),
    SettingSpec("ledger_hourly", "90d", _duration(timedelta(days=1), timedelta(days=3650))),
)
"""How long personal words and fine-grained activity are kept."""


def specs(default_language: str, default_timezone: str) -> dict[str, SettingSpec]:
    """Every setting by key, in the order `/settings` lists them."""
    general = [
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
    ]
    every = (*general, *_MODERATION, *_CHECKINS, *_COMMUNITY, *_BILLING, *_PRIVACY)
    return {spec.key: spec for spec in every}
