"""Run a measurement on SQLite (a temporary file) and, when one is named, on PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path


async def on_each_backend(measure: Callable[[str, str], Awaitable[bool]], filename: str) -> bool:
    """`measure(name, url)` on SQLite, then on BENCH_DATABASE_URL or TEST_DATABASE_URL if it
    names PostgreSQL; True when every run met its target."""
    with tempfile.TemporaryDirectory() as folder:
        ok = await measure("sqlite", f"sqlite+aiosqlite:///{Path(folder) / filename}")
    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if postgres and postgres.startswith("postgresql"):
        ok = await measure("postgres", postgres) and ok
    else:
        print("postgres: skipped (set TEST_DATABASE_URL to a PostgreSQL database)")
    return ok


async def best_of(run: Callable[[], Awaitable[object]], times: int = 3) -> float:
    """The fastest of `times` runs, in seconds (the others paid for noise, not for the work)."""
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        await run()
        best = min(best, time.perf_counter() - started)
    return best
