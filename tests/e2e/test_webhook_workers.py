"""WEBHOOK_WORKERS=2 with the real bot: `python -m bot` supervising two worker processes on one
webhook port (SO_REUSEPORT), as README "Several processes" describes it.

Which worker answered an update is read from the kernel, not guessed: every update is POSTed on
a connection of its own, kept open after the answer, and the process holding the server end of
that connection (/proc/net/tcp inode -> /proc/<pid>/fd) is the worker that handled it (the
webhook answers only after handling: handle_in_background=False). The workers' log lines carry
no pid, so the log alone cannot say it.

Runs only when TEST_DATABASE_URL (PostgreSQL) and Redis (TEST_WORKERS_REDIS_URL, by default
redis://127.0.0.1:6379/13) answer; skips cleanly otherwise. Both are emptied first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.db import upgrade_async
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.e2e.conftest import BotProcess
from tests.e2e.http import free_port, listening
from tests.fakegram.objects import JSON
from tests.fakegram.server import FakeTelegram
from tests.redis_address import redis_url

REDIS_URL = os.environ.get("TEST_WORKERS_REDIS_URL", redis_url(13))
SECRET = "s3cret-value"
FIRST = list(range(70_000, 70_020))  # private /start from different people: no group limit
DURING = list(range(70_100, 70_110))  # while the killed worker starts again
AFTER = list(range(70_200, 70_220))
STARTED = re.compile(r"^(\S+ \S+) INFO hearth\.workers: worker (\d+) started \(pid (\d+)\)", re.M)

pytestmark = pytest.mark.postgres


async def _redis_ready() -> bool:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
        await client.flushdb()  # set-up claims, leases and counters of an earlier run
    except Exception:
        return False
    finally:
        await client.aclose()
    return True


@pytest.fixture
async def supervised(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """`python -m bot` with WEBHOOK_WORKERS=2 (not started) on a fresh PostgreSQL database."""
    if POSTGRES_URL is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    if not await _redis_ready():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    await reset_postgres(POSTGRES_URL)
    await upgrade_async(POSTGRES_URL)  # `python -m bot migrate`: a deploy step before the start
    for user_id in FIRST + DURING + AFTER:
        fake.add_user(user_id, f"P{user_id}", language_code="en")
    port = free_port()
    proc = BotProcess(
        fake,
        POSTGRES_URL,
        tmp_path,
        REDIS_URL=REDIS_URL,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/webhook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        WEBHOOK_WORKERS="2",
        LOG_LEVEL="INFO",
    )
    proc.exec_python = True  # the supervisor starts `python -m bot run` itself: no fork here
    yield proc
    if proc.process is not None and proc.process.returncode is None:
        proc.process.kill()
        await proc.process.wait()
    for pid in _workers(proc).values():  # orphans of a failed run: ours, checked by cmdline
        if b"bot" in _cmdline(pid):
            os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> bytes:
    """The command line of process `pid`; empty once it has ended."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _port(proc: BotProcess) -> int:
    return int(proc.extra_env["WEBHOOK_LISTEN"].rpartition(":")[2])


def _workers(proc: BotProcess) -> dict[int, int]:
    """Worker index -> pid of its latest start, as the supervisor logged it."""
    return {int(index): int(pid) for _, index, pid in STARTED.findall(proc.log())}


def _sockets(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` holds open."""
    found = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    found.add(link[8:-1])
    return found


def _tcp(local_port: int, *, remote_port: int | None = None) -> set[str]:
    """Inodes of the TCP sockets on 127.0.0.1:`local_port`: listening ones, or the one
    connected to `remote_port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if int(local.rpartition(":")[2], 16) != local_port:
            continue
        if remote_port is None:
            wanted = state == "0A"  # LISTEN
        else:
            wanted = int(remote.rpartition(":")[2], 16) == remote_port
        if wanted:
            inodes.add(inode)
    return inodes


def _listeners(proc: BotProcess) -> set[int]:
    """The pids of the workers listening on the webhook port now."""
    listening_inodes = _tcp(_port(proc))
    return {pid for pid in _workers(proc).values() if _sockets(pid) & listening_inodes}


async def _post(proc: BotProcess, update: JSON) -> tuple[int, int | None]:
    """POST one update on a new connection, as Telegram does; (status, pid that answered)."""
    port = _port(proc)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        body = json.dumps(update).encode()
        head = (
            f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        status = int((await reader.readline()).split()[1])  # sent once the update is handled
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        client_port = writer.get_extra_info("sockname")[1]
        server_end = _tcp(port, remote_port=client_port)  # kept open: HTTP/1.1 keep-alive
        owners = [pid for pid in _workers(proc).values() if _sockets(pid) & server_end]
        return status, owners[0] if len(owners) == 1 else None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _all_answered(fake: FakeTelegram, proc: BotProcess, users: list[int]) -> set[int]:
    """Each person writes /start privately at once; every one gets one reply. The pids of
    the workers that handled them."""
    updates = [fake.send_message(user, user, "/start") for user in users]
    results = await asyncio.gather(*(_post(proc, u) for u in updates if u is not None))
    assert [status for status, _ in results] == [200] * len(users), proc.log()[-3000:]
    await fake.wait_for(lambda: all(fake.sent_messages(u) for u in users), timeout=20)
    assert all(len(fake.sent_messages(u)) == 1 for u in users)  # none handled twice
    owners = {pid for _, pid in results}
    assert None not in owners, "an update answered by no worker process"
    return {pid for pid in owners if pid is not None}


async def test_two_workers_share_the_port_survive_a_kill_and_stop(
    fake: FakeTelegram, supervised: BotProcess
) -> None:
    proc = supervised
    await proc.start(ready_call="setWebhook")
    await fake.wait_for(lambda: len(_listeners(proc)) == 2, timeout=60)
    first = _workers(proc)
    assert sorted(first) == [0, 1] and proc.process is not None
    assert all(f", webhook worker {i}" in proc.log() for i in (0, 1))  # "started as @…"
    hook = fake.calls_of("setWebhook")
    assert len(hook) == 1 and hook[0].params["secret_token"] == SECRET  # worker 0 only

    assert await _all_answered(fake, proc, FIRST) == set(first.values())  # both served

    # worker 1 said it serves (the pipe), so a kill now, as the out-of-memory killer's, is
    # no start-up failure: it is started again after a pause (1 s: it died soon after)
    assert all(f"worker {i} is ready (pid {first[i]})" in proc.log() for i in (0, 1))
    os.kill(first[1], signal.SIGKILL)
    died = "worker 1 was killed by SIGKILL"
    await fake.wait_for(lambda: died in proc.log(), timeout=10)
    assert "after it was ready: starting it again in 1 s" in proc.log()
    assert _listeners(proc) == {first[0]}
    assert await _all_answered(fake, proc, DURING) <= {first[0], _workers(proc)[1]}

    await fake.wait_for(lambda: len(_listeners(proc)) == 2, timeout=60)
    again = _workers(proc)
    assert again[0] == first[0] and again[1] != first[1]  # only the killed one started anew
    assert await _all_answered(fake, proc, AFTER) == set(again.values())
    assert len(fake.calls_of("setWebhook")) == 1  # a restarted worker 1 does not register
    assert not proc.exited()

    assert await proc.stop(signal.SIGTERM, timeout=20) == 0
    assert "every worker stopped" in proc.log()
    assert not listening(_port(proc))
    assert not [pid for pid in again.values() if _cmdline(pid)]  # every worker has ended
