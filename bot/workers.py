"""WEBHOOK_WORKERS=N: N worker processes sharing the webhook port, and their supervisor.

The parent (`python -m bot` with WEBHOOK_WORKERS above 1) starts N copies of itself, each with
`HEARTH_WORKER=<index>` set; every worker binds the webhook port with SO_REUSEPORT, so the
kernel spreads Telegram's connections among them. The parent handles no updates. It forwards
SIGTERM and SIGINT to every worker and waits for them (each finishes its updates in flight).

A worker that dies while the others run (killed, out of memory) is started again: the others
keep serving meanwhile, and what it had claimed (outbox rows, deadlines, its leadership lease)
is taken over once the claim runs out. A worker that dies within `START_WINDOW` of its start
(a configuration error, an unreachable database) would only die again: then the supervisor
stops the others and exits with that worker's status (1 if it had none), so the service
manager sees the failure instead of a restart loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence

from redis.exceptions import RedisError

from bot.redis_pool import connect

__all__ = [
    "START_WINDOW",
    "WORKER_ENV",
    "Supervisor",
    "claim_setup",
    "forget_setup",
    "worker_index",
]

log = logging.getLogger("hearth.workers")

WORKER_ENV = "HEARTH_WORKER"
START_WINDOW = 30.0
SETUP_CLAIM_SECONDS = 60


def worker_index(environ: Mapping[str, str] = os.environ) -> int | None:
    """This process's index among the webhook workers; None when it runs alone."""
    raw = environ.get(WORKER_ENV, "")
    return int(raw) if raw.isdigit() else None


async def claim_setup(
    redis_url: str | None, bot_id: str, worker: int | None, fingerprint: str
) -> bool:
    """Whether this process registers the webhook and the command menus at start-up.

    Under the supervisor, worker 0 does. Separate processes sharing Redis (one per container)
    take a short claim on `fingerprint` (what they would register): the first to start within
    a minute does it, the others skip calls that would only repeat it; a deploy that changes
    the webhook has another fingerprint and registers at once. Alone, or when Redis does not
    answer, the process does it itself."""
    if worker is not None:
        return worker == 0
    if not redis_url:
        return True
    redis = connect(redis_url, max_connections=1)
    try:
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        key = _setup_prefix(bot_id) + digest
        return bool(await redis.set(key, os.getpid(), nx=True, ex=SETUP_CLAIM_SECONDS))
    except (RedisError, OSError, TimeoutError):
        return True  # repeating setWebhook is harmless; skipping it might not be
    finally:
        await redis.aclose()


def _setup_prefix(bot_id: str) -> str:
    return f"hearth:setup:{bot_id}:"


async def forget_setup(redis_url: str | None, bot_id: str) -> None:
    """Polling deleted the webhook: drop the claims, so a webhook process started within the
    minute registers it again instead of trusting the claim of an earlier one."""
    if not redis_url:
        return
    redis = connect(redis_url, max_connections=1)
    try:
        keys = [key async for key in redis.scan_iter(match=_setup_prefix(bot_id) + "*")]
        if keys:
            await redis.delete(*keys)
    except (RedisError, OSError, TimeoutError) as error:  # the claims expire within a minute
        log.warning("could not clear the webhook set-up claims: %s", error)
    finally:
        await redis.aclose()


class Supervisor:
    """Runs `count` copies of `command` until a signal, starting a dead one again."""

    def __init__(
        self,
        command: Sequence[str],
        count: int,
        *,
        environ: Mapping[str, str] | None = None,
        start_window: float = START_WINDOW,
    ) -> None:
        self._command = list(command)
        self._count = count
        self._environ = dict(os.environ if environ is None else environ)
        self._start_window = start_window
        self._workers: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False
        self._signal: int = signal.SIGTERM  # the one passed on, once stopping

    async def run(self) -> int:
        """Start the workers and supervise them; the exit status for the parent process."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._forward, sig)
        try:
            waits: dict[asyncio.Task[int], tuple[int, float]] = {}
            for index in range(self._count):
                waits[await self._start(index)] = (index, loop.time())
            while waits:
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    index, started = waits.pop(task)
                    status = task.result()
                    if self._stopping:
                        continue
                    if loop.time() - started < self._start_window:
                        log.error("worker %d exited with %d at start-up: stopping", index, status)
                        self._forward(signal.SIGTERM)
                        await asyncio.gather(*waits)
                        return status if status > 0 else 1
                    log.warning("worker %d died (exit status %d): starting it again", index, status)
                    waits[await self._start(index)] = (index, loop.time())
            return 0
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def _start(self, index: int) -> asyncio.Task[int]:
        environ = {**self._environ, WORKER_ENV: str(index)}
        process = await asyncio.create_subprocess_exec(*self._command, env=environ)
        self._workers[index] = process
        log.info("worker %d started (pid %d)", index, process.pid)
        if self._stopping:  # the signal came while it was being started: it ends too
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(self._signal)
        return asyncio.create_task(process.wait())

    @property
    def live(self) -> int:
        """How many workers run now."""
        return sum(1 for process in self._workers.values() if process.returncode is None)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """What SIGTERM (or SIGINT) to the supervisor does."""
        self._forward(sig)

    def _forward(self, sig: int) -> None:
        """Pass the signal on to every live worker; the supervisor ends when they have."""
        self._stopping = True
        self._signal = sig
        for process in self._workers.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)


async def supervise(count: int) -> int:
    """`python -m bot` as the parent of `count` webhook workers."""
    log.info("starting %d webhook workers sharing the port", count)
    status = await Supervisor([sys.executable, "-m", "bot", "run"], count).run()
    log.info("every worker stopped")
    return status
