"""Per-key values read through a loader and kept for a while: the caches the per-message path
reads (a chat's settings, stop words, log chat, admin list, circle names).

One mechanism for all of them: a value is kept `ttl` seconds on the injected timer; concurrent
misses of one key share one load (bot/singleflight.py), so a burst that finds an entry expired
reads it once; and a load that began before a change (`forget`, `clear`) is answered to its
callers but never kept, so a change is not hidden by a read that raced it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.clock import Timer
from bot.singleflight import SingleFlight

__all__ = ["Expiring"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Expiring(Generic[K, V]):
    """Values by key, each kept `ttl` seconds after it was read or put."""

    def __init__(
        self,
        ttl: float,
        timer: Timer,
        *,
        keep: Callable[[V], bool] = lambda value: True,
        limit: int | None = None,
    ) -> None:
        """`keep` says whether a loaded value may be kept (an "unknown" answer may not);
        with a `limit`, a full cache is emptied before the next value is kept."""
        self._ttl = ttl
        self._timer = timer
        self._keep = keep
        self._limit = limit
        self._values: dict[K, tuple[float, V]] = {}
        self._generation = 0  # moves on every drop: a load that raced one is not kept
        self._loads: SingleFlight[tuple[K, int], V] = SingleFlight()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The kept value, or `load()`'s (shared with concurrent misses of the key)."""
        kept = self._values.get(key)
        if kept is not None and kept[0] > self._timer.monotonic():
            return kept[1]
        generation = self._generation
        value = await self._loads.run((key, generation), load)
        if generation == self._generation and self._keep(value):
            self._store(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` as read now (after this process wrote it)."""
        self._generation += 1  # a load under way read what was there before
        self._store(key, value)

    def _store(self, key: K, value: V) -> None:
        if self._limit is not None and len(self._values) >= self._limit:
            self._values.clear()
        self._values[key] = (self._timer.monotonic() + self._ttl, value)

    def kept(self) -> dict[K, V]:
        """The values kept now, expired or not."""
        return {key: value for key, (_, value) in self._values.items()}

    def forget(self, key: K) -> None:
        """Drop one key's value (changed here or elsewhere)."""
        self._generation += 1
        self._values.pop(key, None)

    def clear(self) -> None:
        """Drop every value (changes may have gone unheard)."""
        self._generation += 1
        self._values.clear()
