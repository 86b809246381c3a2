"""One way to connect to Redis for the per-message path: a bounded pool whose callers wait.

A burst of updates (2,000 group messages at once) asks for more connections than Redis should
get; the default pool refused the extra callers with "Too many connections", so the flood rules
failed open exactly during a flood. Here at most `MAX_CONNECTIONS` connections are open and a
caller beyond that waits (up to `POOL_WAIT` seconds) for one to come back; only a Redis that is
really down (refused, unreachable, silent past the timeouts) makes a caller give up.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

__all__ = ["MAX_CONNECTIONS", "POOL_WAIT", "connect"]

MAX_CONNECTIONS = 32  # per process and client; Redis serves them one command at a time anyway
POOL_WAIT = 5.0  # seconds a caller waits for a free connection before giving up
SOCKET_TIMEOUT = 2.0  # a busy event loop may read a reply late; this is "Redis is silent"
CONNECT_TIMEOUT = 1.0


def connect(
    url: str, *, max_connections: int = MAX_CONNECTIONS, client_name: str | None = None
) -> Redis:
    """A client on a bounded, waiting connection pool for `url` (its connections named
    `client_name` in `CLIENT LIST`, if given)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        client_name=client_name,
        timeout=POOL_WAIT,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
    )
    return Redis.from_pool(pool)  # closing the client closes the pool
