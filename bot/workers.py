"""WEBHOOK_WORKERS=N: N worker processes sharing the webhook port, and their supervisor.

The parent (`python -m bot` with WEBHOOK_WORKERS above 1) starts N copies of itself, each with
`HEARTH_WORKER=<index>` set; every worker binds the webhook port with SO_REUSEPORT, so the
kernel spreads Telegram's connections among them. The parent handles no updates. It forwards
SIGTERM and SIGINT to every worker and waits for them (each finishes its updates in flight),
then exits 0 if every worker ended cleanly, else with a failing worker's status (128+N for one
killed by signal N other than the one passed on), so the service manager sees it.

Readiness is explicit, not guessed from the time since the start (imports alone take up to
17 s on a loaded machine): each worker gets the write end of a pipe (its number in
`HEARTH_READY_FD`) and writes one byte once its webhook site listens (`tell_ready`).

- A worker that dies before it is ready at its first start (a configuration error, an
  unreachable database) would only die again: the supervisor stops the others and exits with
  that worker's status (1 if it had none). A restart that fails before it is ready (the
  database away for a moment) is retried like a death after readiness: the others serve on.
- A worker that dies after it was ready (killed, out of memory) is started again while the
  others keep serving; what it had claimed (outbox rows, deadlines, its leadership lease) is
  taken over once the claim runs out. The restart waits `BACKOFF_FIRST` (1 s), doubling up to
  `BACKOFF_MAX` (30 s) while it keeps dying within `STABLE_AFTER` of becoming ready; once it
  has stayed up that long, the next restart waits 1 s again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence

from redis.exceptions import RedisError

from bot.redis_pool import connect

__all__ = [
    "BACKOFF_FIRST",
    "BACKOFF_MAX",
    "READY_FD_ENV",
    "STABLE_AFTER",
    "WORKER_ENV",
    "Supervisor",
    "claim_setup",
    "exit_status",
    "forget_setup",
    "tell_ready",
    "worker_index",
]

log = logging.getLogger("hearth.workers")

WORKER_ENV = "HEARTH_WORKER"
READY_FD_ENV = "HEARTH_READY_FD"  # the pipe a worker writes one byte to once it serves
BACKOFF_FIRST = 1.0  # seconds before a dead worker is started again, doubling ...
BACKOFF_MAX = 30.0  # ... up to this, while it keeps dying soon after becoming ready
STABLE_AFTER = 60.0  # up this long after becoming ready: the back-off starts over
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
    """Runs `count` copies of `command` until a signal; starts one that dies after it was
    ready again (after a back-off), stops them all when one dies before it was ready.

    `sleep` and `clock` are injectable so that tests record the back-off instead of waiting."""

    def __init__(
        self,
        command: Sequence[str],
        count: int,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._command = list(command)
        self._count = count
        self._environ = dict(os.environ if environ is None else environ)
        self._sleep = sleep
        self._clock = clock
        self._workers: dict[int, asyncio.subprocess.Process] = {}
        self._ready: set[int] = set()  # indexes of the workers serving now
        self._stopping = False
        self._stopped = asyncio.Event()
        self._signal: int = signal.SIGTERM  # the one passed on, once stopping
        self._failure: int | None = None  # the status of a start-up failure
        self._endings: list[int] = []  # exit statuses of the workers the stop ended

    async def run(self) -> int:
        """Start the workers and supervise them; the exit status for the parent process."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._forward, sig)
        try:
            await asyncio.gather(*(self._keep(index) for index in range(self._count)))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        if self._failure is not None:
            return self._failure
        return next((status for status in self._endings if status != 0), 0)

    async def _keep(self, index: int) -> None:
        """Worker `index`, started again after each death once it had been ready, until the
        stop or a start-up failure."""
        backoff, served = BACKOFF_FIRST, False
        while not self._stopping:
            process, ready_at = await self._start_until_ready(index)
            code = await process.wait()
            self._ready.discard(index)
            if self._stopping:
                self._endings.append(exit_status(code, passed_on=self._signal))
                return
            if ready_at is None and not served:
                log.error(
                    "worker %d %s before it was ready: a start-up failure, stopping the others",
                    index,
                    _describe(code),
                )
                self._failure = exit_status(code) or 1
                self._forward(signal.SIGTERM)
                return
            served = True  # a restart that fails (the database away a moment) is retried
            up = 0.0 if ready_at is None else self._clock() - ready_at
            if up >= STABLE_AFTER:
                backoff = BACKOFF_FIRST
            log.warning(
                "worker %d %s %s: starting it again in %.0f s",
                index,
                _describe(code),
                "before it was ready again"
                if ready_at is None
                else f"{up:.0f} s after it was ready",
                backoff,
            )
            await self._pause(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _start_until_ready(
        self, index: int
    ) -> tuple[asyncio.subprocess.Process, float | None]:
        """Start worker `index`; when it said it was ready (None: it closed the pipe without
        a word, which means it has died or is dying)."""
        read_end, write_end = os.pipe()
        try:
            environ = {**self._environ, WORKER_ENV: str(index), READY_FD_ENV: str(write_end)}
            process = await asyncio.create_subprocess_exec(
                *self._command, env=environ, pass_fds=(write_end,)
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # the worker holds the only write end: EOF once it dies
        self._workers[index] = process
        log.info("worker %d started (pid %d)", index, process.pid)
        if self._stopping:  # the signal came while it was being started: it ends too
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(self._signal)
        if not await _read_ready(read_end):
            return process, None
        self._ready.add(index)
        log.info("worker %d is ready (pid %d)", index, process.pid)
        return process, self._clock()

    async def _pause(self, seconds: float) -> None:
        """The back-off before a restart; a stop ends it at once."""
        pause = asyncio.ensure_future(self._sleep(seconds))
        stopped = asyncio.ensure_future(self._stopped.wait())
        await asyncio.wait([pause, stopped], return_when=asyncio.FIRST_COMPLETED)
        pause.cancel()
        stopped.cancel()

    @property
    def live(self) -> int:
        """How many workers run now."""
        return sum(1 for process in self._workers.values() if process.returncode is None)

    @property
    def serving(self) -> int:
        """How many workers run and have said they are ready."""
        return len(self._ready)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """What SIGTERM (or SIGINT) to the supervisor does."""
        self._forward(sig)

    def _forward(self, sig: int) -> None:
        """Pass the signal on to every live worker; the supervisor ends when they have."""
        self._stopping = True
        self._stopped.set()
        self._signal = sig
        for process in self._workers.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)


async def _read_ready(fd: int) -> bool:
    """Wait for the worker's byte on the pipe (True) or the pipe's end (False); closes `fd`."""
    loop = asyncio.get_running_loop()
    said: asyncio.Future[bool] = loop.create_future()

    def readable() -> None:
        if not said.done():
            said.set_result(bool(os.read(fd, 1)))

    loop.add_reader(fd, readable)
    try:
        return await said
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def exit_status(code: int, *, passed_on: int | None = None) -> int:
    """A worker's return code as a process exit status: 128+N for one killed by signal N,
    except 0 for one ended by the signal the supervisor passed on (it did what was asked)."""
    if code >= 0:
        return code
    return 0 if -code == passed_on else 128 - code


def _describe(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with status {code}"


def tell_ready(environ: MutableMapping[str, str] = os.environ) -> None:
    """In a worker: tell the supervisor this process serves now (once; alone, nothing)."""
    raw = environ.pop(READY_FD_ENV, "")
    if not raw.isdigit():
        return
    try:
        os.write(int(raw), b"1")
    except OSError as error:  # the supervisor is gone: nobody to tell
        log.warning("could not tell the supervisor this worker is ready: %s", error)
    finally:
        with contextlib.suppress(OSError):
            os.close(int(raw))


async def supervise(count: int) -> int:
    """`python -m bot` as the parent of `count` webhook workers."""
    log.info("starting %d webhook workers sharing the port", count)
    status = await Supervisor([sys.executable, "-m", "bot", "run"], count).run()
    log.info("every worker stopped")
    return status
