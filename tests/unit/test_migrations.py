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
