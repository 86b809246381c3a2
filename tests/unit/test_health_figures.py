"""/stats figures aggregated in SQL: the same numbers on SQLite and PostgreSQL, rolled-up
daily rows and hourly ones counted alike, distinct people per period, the bot left out of
the member count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from bot.clock import FakeClock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.health import HealthService
from bot.services.ledger import Ledger, LedgerKind
from bot.services.settings import SettingsService

CHAT = -1_001_000_888
NOW = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)  # late in the day: buckets near midnight


class _Telegram:
    async def member_count(self, chat_id: int) -> int:
        return 11  # ten people and the bot


def _service(db: Database, ledger: Ledger, clock: FakeClock) -> HealthService:
    settings = SettingsService(db, "en", "UTC")
    return HealthService(db, clock, ledger, cast(Notifier, _Telegram()), settings)


async def test_figures_count_people_per_period_and_days_across_rolled_up_rows(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    ledger = Ledger(db, clock, hourly_days=30)
    day = timedelta(days=1)
    for user in (1, 2, 3, 4):  # four people wrote 40 days ago (rolled up into daily rows)
        ledger.count(CHAT, user, LedgerKind.MESSAGE, NOW - 40 * day)
        ledger.count(CHAT, user, LedgerKind.MESSAGE, NOW - 40 * day + timedelta(minutes=20))
    for user in (1, 2, 3):  # three of them and two others in the last 30 days
        ledger.count(CHAT, user, LedgerKind.MESSAGE, NOW - 2 * day)
    ledger.count(CHAT, 5, LedgerKind.REACTION, NOW)
    ledger.count(CHAT, 6, LedgerKind.CHECKIN_ANSWERED, NOW - day)
    ledger.count(CHAT, 6, LedgerKind.WARNED, NOW - day)
    await ledger.flush()
    assert await ledger.roll_up() > 0

    health = _service(db, ledger, clock)
    report = await health.report(CHAT, 90)

    assert report is not None
    assert (report.alive, report.alive_before, report.change) == (5, 4, 1)
    assert report.members == 10  # Telegram's 11 count the bot
    assert report.messages_total == 11
    assert report.messages[-41] == 8 and report.messages[-3] == 3
    assert sum(report.messages) == 11
    assert report.moderation["warned"] == round(100 / 6)  # one warning, six people alive

    series = await health.daily(CHAT, 90)
    assert series[-41].figure(LedgerKind.MESSAGE.value) == 8
    assert series[-41].alive() == 4
    assert series[-1].alive() is None  # one person today: "< 3"


async def test_a_chat_without_counters_has_no_report(db: Database) -> None:
    clock = FakeClock(NOW)
    assert await _service(db, Ledger(db, clock), clock).report(CHAT, 30) is None
