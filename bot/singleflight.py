"""Concurrent loads of one cache entry share one load.

A cached entry read by every group message (a chat's settings, its stop words, its log chat)
expires every minute. Under a burst hundreds of updates are in flight when it does, and each
of them found the entry missing and read the database: measured, 177 reads of one chat's stop
words at once. Here the first miss starts the load and the others wait for its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """One load per key at a time; its callers share the result (or the error).

    Put what invalidates the entry into the key (a version that `forget` moves): a caller
    that comes after a change must not join a load that may have read the old value."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(load())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        # a caller that is cancelled leaves the load running for the others
        return await asyncio.shield(flight)

    def _landed(self, key: K, flight: asyncio.Future[V]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # seen: no "exception was never retrieved" if nobody waits
