"""Migrations: each step goes up and down cleanly, and head matches the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db import alembic_config, downgrade, upgrade
from models import Base


def _revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def test_stairway_up_and_down_every_step(empty_db_url: str) -> None:
    revisions = _revisions(empty_db_url)
    assert revisions
    previous = "base"
    for revision in revisions:
        await asyncio.to_thread(upgrade, empty_db_url, revision)
        await asyncio.to_thread(downgrade, empty_db_url, previous)
        await asyncio.to_thread(upgrade, empty_db_url, revision)
        previous = revision


async def test_models_and_migrations_agree(empty_db_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_db_url, "head")  # real migrations, not the template
    engine = create_async_engine(empty_db_url)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == []


async def test_a_payer_s_request_left_without_a_deadline_gets_one(empty_db_url: str) -> None:
    """0006 repairs what the old payment path left: a payer's pending request with
    no deadline (so nothing would ever approve it) gets one, due now; others are untouched."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from models.billing import Subscription
    from models.chats import Chat
    from models.deadlines import Deadline
    from models.members import Member

    await asyncio.to_thread(upgrade, empty_db_url, "0005")
    now = datetime.now(UTC)
    engine = create_async_engine(empty_db_url)
    async with engine.begin() as connection:
        await connection.execute(
            Chat.__table__.insert().values(
                id=-100, title="Circle", type="supergroup", active=True, created_at=now
            )
        )
        for user_id in (1, 2):  # 1 paid and waits; 2 asked and never paid (admins decide)
            await connection.execute(
                Member.__table__.insert().values(
                    chat_id=-100,
                    user_id=user_id,
                    status="requested",
                    trust="pending",
                    trust_pinned=False,
                    level_since=now,
                    joined_at=now,
                    source="request",
                )
            )
        await connection.execute(
            Subscription.__table__.insert().values(
                chat_id=-100,
                user_id=1,
                status="active",
                plan="once",
                ends_at=now + timedelta(days=30),
                renewal="none",
                trial_used=False,
                exempt=False,
                reminded="",
                updated_at=now,
            )
        )
    await asyncio.to_thread(upgrade, empty_db_url, "head")
    async with engine.connect() as connection:
        rows = (await connection.execute(select(Deadline.__table__))).mappings().all()
    await engine.dispose()
    assert [(row["kind"], row["user_id"]) for row in rows] == [("request", 1)]
    assert rows[0]["due_at"] <= datetime.now(UTC)
