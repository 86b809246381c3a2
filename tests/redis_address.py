"""Where the tests find Redis: 127.0.0.1:6379 unless TEST_REDIS_ADDR names another server
(host:port), so several checkouts can run their suites at once, each on its own server."""

from __future__ import annotations

import os

ADDRESS = os.environ.get("TEST_REDIS_ADDR", "127.0.0.1:6379")


def redis_url(db: int) -> str:
    """A URL of Redis database `db` on the tests' server."""
    return f"redis://{ADDRESS}/{db}"
