"""The retention sweep on a migrated database: each chat's own limits, the rows it must not
touch (open rounds, unresolved reports, group posts, pending messages), and one chat's failure
not stopping the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.db import Database
from bot.services.retention import PURGE_LEFT, Retention, Swept
from bot.services.settings import ChatConfig, SettingsService
from jobs.deadlines import DeadlineSweeper
from models.chats import ChatRepository
from models.checkins import CheckinEntry, CheckinRound, RoundStatus
from models.deadlines import DeadlineRepository
from models.members import Member, MemberStatus
from models.moderation import Report
from models.outbox import OutboxMessage, OutboxStatus

SHORT = -1_001_000_001  # answers_keep 10d, reports_keep 5d
LONG = -1_001_000_002  # the defaults: 180d and 30d
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
WORDS = '["a private answer", null, "help me"]'


async def _chats(db: Database, settings: SettingsService) -> None:
    async with db.transaction() as session:
        for chat_id in (SHORT, LONG):
            await ChatRepository(session).ensure(chat_id, "chat", "supergroup", NOW)
    await settings.set(SHORT, "answers_keep", "10d")
    await settings.set(SHORT, "reports_keep", "5d")


async def _round(db: Database, chat_id: int, week: str, status: RoundStatus) -> None:
    async with db.transaction() as session:
        row = CheckinRound(
            chat_id=chat_id,
            week=week,
            status=status,
            starts_at=NOW - timedelta(days=2),
            closes_at=NOW,
        )
        session.add(row)
        await session.flush()
        session.add(CheckinEntry(round_id=row.id, user_id=7, answers=WORDS, done=True))


async def _answers(db: Database) -> dict[tuple[int, str], str]:
    async with db.transaction() as session:
        found = await session.execute(
            select(CheckinRound.chat_id, CheckinRound.week, CheckinEntry.answers).join(
                CheckinEntry, CheckinEntry.round_id == CheckinRound.id
            )
        )
        return {(int(chat), str(week)): str(answers) for chat, week, answers in found.all()}


async def test_each_chat_keeps_answers_and_report_texts_as_long_as_its_settings_say(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    settings = SettingsService(db, "en", "UTC")
    await _chats(db, settings)
    for chat_id in (SHORT, LONG):
        await _round(db, chat_id, "2026-W24", RoundStatus.CLOSED)
    await _round(db, SHORT, "2026-W25", RoundStatus.OPEN)  # past its close, not closed yet
    async with db.transaction() as session:
        for chat_id, handled in ((SHORT, "dismiss"), (LONG, "delete"), (SHORT, None)):
            session.add(
                Report(
                    chat_id=chat_id,
                    message_id=len(str(handled)),
                    reporter_id=8,
                    target_id=7,
                    reason="spam",
                    text="the reported words",
                    created_at=NOW,
                    handled=handled,
                    handled_at=NOW if handled else None,
                )
            )
    retention = Retention(db, clock, settings)

    clock.set(NOW + timedelta(days=11))
    assert await retention.sweep() == Swept(answers=1, reports=1, outbox=0)
    assert await _answers(db) == {
        (SHORT, "2026-W24"): "[]",
        (SHORT, "2026-W25"): WORDS,  # an open round keeps its answers
        (LONG, "2026-W24"): WORDS,
    }
    async with db.transaction() as session:
        texts = {(r.chat_id, r.handled): r.text for r in (await session.scalars(select(Report)))}
    assert texts == {
        (SHORT, "dismiss"): "",
        (SHORT, None): "the reported words",  # not resolved: the admins still need it
        (LONG, "delete"): "the reported words",
    }
    assert await retention.sweep() == Swept()

    clock.set(NOW + timedelta(days=181))
    assert await retention.sweep() == Swept(answers=1, reports=1, outbox=0)
    assert await _answers(db) == {
        (SHORT, "2026-W24"): "[]",
        (SHORT, "2026-W25"): WORDS,
        (LONG, "2026-W24"): "[]",
    }


async def test_only_settled_messages_to_people_lose_their_text(db: Database) -> None:
    retention = Retention(db, FakeClock(NOW), SettingsService(db, "en", "UTC"))
    rows = [
        (7, OutboxStatus.UNREACHABLE),
        (8, OutboxStatus.FAILED),
        (9, OutboxStatus.PENDING),  # still to be sent
        (SHORT, OutboxStatus.SENT),  # a group post
    ]
    async with db.transaction() as session:
        for n, (chat_id, status) in enumerate(rows):
            session.add(
                OutboxMessage(
                    key=f"k{n}",
                    chat_id=chat_id,
                    text="words",
                    status=status,
                    not_before=NOW,
                    created_at=NOW,
                )
            )
    assert await retention.sweep() == Swept(outbox=2)
    async with db.transaction() as session:
        kept = {r.chat_id: r.text for r in await session.scalars(select(OutboxMessage))}
    assert kept == {7: "", 8: "", 9: "words", SHORT: "words"}


class _Failing(SettingsService):
    """Settings that cannot be read for one chat."""

    async def get(self, chat_id: int) -> ChatConfig:
        if chat_id == SHORT:
            raise RuntimeError("settings unavailable")
        return await super().get(chat_id)


async def test_one_chat_failing_does_not_stop_the_others(db: Database) -> None:
    settings = _Failing(db, "en", "UTC")
    async with db.transaction() as session:
        for chat_id in (SHORT, LONG):
            await ChatRepository(session).ensure(chat_id, "chat", "supergroup", NOW)
    for chat_id in (SHORT, LONG):
        await _round(db, chat_id, "2026-W24", RoundStatus.CLOSED)
    retention = Retention(db, FakeClock(NOW + timedelta(days=200)), settings)
    assert await retention.run() == 1
    assert await _answers(db) == {(SHORT, "2026-W24"): WORDS, (LONG, "2026-W24"): "[]"}


async def _member(db: Database, chat_id: int, user_id: int, status: MemberStatus) -> None:
    async with db.transaction() as session:
        await ChatRepository(session).ensure(chat_id, "chat", "supergroup", NOW)
        session.add(
            Member(chat_id=chat_id, user_id=user_id, status=status, level_since=NOW, joined_at=NOW)
        )


async def test_who_left_is_purged_30_days_later_unless_they_came_back(db: Database) -> None:
    clock = FakeClock(NOW)
    purged: list[tuple[int, int]] = []

    async def purge(chat_id: int, user_id: int) -> None:
        purged.append((chat_id, user_id))

    retention = Retention(db, clock, SettingsService(db, "en", "UTC"), purge_member=purge)
    sweeper = DeadlineSweeper(db, clock, {PURGE_LEFT: retention.purge_left})
    await _member(db, SHORT, 7, MemberStatus.LEFT)
    await _member(db, LONG, 8, MemberStatus.IN)  # left, then came back
    await retention.member_left(SHORT, 7)
    await retention.member_left(LONG, 8)

    clock.set(NOW + timedelta(days=29, hours=23))
    assert await sweeper.sweep() == 0
    clock.set(NOW + timedelta(days=30))
    assert await sweeper.sweep() == 2
    assert purged == [(SHORT, 7)]
    clock.advance(timedelta(days=30))
    assert await sweeper.sweep() == 0  # each runs once
    assert purged == [(SHORT, 7)]


async def test_without_a_deletion_the_purge_waits_for_one(db: Database) -> None:
    clock = FakeClock(NOW)
    retention = Retention(db, clock, SettingsService(db, "en", "UTC"))
    sweeper = DeadlineSweeper(db, clock, {PURGE_LEFT: retention.purge_left})
    await _member(db, SHORT, 7, MemberStatus.LEFT)
    await retention.member_left(SHORT, 7)
    clock.set(NOW + timedelta(days=31))
    await sweeper.sweep()
    async with db.transaction() as session:
        waiting = await DeadlineRepository(session).get(PURGE_LEFT, SHORT, 7)
    assert waiting is not None and waiting.due_at == clock.now() + timedelta(days=1)
