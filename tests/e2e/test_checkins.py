"""Check-ins through the real entry point: a restart in the middle of a round, and a round
whose time passed while the bot was down."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bot.db import Database
from bot.services.checkin_schedule import WEEKDAYS, week_of
from models.checkins import CheckinMember, CheckinRound
from models.members import Member, MemberStatus, TrustLevel
from models.outbox import OutboxMessage, OutboxStatus
from models.users import User
from tests.e2e.conftest import ADMIN, GROUP, BotProcess, seed_chat
from tests.fakegram.server import FakeTelegram

FIRST = 20_000


async def seed_members(db_url: str, fake: FakeTelegram, count: int) -> list[int]:
    """Opted-in members, as earlier runs of the bot would have left them."""
    members = list(range(FIRST, FIRST + count))
    now = datetime.now(UTC)
    for user_id in members:
        fake.add_user(user_id, f"M{user_id}", language_code="en", started_bot=True)
        fake.set_member(GROUP, user_id, "member")
    db = Database(db_url)
    async with db.transaction() as session:
        await session.execute(
            insert(User),
            [
                {"id": u, "first_name": f"M{u}", "language_code": "en", "updated_at": now}
                for u in members
            ],
        )
        await session.execute(
            insert(Member),
            [
                {
                    "chat_id": GROUP,
                    "user_id": u,
                    "status": MemberStatus.IN,
                    "trust": TrustLevel.MEMBER,
                    "level_since": now,
                    "joined_at": now,
                    "last_active_at": now,
                }
                for u in members
            ],
        )
        await session.execute(
            insert(CheckinMember),
            [{"chat_id": GROUP, "user_id": u, "opted_in": True, "offered": True} for u in members],
        )
    await db.close()
    return members


async def outbox_pending(db_url: str) -> int:
    """Prompts still waiting in the outbox."""
    db = Database(db_url)
    async with db.transaction() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.chat_id >= FIRST)
        )
    await db.close()
    return int(pending or 0)


def prompts(fake: FakeTelegram, members: list[int]) -> dict[int, int]:
    wanted = set(members)
    counts: dict[int, int] = {}
    for chat_id, _ in fake.bot_sent:
        if chat_id in wanted:
            counts[chat_id] = counts.get(chat_id, 0) + 1
    return counts


def posts(fake: FakeTelegram) -> int:
    return sum("Weekly check-in" in str(m.get("text")) for m in fake.sent_messages(GROUP))


async def test_a_restart_in_the_middle_of_a_round_resumes_without_duplicates(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", language="en", quiet_hours="off")
    members = await seed_members(bot_process.db_url, fake, 150)
    await bot_process.start()
    fake.send_message(GROUP, ADMIN, "/checkin_now")
    await fake.wait_for(lambda: sum(prompts(fake, members).values()) >= 30, timeout=20)
    assert await bot_process.stop(signal.SIGTERM) == 0
    before = prompts(fake, members)
    assert 30 <= sum(before.values()) < len(members), "the round should be cut in the middle"
    assert max(before.values()) == 1

    await bot_process.start()
    await fake.wait_for(lambda: len(prompts(fake, members)) == len(members), timeout=30)
    await fake.wait_for(lambda: fake.pending_updates == 0, timeout=5)
    await bot_process.wait_for_job("checkins", runs=2)  # a tick after the last prompt
    assert await bot_process.stop() == 0  # the outbox records its sends in flight
    assert await outbox_pending(bot_process.db_url) == 0  # so nothing is left to send twice
    after = prompts(fake, members)
    assert set(after) == set(members)  # none lost
    assert max(after.values()) == 1  # none twice
    assert posts(fake) == 1  # the round was not opened again
    assert fake.rate_limited == 0


async def test_a_check_in_due_while_the_bot_was_down_runs_at_start_once(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=10)
    slot = f"{WEEKDAYS[start.weekday()]} {start:%H:%M}"
    await seed_chat(
        bot_process.db_url,
        GROUP,
        "Hearth Test",
        language="en",
        quiet_hours="off",
        timezone="UTC",
        checkin=slot,
    )
    members = await seed_members(bot_process.db_url, fake, 3)
    db = Database(bot_process.db_url)
    async with db.transaction() as session:  # planned by the previous run, which then stopped
        session.add(
            CheckinRound(
                chat_id=GROUP,
                week=week_of(start, ZoneInfo("UTC")),
                status="planned",
                starts_at=start,
                closes_at=start + timedelta(hours=48),
                remind_at=start + timedelta(hours=24),
                reminded=False,
                manual=False,
            )
        )
    await db.close()

    await bot_process.start()
    await fake.wait_for(lambda: len(prompts(fake, members)) == len(members), timeout=20)
    assert posts(fake) == 1
    assert await bot_process.stop() == 0
    await bot_process.start()
    await bot_process.wait_for_job("checkins", runs=3)  # past the start-up grace, a few ticks
    assert posts(fake) == 1
    assert max(prompts(fake, members).values()) == 1
    assert await bot_process.stop() == 0
