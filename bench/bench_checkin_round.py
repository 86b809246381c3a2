"""A check-in round to 1,000 opted-in members through the real application, against the fake
Bot API enforcing Telegram's flood limits (30/s overall, per-chat, 20/min per group).

Prints the time from `/checkin_now` until the last private prompt is accepted, against the
ideal N / 30 s, the 429s Telegram answered, and delivered / lost / duplicated counts."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.app import build_application
from bot.config import Settings
from bot.db import upgrade_async
from models.chats import ChatRepository
from models.checkins import CheckinMember
from models.members import Member, MemberStatus, TrustLevel
from models.outbox import OutboxRepository
from models.users import User
from tests.fakegram.server import FakeTelegram

MEMBERS = 1000
GROUP = -1009000000001
ADMIN = 1
FIRST_MEMBER = 10_000
TARGET = 1.15


async def _seed(url: str, members: list[int]) -> None:
    from bot.db import Database

    now = datetime.now(UTC)
    db = Database(url)
    async with db.transaction() as session:
        chats = ChatRepository(session)
        await chats.register(GROUP, "Bench circle", "supergroup", now)
        await chats.put_setting(GROUP, "quiet_hours", "off")  # the wall clock decides nothing
        await chats.put_setting(GROUP, "language", "en")
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
                }
                for u in members
            ],
        )
        await session.execute(
            insert(CheckinMember),
            [{"chat_id": GROUP, "user_id": u, "opted_in": True, "offered": True} for u in members],
        )
    await db.close()


async def main() -> int:
    members = list(range(FIRST_MEMBER, FIRST_MEMBER + MEMBERS))
    fake = FakeTelegram()
    await fake.start()
    fake.add_user(ADMIN, "Admin", started_bot=True)
    fake.add_chat(GROUP, "Bench circle")
    fake.set_member(GROUP, ADMIN, "creator")
    fake.add_bot_to_chat(GROUP, ADMIN, admin=True)
    for user_id in members:
        fake.add_user(user_id, f"M{user_id}", language_code="en", started_bot=True)
        fake.set_member(GROUP, user_id, "member")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        await _seed(url, members)
        settings = Settings(
            bot_token=fake.token,
            telegram_api_url=fake.url,
            database_url=url,
            default_language="en",
            _env_file=None,
        )
        app = build_application(settings)
        me = await app.bot.get_me()
        app.hearth.notifier.username = me.username or ""
        outbox = app.hearth.outbox
        outbox.start()
        fake.rate_limited = 0
        started = time.monotonic()
        await app.hearth.checkins.start_now(GROUP)
        opened = time.monotonic() - started

        def prompts() -> int:
            return sum(1 for chat_id, _ in fake.bot_sent if chat_id > 0)

        await fake.wait_for(lambda: prompts() >= MEMBERS, timeout=600, interval=0.02)
        elapsed = time.monotonic() - started
        while True:  # let the worker record the last sends, then stop it
            async with app.db.transaction() as session:
                if not await OutboxRepository(session).pending("ci:"):
                    break
            if time.monotonic() - started > 660:
                break
            await asyncio.sleep(0.1)
        await outbox.stop()
        await app.bot.session.close()
        await app.db.close()
    received: dict[int, int] = {}
    for chat_id, _ in fake.bot_sent:
        if chat_id > 0:
            received[chat_id] = received.get(chat_id, 0) + 1
    await fake.stop()
    delivered = sum(1 for u in members if received.get(u, 0) >= 1)
    lost = MEMBERS - delivered
    duplicated = sum(received.get(u, 0) - 1 for u in members if received.get(u, 0) > 1)
    ideal = MEMBERS / 30
    ratio = elapsed / ideal
    print(f"members:      {MEMBERS}")
    print(f"time:         {elapsed:.1f} s (round opened and queued in {opened:.2f} s)")
    print(f"ideal N/30:   {ideal:.1f} s")
    print(f"ratio:        {ratio:.2f}x (target <= {TARGET}x)")
    print(f"429s:         {fake.rate_limited} from the fake, {outbox.rate_limited} seen")
    print(f"delivered:    {delivered}")
    print(f"lost:         {lost}")
    print(f"duplicated:   {duplicated}")
    ok = ratio <= TARGET and lost == 0 and duplicated == 0
    print("result:       " + ("ok" if ok else "NOT within target"))
    return 0 if ok else 1
