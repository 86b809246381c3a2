"""Shared fixtures: a migrated database on SQLite, and on PostgreSQL when configured.

Alembic runs once per session: SQLite tests get a copy of a migrated template file, PostgreSQL
tests get the migrated schema with every row deleted. `tests/unit/test_migrations.py` runs
the real migrations on `empty_db_url`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db import Database, upgrade_async
from models import Base
from tests import speedups

speedups.install()


def _per_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`test_gw0`, ...),
    created on first use, so workers never wipe each other's rows."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


BASE_POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
POSTGRES_URL = _per_worker(BASE_POSTGRES_URL)


async def ensure_postgres_database(url: str) -> None:
    """Create the worker's database from the configured one if it does not exist yet."""
    if url == BASE_POSTGRES_URL or _migrated.get(f"exists:{url}"):
        return
    assert BASE_POSTGRES_URL is not None
    name = make_url(url).database
    engine = create_async_engine(BASE_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not found:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    _migrated[f"exists:{url}"] = True


_migrated: dict[str, bool] = {}  # template path or PostgreSQL URL -> migrated to head


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def reset_postgres(url: str) -> None:
    await ensure_postgres_database(url)
    _migrated.pop(url, None)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def empty_postgres(url: str) -> None:
    """Delete every row (children first) and restart the id sequences, as after a fresh
    migration; the schema is the models' (test_migrations checks that they agree)."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
        await conn.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
        )
    await engine.dispose()


async def close_session(bot: Bot) -> None:
    """Close the bot's HTTP session without aiogram's fixed 0.25 s wait, which is there for
    TLS connections; the fake Bot API speaks plain HTTP on loopback."""
    session = bot.session
    if isinstance(session, AiohttpSession) and session._session is not None:
        await session._session.close()
    else:
        await session.close()


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("template")


async def migrated_copy(template_dir: Path, target: Path) -> str:
    """A SQLite file migrated to head: a copy of the session's template, built on first use."""
    template = template_dir / "hearth.db"
    if not _migrated.get(str(template)):
        template.unlink(missing_ok=True)
        await upgrade_async(sqlite_url(template))
        _migrated[str(template)] = True
    shutil.copyfile(template, target)
    return sqlite_url(target)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    return str(request.param)


@pytest.fixture
async def empty_db_url(backend: str, tmp_path: Path) -> str:
    """A database with nothing in it: a fresh SQLite file, or a wiped PostgreSQL schema."""
    if backend == "sqlite":
        return sqlite_url(tmp_path / "hearth.db")
    assert POSTGRES_URL is not None
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def db_url(backend: str, tmp_path: Path, template_dir: Path) -> str:
    """A database at Alembic's head with no rows, without running Alembic per test."""
    if backend == "sqlite":
        return await migrated_copy(template_dir, tmp_path / "hearth.db")
    assert POSTGRES_URL is not None
    if not _migrated.get(POSTGRES_URL):
        await reset_postgres(POSTGRES_URL)
        await upgrade_async(POSTGRES_URL)
        _migrated[POSTGRES_URL] = True
    else:
        await empty_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start bot processes first: each spends seconds waiting on a process, so
    started early they overlap with the short in-process tests the other workers run,
    instead of leaving one worker waiting alone at the end of the run."""
    slow_dirs = ("tests/e2e/", "tests/docker/")
    items.sort(key=lambda item: not item.nodeid.startswith(slow_dirs))
