"""One bot process per database, unless it is safe to run several.

Several processes need PostgreSQL (SQLite has one writer and lives on one machine) and Redis
(the flood counters, send budget and scheduled-job leadership are shared through it). Without
both, a second process refuses to start with one clear line, instead of silently doubling
every scheduled job and halving every rate limit:

* SQLite: an exclusive lock on `<database file>.lock`, held while the process runs;
* PostgreSQL without Redis: a session-level advisory lock on a connection held open.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import ConfigError

__all__ = ["ANOTHER_PROCESS", "SingleProcess"]

ANOTHER_PROCESS = (
    "another Hearth process already runs on this database; run one process, or several on "
    "PostgreSQL with REDIS_URL set (README: Running in production)"
)


def _advisory_key(bot_id: str) -> int:
    """A stable signed 64-bit key for the bot's advisory lock."""
    digest = hashlib.sha256(f"hearth:{bot_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SingleProcess:
    """`acquire()` at start-up (raises ConfigError when another process holds the database),
    `release()` at the end."""

    def __init__(self, engine: AsyncEngine, bot_id: str, redis_url: str | None) -> None:
        self._engine = engine
        self._bot_id = bot_id
        self._redis_url = redis_url
        self._file: IO[bytes] | None = None
        self._connection: AsyncConnection | None = None

    @property
    def exclusive(self) -> bool:
        """Whether this database allows only one process."""
        return self._engine.dialect.name == "sqlite" or not self._redis_url

    async def acquire(self) -> None:
        if not self.exclusive:
            return
        if self._engine.dialect.name == "sqlite":
            self._lock_file()
        else:
            await self._lock_advisory()

    def _lock_file(self) -> None:
        database = make_url(str(self._engine.url)).database
        if database in (None, "", ":memory:"):
            return  # an in-memory database cannot be shared anyway
        path = Path(database).expanduser().with_name(Path(database).name + ".lock")
        handle = path.open("wb")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigError(ANOTHER_PROCESS) from None
        handle.write(str(os.getpid()).encode())
        handle.flush()
        self._file = handle

    async def _lock_advisory(self) -> None:
        connection = await self._engine.connect()
        query = text("SELECT pg_try_advisory_lock(:key)")
        locked = (await connection.execute(query, {"key": _advisory_key(self._bot_id)})).scalar()
        await connection.commit()  # the lock is the session's, not the transaction's
        if not locked:
            await connection.close()
            raise ConfigError(ANOTHER_PROCESS)
        self._connection = connection

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            # the pool would keep the session (and its lock) alive: drop the connection
            await self._connection.invalidate()
            await self._connection.close()
            self._connection = None
