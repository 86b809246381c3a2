"""Webhook delivery, as Telegram does it once `setWebhook` named a URL.

Each pending update is POSTed as JSON (with `X-Telegram-Bot-Api-Secret-Token` when a secret
was set), up to `max_connections` at a time; an answer 2xx confirms it, anything else (an
error status, a refused or dropped connection, a timeout) leaves it pending and it is sent
again after a short pause. Telegram posts to one URL; a test of several processes sets
`targets`, standing in for the reverse proxy in front of them: the updates then go round robin
to those URLs, and a target that fails is skipped for the next try.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

import aiohttp

from .objects import JSON

if TYPE_CHECKING:
    from .server import FakeTelegram

RETRY_PAUSE = 0.2
TIMEOUT = aiohttp.ClientTimeout(total=30)


class WebhookSender:
    """Delivers the world's pending updates while a webhook is set."""

    def __init__(self, fake: FakeTelegram) -> None:
        self._fake = fake
        self.targets: list[str] = []  # the "proxy": round robin among these, if set
        self.delivered = 0
        self.delivered_to: dict[str, int] = {}  # target -> updates it confirmed
        self.failed = 0
        self._in_flight: set[int] = set()
        self._routes: dict[int, str] = {}  # update_id -> the one target it must go to
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._http: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._stopping = False
        self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        # a flag, not cancel(): Python 3.11's wait_for can swallow a cancellation
        self._stopping = True
        if self._task is not None:
            await self._task
            self._task = None
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _run(self) -> None:
        sending = self._sending
        while not self._stopping:
            wakeup = self._fake.wakeup
            hook = self._fake.api.webhook
            limit = int(hook.get("max_connections") or 40)
            if hook.get("url"):
                for update in self._fake.api._deliverable(100):
                    if len(self._in_flight) >= limit:
                        break
                    if update["update_id"] in self._in_flight:
                        continue
                    self._in_flight.add(update["update_id"])
                    task = asyncio.create_task(self._deliver(update, hook))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
            waiter = asyncio.ensure_future(wakeup.wait())
            await asyncio.wait([waiter], timeout=RETRY_PAUSE)
            waiter.cancel()

    def route(self, update: JSON, target: str) -> None:
        """Send this update to `target` only (a test addressing one process)."""
        self._routes[int(update["update_id"])] = target

    def _target(self, update: JSON, hook: JSON) -> str:
        if update["update_id"] in self._routes:
            return self._routes[update["update_id"]]
        if self.targets:
            return self.targets[next(self._turn) % len(self.targets)]
        return str(hook["url"])

    async def _deliver(self, update: JSON, hook: JSON) -> None:
        assert self._http is not None
        headers = {}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
        ok = False
        target = self._target(update, hook)
        try:
            async with self._http.post(target, json=update, headers=headers) as reply:
                await reply.read()
                ok = 200 <= reply.status < 300
        except (aiohttp.ClientError, OSError, TimeoutError):
            ok = False
        if ok:
            self.delivered += 1
            self.delivered_to[target] = self.delivered_to.get(target, 0) + 1
            self._fake.updates = [u for u in self._fake.updates if u is not update]
        else:
            self.failed += 1
            await asyncio.sleep(RETRY_PAUSE)  # Telegram backs off before trying again
        self._in_flight.discard(update["update_id"])
        self._fake.notify()
