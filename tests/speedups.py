"""Costs tests paid again and again for nothing they test, taken away once per test process.
None changes what is tested: the answers are the same objects.

- aiogram's HTTP session loads the system's CA certificates into a new SSL context for every
  Bot (about 20–40 ms); the fake Bot API speaks plain HTTP, and one context serves them all.
- aiogram builds ~860 handler objects per dispatcher (~28 per router, mostly its own) and
  reads `inspect.signature` of each callback; the routers' functions are the same between
  tests, so their signatures are kept.
- Closing aiogram's HTTP session waits a fixed 0.25 s for TLS connections to close; the fake
  Bot API speaks plain HTTP on loopback, so the session closes without it (about 60 tests
  each closed one or more).
"""

from __future__ import annotations

import functools
import inspect
import ssl
import types
from typing import Any

import aiogram.client.session.aiohttp as aiogram_aiohttp
import aiogram.dispatcher.event.handler as aiogram_handler


@functools.cache
def _shared_ssl_context(cafile: str | None = None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


def _ssl_context(*args: Any, cafile: str | None = None, **kwargs: Any) -> ssl.SSLContext:
    if args or kwargs:
        return ssl.create_default_context(*args, cafile=cafile, **kwargs)
    return _shared_ssl_context(cafile)


@functools.cache
def _function_signature(function: types.FunctionType) -> inspect.Signature:
    return inspect.signature(function)


def _signature(callback: Any, **kwargs: Any) -> inspect.Signature:
    if isinstance(callback, types.FunctionType) and not kwargs:
        return _function_signature(callback)
    return inspect.signature(callback, **kwargs)


def install() -> None:
    """Point aiogram's two modules at the caching versions (tests only)."""
    aiogram_aiohttp.ssl = types.SimpleNamespace(  # type: ignore[assignment,attr-defined]
        **{**vars(ssl), "create_default_context": _ssl_context}
    )
    aiogram_handler.inspect = types.SimpleNamespace(  # type: ignore[assignment,attr-defined]
        **{**vars(inspect), "signature": _signature}
    )
    aiogram_aiohttp.AiohttpSession.close = _close_without_tls_wait  # type: ignore[method-assign]


async def _close_without_tls_wait(self: aiogram_aiohttp.AiohttpSession) -> None:
    if self._session is not None and not self._session.closed:
        await self._session.close()
