"""Database engine, the unit of work, and migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# migrations/ sits next to the bot package: in the source tree, and in site-packages once
# installed (pyproject.toml packages it), so `python -m bot migrate` works from any directory
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def prepare_sqlite_path(url: str) -> None:
    """Create the folder of a file-based SQLite database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


# PostgreSQL connections a process keeps: the ceiling SQLAlchemy's default had (5 kept and 10
# "overflow" ones), but all of them kept. An overflow connection is closed as soon as it comes
# back to a pool holding 5 idle ones, so a burst of updates opened and closed connections all
# along (bench processes, warm: 58-62 new sessions in a 2,000-message burst on 2 processes,
# each a PostgreSQL backend forked and authenticated, its catalog caches and the prepared
# statements built again; now 0); opened on demand, these stay until the process ends.
POOL_SIZE = 15


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys.

    `hide_parameters`: a failing statement's error (and so the log) shows the SQL but not the
    values bound to it, which include people's private check-in answers and names."""
    prepare_sqlite_path(url)
    if not is_sqlite(url):
        return create_async_engine(
            url,
            pool_pre_ping=True,
            hide_parameters=True,
            pool_size=POOL_SIZE,
            max_overflow=0,
        )
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class Database:
    """Owns the engine; `transaction()` is the unit of work of one use case."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.closed = False  # set at shutdown: the process is no longer ready (/healthz)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on error; never keep it open across Telegram calls."""
        async with self._sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        self.closed = True
        await self.engine.dispose()


def alembic_config(url: str) -> Config:
    """Alembic's settings for `url`, made here rather than read from alembic.ini (which is
    for the `alembic` command in the source tree and is not installed with the package)."""
    if not (MIGRATIONS / "env.py").is_file():
        raise FileNotFoundError(
            f"no migrations at {MIGRATIONS}: install the hearth package (pip install .) "
            "or run from the source tree"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (blocking; runs its own event loop)."""
    prepare_sqlite_path(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Apply migrations from inside a running event loop."""
    await asyncio.to_thread(upgrade, url, revision)
