"""Pure time arithmetic for check-ins: weekly slots and quiet hours in a chat's time zone.

Local wall-clock times are turned into UTC through `zoneinfo`, so daylight-saving changes
move the UTC instant, not the local time. A slot in a spring-forward gap (e.g. 02:30 that
does not exist) runs at the same UTC instant Python gives fold=0, i.e. one hour later in
local terms; an ambiguous autumn time runs at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALIASES = {
    **{name: i for i, name in enumerate(WEEKDAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{name: i for i, name in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"))},
}
_CLOCK = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)")


@dataclass(frozen=True)
class WeeklySlot:
    weekday: int  # Monday = 0
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.at:%H:%M}"


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_clock(text: str) -> time:
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a time of day: {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def parse_slot(text: str) -> WeeklySlot:
    """`sun 19:00`, `Sunday 7:05`, `вс 19:00`; ValueError otherwise."""
    parts = text.strip().lower().split()
    if len(parts) != 2 or parts[0] not in _ALIASES:
        raise ValueError(f"not a weekday and time: {text!r}")
    return WeeklySlot(_ALIASES[parts[0]], parse_clock(parts[1]))


def parse_quiet(text: str) -> QuietHours:
    """`22:00-09:00`; ValueError otherwise (an empty span too)."""
    start, sep, end = text.strip().partition("-")
    if not sep:
        raise ValueError(f"not a span of time: {text!r}")
    quiet = QuietHours(parse_clock(start), parse_clock(end))
    if quiet.start == quiet.end:
        raise ValueError("empty quiet hours")
    return quiet


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def latest_slot(slot: WeeklySlot, now: datetime, zone: ZoneInfo) -> datetime:
    """The most recent start at or before `now` (UTC)."""
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - slot.weekday) % 7)
    start = _local(day, slot.at, zone)
    if start > now:
        start = _local(day - timedelta(days=7), slot.at, zone)
    return start


def next_slot(slot: WeeklySlot, now: datetime, zone: ZoneInfo) -> datetime:
    """The first start strictly after `now` (UTC)."""
    latest = latest_slot(slot, now, zone)
    day = latest.astimezone(zone).date() + timedelta(days=7)
    return _local(day, slot.at, zone)


def week_of(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week of a moment in the chat's time zone, e.g. `2026-W48`."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def quiet_until(quiet: QuietHours | None, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours around `now` end (UTC), or None if `now` is not quiet."""
    if quiet is None:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
    else:  # the span wraps past midnight, e.g. 22:00-09:00
        inside = clock >= quiet.start or clock < quiet.end
    if not inside:
        return None
    day = local.date()
    end = _local(day, quiet.end, zone)
    if end <= now:
        end = _local(day + timedelta(days=1), quiet.end, zone)
    return end


def deliver_at(quiet: QuietHours | None, now: datetime, zone: ZoneInfo) -> datetime:
    """`now`, or the end of the quiet hours if `now` is inside them."""
    return quiet_until(quiet, now, zone) or now
