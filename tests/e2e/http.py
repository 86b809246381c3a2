"""HTTP helpers for the end-to-end tests: a free port, whether it listens, the operator's
endpoints (/healthz, /metrics) of a running bot process."""

from __future__ import annotations

import socket

import aiohttp

from tests.fakegram.server import FakeTelegram


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def metrics_showing(fake: FakeTelegram, port: int, *lines: str) -> str:
    """The /metrics text once it has every line (updates are counted when handled, a moment
    after the bot's reply went out)."""
    seen = ""

    async def has_all() -> bool:
        nonlocal seen
        status, seen = await get(f"http://127.0.0.1:{port}/metrics")
        return status == 200 and all(line in seen for line in lines)

    try:
        await fake.wait_for(has_all, timeout=30)
    except AssertionError:
        missing = [line for line in lines if line not in seen]
        raise AssertionError(f"missing {missing} in:\n{seen}") from None
    return seen
