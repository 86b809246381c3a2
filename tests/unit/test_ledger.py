"""The activity ledger: counters buffered in memory, added up in batches, rolled up by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.db import Database
from bot.services.ledger import Ledger, LedgerKind, flush_each
from bot.services.supergroups import ChatUpgrades
from models.chats import ChatRepository
from models.ledger import LedgerRepository, LedgerRow

CHAT = -1_001_000_777
OTHER_CHAT = -1_001_000_778
NOW = datetime(2026, 6, 15, 14, 25, tzinfo=UTC)


async def _rows(db: Database) -> list[tuple[int, int, datetime, str, int, bool]]:
    async with db.transaction() as session:
        found = await session.execute(
            select(
                LedgerRow.chat_id,
                LedgerRow.user_id,
                LedgerRow.bucket,
                LedgerRow.kind,
                LedgerRow.count,
                LedgerRow.daily,
            ).order_by(LedgerRow.user_id, LedgerRow.bucket, LedgerRow.kind)
        )
        return [tuple(row) for row in found.all()]  # type: ignore[misc]


async def _totals(db: Database, chat_id: int = CHAT) -> dict[str, int]:
    async with db.transaction() as session:
        return await LedgerRepository(session).totals(chat_id)


async def test_counts_stay_in_memory_until_a_flush_adds_them_to_their_hour(db: Database) -> None:
    ledger = Ledger(db, FakeClock(NOW))
    for minute in (0, 10, 59):
        ledger.count(CHAT, 7, LedgerKind.MESSAGE, NOW.replace(minute=minute))
    ledger.count(CHAT, 7, LedgerKind.REACTION)
    assert await _rows(db) == []  # nothing written on the per-message path

    assert await ledger.flush() == 2
    ledger.count(CHAT, 7, LedgerKind.MESSAGE, NOW)
    await ledger.flush()  # the second batch adds to the row the first one made

    hour = NOW.replace(minute=0)
    assert await _rows(db) == [
        (CHAT, 7, hour, "message", 4, False),
        (CHAT, 7, hour, "reaction", 1, False),
    ]
    assert await ledger.flush() == 0


async def test_a_failed_flush_keeps_the_counts_for_the_next_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(db, FakeClock(NOW))
    ledger.count(CHAT, 7, LedgerKind.MESSAGE)
    ledger.count(CHAT, 7, LedgerKind.WARNED)

    async def unavailable(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the database is away")

    with monkeypatch.context() as patch:
        patch.setattr(LedgerRepository, "add", unavailable)
        with pytest.raises(ConnectionError):
            await ledger.flush()
    ledger.count(CHAT, 7, LedgerKind.MESSAGE)  # counted after the failure, before the retry
    assert await _rows(db) == []

    assert await ledger.flush() == 2
    hour = NOW.replace(minute=0)
    assert await _rows(db) == [
        (CHAT, 7, hour, "message", 2, False),
        (CHAT, 7, hour, "warned", 1, False),
    ]


async def test_flush_each_runs_every_flush_and_raises_the_first_failure() -> None:
    ran: list[str] = []

    async def failing() -> int:
        ran.append("activity")
        raise RuntimeError("down")

    async def working() -> int:
        ran.append("ledger")
        return 3

    with pytest.raises(RuntimeError):
        await flush_each(failing, working)()
    assert ran == ["activity", "ledger"]
    assert await flush_each(working, working)() == 6


async def test_active_days_count_distinct_days_of_writing_reacting_or_answering(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    ledger = Ledger(db, clock)
    for days_ago in (0, 0, 1, 5, 29, 30, 45):
        ledger.count(CHAT, 7, LedgerKind.MESSAGE, NOW - timedelta(days=days_ago))
    ledger.count(CHAT, 7, LedgerKind.CHECKIN_ANSWERED, NOW - timedelta(days=2))
    ledger.count(CHAT, 7, LedgerKind.REACTION, NOW - timedelta(days=1, hours=3))
    ledger.count(CHAT, 7, LedgerKind.WARNED, NOW - timedelta(days=3))  # not being alive
    ledger.count(CHAT, 8, LedgerKind.REACTION, NOW)
    ledger.count(OTHER_CHAT, 7, LedgerKind.MESSAGE, NOW - timedelta(days=3))
    await ledger.flush()

    # today, 1, 2, 5 and 29 days ago: 5 of the last 30 days
    assert await ledger.days_active(CHAT, 7) == 5
    assert await ledger.days_active(CHAT, 9) == 0
    async with db.transaction() as session:
        per_person = await LedgerRepository(session).active_days(
            CHAT, NOW - timedelta(days=31), NOW + timedelta(hours=1)
        )
    assert per_person == {7: 6, 8: 1}


async def test_roll_up_turns_old_hours_into_days_keeping_totals_and_runs_once(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    ledger = Ledger(db, clock, hourly_days=90)
    old_day = (NOW - timedelta(days=100)).replace(hour=0, minute=0)
    for hour in (0, 0, 5, 23):
        ledger.count(CHAT, 7, LedgerKind.MESSAGE, old_day + timedelta(hours=hour))
    ledger.count(CHAT, 7, LedgerKind.REACTION, old_day + timedelta(hours=5))
    ledger.count(OTHER_CHAT, 8, LedgerKind.MESSAGE, old_day + timedelta(days=1, hours=2))
    ledger.count(CHAT, 7, LedgerKind.MESSAGE, NOW - timedelta(days=10))  # recent: stays hourly
    await ledger.flush()
    before = (await _totals(db), await _totals(db, OTHER_CHAT))
    days_before = await ledger.days_active(CHAT, 7, days=120)

    assert await ledger.roll_up() == 5  # hourly rows gone: 3 + 1 in CHAT, 1 in OTHER_CHAT
    assert await ledger.roll_up() == 0

    assert (await _totals(db), await _totals(db, OTHER_CHAT)) == before
    assert await ledger.days_active(CHAT, 7, days=120) == days_before == 2
    rows = await _rows(db)
    assert (CHAT, 7, old_day, "message", 4, True) in rows
    assert (CHAT, 7, old_day, "reaction", 1, True) in rows
    assert (OTHER_CHAT, 8, old_day + timedelta(days=1), "message", 1, True) in rows
    recent = [r for r in rows if r[2] > NOW - timedelta(days=90)]
    assert recent == [(CHAT, 7, (NOW - timedelta(days=10)).replace(minute=0), "message", 1, False)]

    # a day rolled up before takes later hours of the same day by adding to its row
    ledger.count(CHAT, 7, LedgerKind.MESSAGE, old_day + timedelta(hours=6))
    await ledger.flush()
    assert await ledger.roll_up() == 1
    assert (CHAT, 7, old_day, "message", 5, True) in await _rows(db)


async def test_an_upgrade_adds_the_old_groups_counters_to_the_supergroups(db: Database) -> None:
    old, new = -4_000_777, CHAT
    ledger = Ledger(db, FakeClock(NOW))
    ledger.count(old, 7, LedgerKind.MESSAGE)
    ledger.count(old, 7, LedgerKind.MESSAGE)
    ledger.count(old, 8, LedgerKind.JOINED)
    ledger.count(new, 7, LedgerKind.MESSAGE)  # the same hour, after the upgrade
    await ledger.flush()
    async with db.transaction() as session:
        await ChatRepository(session).register(old, "Circle", "group", NOW)

    assert await ChatUpgrades(db, before=ledger.flush, forget=()).upgraded(old, new, "Circle")

    hour = NOW.replace(minute=0)
    assert await _rows(db) == [
        (new, 7, hour, "message", 3, False),
        (new, 8, hour, "joined", 1, False),
    ]
