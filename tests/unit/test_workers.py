"""WEBHOOK_WORKERS: the supervisor starts N workers, passes a stop signal on, starts a worker
again when it dies while running, and gives up (non-zero) when one dies at start-up."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from bot.workers import WORKER_ENV, Supervisor, claim_setup, forget_setup, worker_index
from tests.unit.test_pace import REDIS_URL, _redis_available

# a worker: records its start, exits 5 once if told to, else runs until SIGTERM (exit 0)
WORKER = """
import os, signal, sys, time
from pathlib import Path
index = os.environ["HEARTH_WORKER"]
folder = Path(sys.argv[1])
stopped = folder / f"stopped-{index}"
signal.signal(signal.SIGTERM, lambda *_: (stopped.write_text("1"), sys.exit(0)))
starts = folder / f"started-{index}"
starts.write_text(starts.read_text() + "x" if starts.exists() else "x")
if (folder / f"die-{index}").exists():
    (folder / f"die-{index}").unlink()
    sys.exit(int(sys.argv[2]))
while True:
    time.sleep(0.05)
"""


def _supervisor(folder: Path, *, status: int = 5, start_window: float = 0.0) -> Supervisor:
    script = folder / "worker.py"
    script.write_text(WORKER)
    command = [sys.executable, str(script), str(folder), str(status)]
    return Supervisor(command, 3, start_window=start_window)


def _starts(folder: Path, index: int) -> int:
    path = folder / f"started-{index}"
    return len(path.read_text()) if path.exists() else 0


async def _until(predicate: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_every_worker_starts_and_a_stop_reaches_each(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: all(_starts(tmp_path, i) == 1 for i in range(3)))
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0
    assert all((tmp_path / f"stopped-{i}").exists() for i in range(3))


async def test_a_worker_that_dies_while_running_is_started_again(tmp_path: Path) -> None:
    (tmp_path / "die-1").write_text("")
    supervisor = _supervisor(tmp_path, start_window=0.0)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: _starts(tmp_path, 1) == 2 and _starts(tmp_path, 0) == 1)
    assert not run.done()  # the others kept running
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0


async def test_a_worker_failing_at_start_up_stops_all_with_its_status(tmp_path: Path) -> None:
    (tmp_path / "die-2").write_text("")
    supervisor = _supervisor(tmp_path, status=3, start_window=60.0)
    assert await asyncio.wait_for(supervisor.run(), 20) == 3
    assert _starts(tmp_path, 2) == 1  # not started again: it would only fail again
    assert supervisor.live == 0  # the others were stopped and waited for


def test_worker_index_comes_from_the_supervisor() -> None:
    assert worker_index({}) is None
    assert worker_index({WORKER_ENV: "2"}) == 2


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBHOOK_WORKERS": "2"}, "needs WEBHOOK_URL"),
        ({"WEBHOOK_WORKERS": "2", "REDIS_URL": "redis://x"}, "needs WEBHOOK_URL"),
        (
            {"WEBHOOK_URL": "https://a.example/webhook", "WEBHOOK_SECRET": "s"},
            "needs PostgreSQL and REDIS_URL",
        ),
        (
            {
                "WEBHOOK_URL": "https://a.example/webhook",
                "WEBHOOK_SECRET": "s",
                "DATABASE_URL": "postgresql+asyncpg://h/db",
            },
            "needs PostgreSQL and REDIS_URL",
        ),
    ],
)
def test_several_workers_need_webhook_postgres_and_redis(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"WEBHOOK_WORKERS": "2", **env}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(bot_token="1:abcdefgh", _env_file=None)
    assert "\n" not in str(error.value)


def test_several_workers_accepted_on_postgres_with_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(
        bot_token="1:abcdefgh",
        webhook_url="https://a.example/webhook",
        webhook_secret="s",
        database_url="postgresql+asyncpg://h/db",
        redis_url="redis://127.0.0.1:6379/15",
        webhook_workers=3,
        _env_file=None,
    )
    assert settings.webhook_workers == 3


async def test_one_process_of_several_registers_the_webhook() -> None:
    assert await claim_setup(None, "42", None, "a")  # alone
    assert await claim_setup(REDIS_URL, "42", 0, "a")  # worker 0 under the supervisor
    assert not await claim_setup(REDIS_URL, "42", 1, "a")
    if not await _redis_available():
        pytest.skip("Redis is not available")
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    await client.delete(*[k async for k in client.scan_iter("hearth:setup:42:*")] or ["none"])
    await client.aclose()
    assert await claim_setup(REDIS_URL, "42", None, "a")  # the first of a deploy
    assert not await claim_setup(REDIS_URL, "42", None, "a")  # the next does not repeat it
    assert await claim_setup(REDIS_URL, "42", None, "b")  # another webhook: registered again
    await forget_setup(REDIS_URL, "42")  # a polling run deleted the webhook
    assert await claim_setup(REDIS_URL, "42", None, "a")  # so the next webhook run sets it


async def test_a_stop_while_a_worker_is_being_started_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM landing while a worker is spawned (the loop runs the signal handler inside
    create_subprocess_exec) must still stop it: else the supervisor waits for it forever."""
    supervisor = _supervisor(tmp_path)
    spawn = asyncio.create_subprocess_exec

    async def spawn_then_signal(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        process = await spawn(*args, **kwargs)
        supervisor.stop()  # the signal arrives before the supervisor knows the process
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spawn_then_signal)
    assert await asyncio.wait_for(supervisor.run(), 20) == 0
    assert supervisor.live == 0
