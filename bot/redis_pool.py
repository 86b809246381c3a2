"""One Redis client per process, on a bounded pool whose callers wait.

The composition root (bot/app.py) builds the client once and hands it to everything that talks
to Redis: the flood counters, the send budget, the leader lease, the locks, the invalidations
(publisher and listener) and the ledger buffer; it closes the client once, after all of them.

A burst of updates (2,000 group messages at once) asks for more connections than Redis should
get; the default pool refused the extra callers with "Too many connections", so the flood rules
failed open exactly during a flood. Here at most `MAX_CONNECTIONS` connections are open and a
caller beyond that waits (up to `POOL_WAIT` seconds) for one to come back; only a Redis that is
really down (refused, unreachable, silent past the timeouts) makes a caller give up.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

__all__ = ["MAX_CONNECTIONS", "POOL_WAIT", "connect", "opened"]

# what one process needs at once, summed (each user held its own pool before, 77 in all):
PER_MESSAGE = 32  # flood counters: a burst's pipelines and its claims, releases, reads
SENDS = 4  # the send budget: one pump, a few waiters' checks
LOCKS = 8  # a lock is taken and released with one short command each
ONE_EACH = 4  # the leader lease, the invalidations publisher and listener, the ledger flush
MAX_CONNECTIONS = PER_MESSAGE + SENDS + LOCKS + ONE_EACH
POOL_WAIT = 5.0  # seconds a caller waits for a free connection before giving up
SOCKET_TIMEOUT = 2.0  # a busy event loop may read a reply late; this is "Redis is silent"
CONNECT_TIMEOUT = 1.0


def connect(
    url: str, *, max_connections: int = MAX_CONNECTIONS, client_name: str | None = None
) -> Redis:
    """A client on a bounded, waiting connection pool for `url` (its connections named
    `client_name` in `CLIENT LIST`, if given). Closing the client closes the pool."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        client_name=client_name,
        timeout=POOL_WAIT,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
    )
    return Redis.from_pool(pool)


def opened(redis: Redis) -> int:
    """How many connections the client's pool has opened and keeps (in use or idle): as the
    pool opens one only when none is free, the most it has needed at once."""
    pool = redis.connection_pool
    return len(pool._available_connections) + len(pool._in_use_connections)
