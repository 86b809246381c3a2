"""Human durations: `90s`, `5m`, `2h`, `7d`, `1w`, and combinations like `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,6})\s*([wdhms])")
_WHOLE = re.compile(r"(?:\s*\d{1,6}\s*[wdhms])+\s*")


def parse_duration(text: str) -> timedelta:
    """Parse a duration; raise ValueError on anything else."""
    value = text.strip().lower()
    if not value or not _WHOLE.fullmatch(value):
        raise ValueError(f"not a duration: {text!r}")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(value))
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # `999999w` repeated: longer than any date can hold
        raise ValueError(f"duration too long: {text[:20]!r}") from None


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling, e.g. 7d, 1w, 1h30m, 0s."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
