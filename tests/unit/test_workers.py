"""WEBHOOK_WORKERS: the supervisor starts N workers, passes a stop signal on and exits with a
failing worker's status; starts a worker again (after a growing pause) when it dies after it
said it was ready, and gives up (non-zero) when one dies before that."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from bot.workers import (
    READY_FD_ENV,
    STABLE_AFTER,
    WORKER_ENV,
    Supervisor,
    claim_setup,
    exit_status,
    forget_setup,
    tell_ready,
    worker_index,
)
from tests.unit.test_pace import REDIS_URL, _redis_available

# a worker: records its start and pid; waits while hold-<i> exists (a slow start); exits with
# the status once before it is ready if die-<i> exists; else says it is ready on the pipe and
# runs, exiting with the status when crash-<i> appears, until SIGTERM (exit 0, or 7 with
# fail-on-stop-<i>, or killed with kill-on-stop-<i>)
WORKER = """
import os, signal, sys, time
from pathlib import Path
index = os.environ["HEARTH_WORKER"]
folder = Path(sys.argv[1])
status = int(sys.argv[2])

def on_term(*_):
    (folder / f"stopped-{index}").write_text("1")
    if (folder / f"kill-on-stop-{index}").exists():
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(7 if (folder / f"fail-on-stop-{index}").exists() else 0)

signal.signal(signal.SIGTERM, on_term)
(folder / f"pid-{index}").write_text(str(os.getpid()))
starts = folder / f"started-{index}"
starts.write_text(starts.read_text() + "x" if starts.exists() else "x")
while (folder / f"hold-{index}").exists():
    time.sleep(0.02)
if (folder / f"die-{index}").exists():
    (folder / f"die-{index}").unlink()
    sys.exit(status)
ready = int(os.environ["HEARTH_READY_FD"])
os.write(ready, b"1")
os.close(ready)
while not (folder / f"crash-{index}").exists():
    time.sleep(0.02)
(folder / f"crash-{index}").unlink()
sys.exit(status)
"""


class Clock:
    """The supervisor's monotonic clock, moved by the test; its back-off pauses recorded
    (they return at once)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)


def _supervisor(
    folder: Path, *, status: int = 5, count: int = 3, clock: Clock | None = None
) -> Supervisor:
    script = folder / "worker.py"
    script.write_text(WORKER)
    command = [sys.executable, str(script), str(folder), str(status)]
    clock = clock or Clock()
    return Supervisor(command, count, sleep=clock.sleep, clock=clock)


def _starts(folder: Path, index: int) -> int:
    path = folder / f"started-{index}"
    return len(path.read_text()) if path.exists() else 0


def _pid(folder: Path, index: int) -> int:
    return int((folder / f"pid-{index}").read_text())


async def _until(predicate: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_every_worker_starts_and_a_stop_reaches_each(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 3)
    assert all(_starts(tmp_path, i) == 1 for i in range(3))
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0
    assert all((tmp_path / f"stopped-{i}").exists() for i in range(3))


async def test_a_worker_dying_after_it_was_ready_is_started_again_after_a_pause(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    supervisor = _supervisor(tmp_path, clock=clock)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 3)
    (tmp_path / "crash-1").write_text("")  # at once: no time has passed since it was ready
    await _until(lambda: _starts(tmp_path, 1) == 2 and supervisor.serving == 3)
    assert not run.done()  # the others kept running, and were not started again
    assert _starts(tmp_path, 0) == 1 and _starts(tmp_path, 2) == 1
    assert clock.pauses == [1.0]
    assert "worker 1 exited with status 5 0 s after it was ready: starting it again in 1 s" in (
        caplog.text
    )
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0


async def test_a_restart_failing_before_ready_is_retried_and_the_others_keep_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker that served, died, and then fails its restart (the database away for a
    moment) is tried again after a pause; only a first start that fails stops them all."""
    clock = Clock()
    supervisor = _supervisor(tmp_path, clock=clock)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 3)
    (tmp_path / "die-1").write_text("")  # its next start fails before it is ready
    (tmp_path / "crash-1").write_text("")
    await _until(lambda: _starts(tmp_path, 1) == 3 and supervisor.serving == 3)
    assert not run.done()
    assert _starts(tmp_path, 0) == 1 and _starts(tmp_path, 2) == 1
    assert clock.pauses == [1.0, 2.0]
    assert "before it was ready again: starting it again in 2 s" in caplog.text
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0


async def test_the_pause_doubles_to_30_s_while_it_keeps_dying_and_starts_over_once_it_stayed_up(
    tmp_path: Path,
) -> None:
    clock = Clock()
    supervisor = _supervisor(tmp_path, count=1, clock=clock)
    run = asyncio.create_task(supervisor.run())

    async def crash(starts: int) -> None:
        await _until(lambda: _starts(tmp_path, 0) == starts and supervisor.serving == 1)
        (tmp_path / "crash-0").write_text("")
        await _until(lambda: _starts(tmp_path, 0) == starts + 1 and supervisor.serving == 1)

    for starts in range(1, 8):
        clock.now += 5.0  # each one up a few seconds only
        await crash(starts)
    assert clock.pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    clock.now += STABLE_AFTER  # this one stays up
    await crash(8)
    await crash(9)  # and the next dies soon again
    assert clock.pauses[7:] == [1.0, 2.0]
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0


async def test_a_slow_start_that_fails_is_a_start_up_failure_however_long_it_took(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Imports can take half a minute on a loaded machine: what counts is whether the worker
    had said it serves, not the time since its start."""
    (tmp_path / "hold-2").write_text("")
    (tmp_path / "die-2").write_text("")
    clock = Clock()
    supervisor = _supervisor(tmp_path, status=3, clock=clock)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 2 and _starts(tmp_path, 2) == 1)
    clock.now += 3600.0  # started long ago, still not ready
    (tmp_path / "hold-2").unlink()  # and now it fails
    assert await asyncio.wait_for(run, 20) == 3
    assert _starts(tmp_path, 2) == 1  # not started again: it would only fail again
    assert supervisor.live == 0  # the others were stopped and waited for
    assert all((tmp_path / f"stopped-{i}").exists() for i in (0, 1))
    assert clock.pauses == []
    assert "worker 2 exited with status 3 before it was ready: a start-up failure" in caplog.text


async def test_a_worker_killed_before_it_was_ready_stops_all_with_128_plus_the_signal(
    tmp_path: Path,
) -> None:
    (tmp_path / "hold-0").write_text("")
    supervisor = _supervisor(tmp_path)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 2 and _starts(tmp_path, 0) == 1)
    os.kill(_pid(tmp_path, 0), signal.SIGKILL)
    assert await asyncio.wait_for(run, 20) == 128 + signal.SIGKILL
    assert supervisor.live == 0


@pytest.mark.parametrize(("flag", "status"), [("fail-on-stop", 7), ("kill-on-stop", 137)])
async def test_the_stop_exits_with_a_failing_worker_s_status(
    tmp_path: Path, flag: str, status: int
) -> None:
    (tmp_path / f"{flag}-1").write_text("")
    supervisor = _supervisor(tmp_path)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 3)
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == status
    assert supervisor.live == 0
    assert all((tmp_path / f"stopped-{i}").exists() for i in range(3))


async def test_a_stop_during_the_pause_ends_it_and_starts_nothing(tmp_path: Path) -> None:
    pausing = asyncio.Event()

    async def forever(seconds: float) -> None:
        pausing.set()
        await asyncio.Event().wait()

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    command = [sys.executable, str(script), str(tmp_path), "5"]
    supervisor = Supervisor(command, 2, sleep=forever)
    run = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.serving == 2)
    (tmp_path / "crash-0").write_text("")
    await asyncio.wait_for(pausing.wait(), 20)
    supervisor.stop()
    assert await asyncio.wait_for(run, 20) == 0  # the crash was handled: not a failed stop
    assert _starts(tmp_path, 0) == 1 and supervisor.live == 0


def test_exit_status_of_a_worker() -> None:
    assert exit_status(0) == 0 and exit_status(3) == 3
    assert exit_status(-signal.SIGKILL) == 137
    assert exit_status(-signal.SIGTERM) == 143
    assert exit_status(-signal.SIGTERM, passed_on=signal.SIGTERM) == 0  # it did as asked
    assert exit_status(-signal.SIGKILL, passed_on=signal.SIGTERM) == 137


def test_a_worker_tells_the_supervisor_once_that_it_serves() -> None:
    read_end, write_end = os.pipe()
    environ = {READY_FD_ENV: str(write_end)}
    tell_ready(environ)
    assert os.read(read_end, 10) == b"1"
    assert os.read(read_end, 10) == b""  # and closed its end: nothing more comes
    os.close(read_end)
    assert READY_FD_ENV not in environ
    tell_ready(environ)  # again, or alone (no supervisor): nothing happens
    tell_ready({})


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
