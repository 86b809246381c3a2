"""Shared fixtures: a migrated database on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db import Database, upgrade_async

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with nothing in it: a fresh SQLite file, or a wiped PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def db_url(empty_db_url: str) -> str:
    """A database built by Alembic up to head."""
    await upgrade_async(empty_db_url)
    return empty_db_url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.close()
