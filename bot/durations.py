"""Human durations: `90s`, `5m`, `2h`, `7d`, `1w`, combinations like `1h30m`, and the words
people type: `10min`, `1 hour`, `7days`, `2 weeks`, `10 мин`, `3 часа`, `2 дня`, `1 нед`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

_WORDS = {
    "w": "w wk wks week weeks нед неделя недели недель",
    "d": "d day days д дн дня день дней сут сутки суток",
    "h": "h hr hrs hour hours ч час часа часов",
    "m": "m min mins minute minutes м мин минута минуты минут",
    "s": "s sec secs second seconds с сек секунда секунды секунд",
}
_UNIT_OF = {word: unit for unit, words in _WORDS.items() for word in words.split()}
# longest spellings first, and never followed by another letter: `7days` is not `7d` + `ays`
_UNIT = "|".join(sorted(_UNIT_OF, key=len, reverse=True))
_PART = re.compile(rf"(\d{{1,6}})\s*({_UNIT})(?![^\W\d_])")
_SPACE = re.compile(r"\s*")


def _parts(text: str) -> tuple[int, int]:
    """(seconds, characters used) for the durations at the start of `text`."""
    seconds = position = 0
    while True:
        start = _SPACE.match(text, position)
        assert start is not None
        found = _PART.match(text, start.end())
        if found is None:
            return seconds, position
        seconds += int(found.group(1)) * _UNITS[_UNIT_OF[found.group(2)]]
        position = found.end()


_PUNCTUATION = ",;:.—-"  # `/mute @x 10min, flooding`: the reason follows
_MOST = 10**12  # seconds; far beyond any setting, well within what timedelta holds


def parse_duration(text: str) -> timedelta:
    """Parse a duration; raise ValueError on anything else."""
    value = text.strip().lower()
    seconds, used = _parts(value)
    if not used or used != len(value) or seconds > _MOST:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=seconds)


def take_duration(text: str) -> tuple[timedelta | None, str]:
    """A duration at the start of `text` and the rest: `1 hour spam` → (1h, "spam").

    (None, text) when `text` does not start with a number; ValueError when it does but
    the number is not a duration (`7 days` is, `7dayz` or a bare `7` is not), so a mistyped
    duration is never taken for the start of a reason."""
    value = text.strip()
    if not value[:1].isdigit():
        return None, value
    seconds, used = _parts(value.lower())
    rest = value[used:]
    if not used or (rest and not rest[0].isspace() and rest[0] not in _PUNCTUATION):
        raise ValueError(f"not a duration: {value.split()[0]!r}")
    if seconds > _MOST:
        raise ValueError(f"not a duration: {value.split()[0]!r}")
    return timedelta(seconds=seconds), rest.lstrip(_PUNCTUATION + " ").strip()


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
