"""Cached chat state dropped in every process as soon as one of them changes it.

Settings, stop words and log chats are cached per process (60 s, `CACHE_TTL`) because every
group message reads them; Telegram's admin lists for 5 minutes. With several processes a `/set`
in one used to reach the others only when their copies expired (and a demoted admin kept admin
commands there). Now the process that changed something (or heard of a change: a chat_member
update) publishes one short message after the commit on `hearth:inval:<bot id>`; every process
listens there and drops the named entry, so the change takes effect everywhere within a round
trip through Redis.

Pub/sub delivers at most once: a process whose connection dropped may have missed messages, so
once it is subscribed again it clears every cache (a few extra reads, never a stale rule). The
expiries stay as the fallback for a Redis that is down. Without Redis there is one process
(bot/singleton.py) and each writer drops its own cache, so `Invalidations` publishes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from bot.clock import SystemTimer, Timer

if TYPE_CHECKING:
    from bot.context import Hearth

__all__ = [
    "BACKOFF_MAX",
    "BACKOFF_MIN",
    "Changes",
    "Invalidations",
    "Kind",
    "RedisInvalidations",
    "build_invalidations",
    "wire",
]

log = logging.getLogger(__name__)

BACKOFF_MIN = 0.1  # seconds before the first reconnection attempt
BACKOFF_MAX = 10.0
POLL = 1.0  # seconds one wait for a message lasts (the listener stays cancellable)
PING_EVERY = 5.0  # seconds of silence before the listener asks whether Redis is still there
SILENCE = 3 * PING_EVERY  # no answer to a ping for this long: the connection is dead


class Kind(StrEnum):
    """What changed; each kind names one per-chat cache."""

    SETTINGS = "settings"
    STOP_WORDS = "stop_words"
    LOG_CHAT = "log_chat"
    KB_NOTES = "kb_notes"  # the names of a chat's notes (the `#name` check)
    CIRCLES = "circles"  # the names `#name` calls
    ADMINS = "admins"  # the chat's administrators (who may use admin commands)


Drop = Callable[[int], None]
Reset = Callable[[], None]


class Changes(Protocol):
    """What a cache owner is given: say that a chat's state changed (after the commit)."""

    async def publish(self, kind: Kind, chat_id: int) -> None: ...


class Invalidations:
    """The table of caches (`on`, `on_reset`) and, in one process, nothing to tell others."""

    def __init__(self) -> None:
        self._drops: dict[Kind, list[Drop]] = {}
        self._resets: list[Reset] = []

    def on(self, kind: Kind, drop: Drop) -> None:
        """`drop(chat_id)` runs when another process changed `kind` for that chat."""
        self._drops.setdefault(kind, []).append(drop)

    def on_reset(self, *resets: Reset) -> None:
        """Each `reset()` empties a whole cache (after messages may have been missed)."""
        self._resets.extend(resets)

    def drop(self, kind: Kind, chat_id: int) -> None:
        for drop in self._drops.get(kind, []):
            try:
                drop(chat_id)
            except Exception:
                log.exception("could not drop the cached %s of chat %s", kind, chat_id)

    def reset(self) -> None:
        for reset in self._resets:
            try:
                reset()
            except Exception:
                log.exception("could not clear a cache")

    async def publish(self, kind: Kind, chat_id: int) -> None:
        """One process: the writer already dropped its own cache."""

    async def start(self) -> None:
        """One process: nothing to listen to."""

    async def stop(self) -> None:
        """Nothing to stop."""


class RedisInvalidations(Invalidations):
    """Publishes changes on the bot's channel and listens there in a background task."""

    def __init__(self, redis: Redis, bot_id: str, *, timer: Timer | None = None) -> None:
        """`redis` is the process's client (the application closes it): publishing borrows
        a connection for a moment, listening holds one of its pool's for as long as it is
        subscribed (returned, and taken again, on a reconnection)."""
        super().__init__()
        self.channel = f"hearth:inval:{bot_id}"
        self.origin = uuid.uuid4().hex  # this process: its own messages are not news to it
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._redis = redis
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.subscribed = asyncio.Event()  # set while the listener is subscribed
        self.reconnects = 0  # subscriptions after the first (each cleared every cache)

    @property
    def client_name(self) -> str | None:
        """The name the client's connections (the listener's too) carry in `CLIENT LIST`."""
        name = self._redis.connection_pool.connection_kwargs.get("client_name")
        return str(name) if name is not None else None

    async def publish(self, kind: Kind, chat_id: int) -> None:
        """Tell the other processes; a Redis failure leaves them the 60 s expiry."""
        try:
            await self._redis.publish(self.channel, f"{self.origin}:{kind}:{chat_id}")
        except (RedisError, OSError, TimeoutError) as error:
            log.warning(
                "could not tell other processes that %s of chat %s changed (they see it "
                "within a minute): %s",
                kind,
                chat_id,
                error,
            )

    def receive(self, data: bytes | str) -> None:
        """Drop what a message names; a malformed message is ignored."""
        text = data.decode() if isinstance(data, bytes) else data
        origin, _, rest = text.partition(":")
        kind, _, chat = rest.partition(":")
        if origin == self.origin:
            return
        try:
            self.drop(Kind(kind), int(chat))
        except ValueError:
            log.warning("ignored an invalidation message: %r", text[:100])

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hearth-invalidations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        """Subscribe, listen until the connection fails, wait a growing pause, again."""
        backoff = BACKOFF_MIN
        first = True
        while True:
            pubsub = self._redis.pubsub()
            try:
                await self._subscribe(pubsub)
                self._subscribed(first)
                first, backoff = False, BACKOFF_MIN
                await self._listen(pubsub)
            except (RedisError, OSError, TimeoutError) as error:
                if not self._failing:
                    log.warning(
                        "invalidation channel unavailable, caches fall back to the 60 s expiry "
                        "until it is back: %s",
                        error,
                    )
                self._failing = True
            finally:
                self.subscribed.clear()
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await self._timer.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _subscribe(self, pubsub: PubSub) -> None:
        """Subscribe and wait for Redis to confirm: from then on no change goes unheard."""
        await pubsub.subscribe(self.channel)
        for _ in range(int(SILENCE / POLL)):
            message = await pubsub.get_message(timeout=POLL)
            if message is not None and message["type"] == "subscribe":
                return
        raise TimeoutError("Redis did not confirm the subscription")

    def _subscribed(self, first: bool) -> None:
        if not first:
            self.reconnects += 1
        if not first or self._failing:
            # whatever changed while the connection was down was not heard: read it again
            self.reset()
        if self._failing:
            log.info("invalidation channel is back; caches cleared")
        self._failing = False
        self.subscribed.set()

    async def _listen(self, pubsub: PubSub) -> None:
        """Handle messages; a silent connection is pinged, and one that stays silent is dead."""
        heard = pinged = self._timer.monotonic()
        while True:
            message = await pubsub.get_message(timeout=POLL)
            now = self._timer.monotonic()
            if message is not None:
                heard = now
                if message["type"] == "message":
                    self.receive(message["data"])
                continue
            if now - heard > SILENCE:
                raise TimeoutError(f"Redis silent for {now - heard:.0f} s")
            if now - max(heard, pinged) > PING_EVERY:
                pinged = now
                await pubsub.ping()


def build_invalidations(redis: Redis | None, bot_id: str) -> Invalidations:
    """Over Redis when several processes may run; otherwise the local table alone. The
    listener waits on the network, so it paces its reconnections by real time."""
    if redis is not None:
        return RedisInvalidations(redis, bot_id, timer=SystemTimer())
    return Invalidations()


def wire(hearth: Hearth) -> Hearth:
    """Which cache each kind of change drops, and the caches cleared after a reconnection;
    returns `hearth`, wired."""
    invalidations, settings, moderation = (
        hearth.invalidations,
        hearth.chat_settings,
        hearth.moderation,
    )
    invalidations.on(Kind.SETTINGS, settings.forget)  # the rules parsed from it follow
    invalidations.on(Kind.STOP_WORDS, moderation.forget_stop_words)
    invalidations.on(Kind.LOG_CHAT, moderation.forget_log_chat)
    invalidations.on_reset(settings.clear, moderation.clear)
    invalidations.on(Kind.KB_NOTES, hearth.kb.notes.forget)
    invalidations.on_reset(hearth.kb.notes.clear_cache)
    invalidations.on(Kind.CIRCLES, hearth.circles.book.forget)
    invalidations.on_reset(hearth.circles.book.clear)
    invalidations.on(Kind.ADMINS, hearth.admins.forget)  # a demoted admin loses it everywhere
    invalidations.on_reset(hearth.admins.clear)
    return hearth
