"""End-to-end harness: the real entry point (`python -m bot`) against the fake Bot API.

The process runs on real time plus an offset the test moves (TEST_CLOCK_FILE), together
with the fake's own dates, so deadlines are reached by moving the clock, not by waiting.

Each start is a new operating-system process running `bot.__main__.main`, with its own
environment, log file and signals. By default it is forked from a server process that has
already imported the bot (multiprocessing's "forkserver"): importing aiogram costs 4–5 s of
CPU a start, which made these tests half of the suite's time. `exec_python = True` on a
`BotProcess` starts `python -m bot` itself, as `make run` does; the start-up test uses it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database, upgrade_async
from models.chats import ChatRepository
from tests.fakegram.server import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
GROUP = -1001234567890
OWNER = 1
ADMIN = 2
MEMBER = 3


_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["bot.__main__", "bot.serve", "bot.app"])


def _run_bot(env: dict[str, str], workdir: str, log_path: str) -> None:
    """The forked process: the environment, directory and output `python -m bot` would
    have, then the entry point."""
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(env)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.dup2(log, 1)
    os.dup2(log, 2)
    from bot.__main__ import main

    sys.exit(main([]))


class _Forked:
    """A forked bot process behind the few calls the harness makes of a subprocess."""

    def __init__(self, env: dict[str, str], workdir: Path, log_path: Path) -> None:
        self._process = _FORKS.Process(target=_run_bot, args=(env, str(workdir), str(log_path)))
        self._process.start()

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self._process.pid is not None:
            os.kill(self._process.pid, sig)

    def kill(self) -> None:
        self._process.kill()

    async def wait(self) -> int:
        """The exit code once the process has ended (its sentinel becomes readable then)."""
        if self._process.exitcode is None:
            loop = asyncio.get_running_loop()
            ended: asyncio.Future[None] = loop.create_future()
            sentinel = self._process.sentinel

            def mark_ended() -> None:
                if not ended.done():
                    ended.set_result(None)

            loop.add_reader(sentinel, mark_ended)
            try:
                await ended
            finally:
                loop.remove_reader(sentinel)
        self._process.join()
        code = self._process.exitcode
        assert code is not None
        return code


class BotProcess:
    """One run of the bot's entry point with its environment pointed at the fake server."""

    def __init__(self, fake: FakeTelegram, db_url: str, workdir: Path, **env: str) -> None:
        self.fake = fake
        self.db_url = db_url
        self.workdir = workdir
        self.exec_python = False  # True: `python -m bot` itself instead of a fork
        self.extra_env = env
        self.process: asyncio.subprocess.Process | _Forked | None = None
        self.log_path = workdir / "bot.log"
        self.clock_file = workdir / "clock-offset"
        self.offset = 0.0

    async def start(self, ready_call: str = "getUpdates") -> None:
        """Start the process and wait until it calls `ready_call` (polling has begun)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_"))}
        env.update(
            BOT_TOKEN=self.fake.token,
            TELEGRAM_API_URL=self.fake.url,
            DATABASE_URL=self.db_url,
            LOG_LEVEL="DEBUG",
            SWEEP_INTERVAL="0.5",
            STARTUP_GRACE="0.2",
            WELCOME_INTERVAL="0.5",
            TEST_CLOCK_FILE=str(self.clock_file),
            OWNER_IDS="",
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        if self.exec_python:
            log = self.log_path.open("ab")
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.workdir, env=env, stdout=log, stderr=log
            )
            log.close()
        else:
            self.process = _Forked(env, self.workdir, self.log_path)

        def ready() -> bool:
            if ready_call == "getUpdates":
                return self.fake.polls_started > before
            return len(self.fake.calls_of(ready_call)) > before

        before = (
            self.fake.polls_started
            if ready_call == "getUpdates"
            else len(self.fake.calls_of(ready_call))
        )
        # a ceiling, not a wait: a loaded 2-core machine takes half a minute to import aiogram
        await self.fake.wait_for(lambda: ready() or self.exited(), timeout=90)
        assert not self.exited(), self.log()

    def move_clock(self, seconds: float) -> None:
        """Move the process's clock and the fake's dates forward together."""
        self.offset += seconds
        self.fake.advance(seconds)
        staged = self.clock_file.with_suffix(".new")
        staged.write_text(repr(self.offset))
        staged.replace(self.clock_file)  # the process never reads half a number

    def job_runs(self, job_id: str) -> int:
        """How many runs of the scheduled job `job_id` have finished, over every start."""
        return self.log().count(f'Job "{job_id} (trigger:')

    async def wait_for_job(self, job_id: str, runs: int = 2, timeout: float = 15.0) -> None:
        """Wait until the job has run `runs` more times: whatever it would do is done."""
        target = self.job_runs(job_id) + runs
        await self.fake.wait_for(lambda: self.job_runs(job_id) >= target, timeout=timeout)

    async def settle_and_stop(self) -> int:
        """Let the process take every pending update, then stop it gracefully: SIGTERM lets
        the updates in flight finish, so afterwards nothing more will happen."""
        await self.fake.wait_for(lambda: self.fake.pending_updates == 0)
        return await self.stop()

    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


async def seed_chat(db_url: str, chat_id: int, title: str, **settings: str) -> None:
    """Prepare the database as a previous run would have left it (chat and settings)."""
    from datetime import UTC, datetime

    await upgrade_async(db_url)
    db = Database(db_url)
    async with db.transaction() as session:
        chats = ChatRepository(session)
        await chats.register(chat_id, title, "supergroup", datetime.now(UTC))
        for key, value in settings.items():
            await chats.put_setting(chat_id, key, value)
    await db.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(OWNER, "Olga", username="olga_owner", language_code="en")
    server.add_user(ADMIN, "Anton", username="anton_admin", language_code="en")
    server.add_user(MEMBER, "Maria", username="maria", language_code="en")
    server.add_chat(GROUP, "Hearth Test")
    server.set_member(GROUP, OWNER, "creator")
    server.set_member(GROUP, ADMIN, "administrator")
    server.set_member(GROUP, MEMBER, "member")
    server.add_bot_to_chat(GROUP, OWNER, admin=True)
    yield server
    await server.stop()


@pytest.fixture
def db_file_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


@pytest.fixture
async def bot_process(
    fake: FakeTelegram, db_file_url: str, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    """A bot process (not started): tests seed the database first, then `await start()`."""
    proc = BotProcess(fake, db_file_url, tmp_path)
    yield proc
    if proc.process is not None and proc.process.returncode is None:
        proc.process.kill()
        await proc.process.wait()
