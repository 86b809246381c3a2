"""Weekly slots and quiet hours in a chat's time zone, daylight-saving changes included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.checkin_schedule import (
    deliver_at,
    latest_slot,
    next_slot,
    parse_quiet,
    parse_slot,
    quiet_until,
    week_of,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_parse_slot_accepts_english_and_russian_weekdays() -> None:
    assert str(parse_slot("Sunday 7:05")) == "sun 07:05"
    assert str(parse_slot("вс 19:00")) == "sun 19:00"
    assert str(parse_slot("mon 00:00")) == "mon 00:00"
    for bad in ("sun", "funday 10:00", "sun 24:00", "sun 10:60", "sun 10:00 extra"):
        with pytest.raises(ValueError):
            parse_slot(bad)


def test_next_and_latest_slot_in_the_chat_time_zone() -> None:
    slot = parse_slot("sun 19:00")
    saturday = utc(2026, 12, 5, 12, 0)
    assert next_slot(slot, saturday, BERLIN) == utc(2026, 12, 6, 18, 0)
    assert latest_slot(slot, saturday, BERLIN) == utc(2026, 11, 29, 18, 0)
    exactly = utc(2026, 12, 6, 18, 0)
    assert latest_slot(slot, exactly, BERLIN) == exactly
    assert next_slot(slot, exactly, BERLIN) == utc(2026, 12, 13, 18, 0)
    # Sunday 19:00 in New York is Monday 00:00 UTC
    assert next_slot(slot, saturday, NEW_YORK) == utc(2026, 12, 7, 0, 0)


def test_slots_keep_their_local_time_across_daylight_saving_changes() -> None:
    slot = parse_slot("sun 19:00")
    # Berlin moves to summer time on 29 March 2026: 19:00 is 18:00 UTC before, 17:00 after
    assert next_slot(slot, utc(2026, 3, 23, 12), BERLIN) == utc(2026, 3, 29, 17, 0)
    assert latest_slot(slot, utc(2026, 3, 28, 12), BERLIN) == utc(2026, 3, 22, 18, 0)
    # and back on 25 October 2026
    assert next_slot(slot, utc(2026, 10, 20, 12), BERLIN) == utc(2026, 10, 25, 18, 0)
    assert next_slot(slot, utc(2026, 10, 25, 18, 0), BERLIN) == utc(2026, 11, 1, 18, 0)
    # a time that does not exist that night (02:30) still runs once, an hour later locally
    early = parse_slot("sun 02:30")
    start = next_slot(early, utc(2026, 3, 23, 12), BERLIN)
    assert start == utc(2026, 3, 29, 1, 30)
    assert start.astimezone(BERLIN).hour == 3
    # an ambiguous time (02:30 twice in October) runs at the first of the two
    assert next_slot(early, utc(2026, 10, 20, 12), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_week_keys_follow_the_chat_time_zone() -> None:
    # Sunday 23:30 in New York is already Monday in UTC: still the same ISO week there
    moment = utc(2026, 12, 7, 4, 30)
    assert week_of(moment, NEW_YORK) == "2026-W49"
    assert week_of(moment, BERLIN) == "2026-W50"


def test_quiet_hours_wrap_past_midnight_and_end_in_local_time() -> None:
    quiet = parse_quiet("22:00-09:00")
    assert quiet_until(quiet, utc(2026, 12, 1, 20, 59), BERLIN) is None  # 21:59
    assert quiet_until(quiet, utc(2026, 12, 1, 21, 0), BERLIN) == utc(2026, 12, 2, 8, 0)
    assert quiet_until(quiet, utc(2026, 12, 2, 3, 0), BERLIN) == utc(2026, 12, 2, 8, 0)
    assert quiet_until(quiet, utc(2026, 12, 2, 8, 0), BERLIN) is None  # 09:00 sharp
    assert quiet_until(None, utc(2026, 12, 2, 3, 0), BERLIN) is None
    daytime = parse_quiet("13:00-14:30")
    assert quiet_until(daytime, utc(2026, 12, 2, 12, 10), BERLIN) == utc(2026, 12, 2, 13, 30)
    now = utc(2026, 12, 2, 15, 0)
    assert deliver_at(daytime, now, BERLIN) == now
    # the night the clocks go forward, quiet hours still end at 09:00 local time
    assert quiet_until(quiet, utc(2026, 3, 29, 0, 0), BERLIN) == utc(2026, 3, 29, 7, 0)
    with pytest.raises(ValueError):
        parse_quiet("10:00-10:00")
    with pytest.raises(ValueError):
        parse_quiet("night")
