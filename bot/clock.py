"""The one place that reads the wall clock; everything else gets a Clock injected.

Two kinds of time: a `Clock` tells the date (deadlines, rounds, expiry), a `Timer` measures
short intervals and sleeps (sending pace, retry pauses). Tests replace either one, so they
move time instead of waiting it out.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Clock(Protocol):
    """Tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class Timer(Protocol):
    """Measures intervals (seconds, monotonic) and sleeps."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemTimer:
    """The real monotonic clock and `asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class OffsetClock:
    """Real time plus an offset in seconds read from a file that a test rewrites to move the
    running process forward (TEST_CLOCK_FILE; refused against Telegram's own servers).

    The file is re-read whenever it changes; a missing or empty file means no offset."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def offset(self) -> timedelta:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            self._stamp, self._offset = None, timedelta(0)
            return self._offset
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            text = self._path.read_text().strip()
            self._offset = timedelta(seconds=float(text or 0))
            self._stamp = stamp
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class FakeTimer:
    """A timer whose sleeps return at once and move its time forward by what they asked."""

    def __init__(self) -> None:
        self._now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        self.slept += max(0.0, seconds)
        await asyncio.sleep(0)  # still a point where other tasks run


MAX_ZONE_NAME = 64  # the longest IANA name is about 30 characters


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name; ValueError for anything else, including names that are
    folders of the zone database (`Europe`) or too long for a file name."""
    if not name or len(name) > MAX_ZONE_NAME:
        raise ValueError(f"not a time zone: {name[:MAX_ZONE_NAME]!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"not a time zone: {name!r}") from None


def as_utc(moment: datetime) -> datetime:
    """Databases such as SQLite return naive datetimes; treat them as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
