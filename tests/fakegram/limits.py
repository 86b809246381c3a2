"""Flood limits for outgoing bot messages, modelled on Telegram's documented limits.

* groups/supergroups/channels: at most ``group_per_minute`` messages per chat in any
  sliding 60 second window;
* overall: at most ``global_per_second`` messages in any sliding second;
* private chats: a token bucket of ``private_burst`` tokens refilled at
  ``private_per_second`` tokens per second.

``check`` either records the message and returns None, or returns the ``retry_after``
(whole seconds, at least 1) Telegram would put into its 429 reply.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        *,
        group_per_minute: int,
        global_per_second: int,
        private_per_second: float,
        private_burst: int,
    ) -> None:
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self.private_per_second = private_per_second
        self.private_burst = private_burst
        self._global: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self._private: dict[int, _Bucket] = {}

    @staticmethod
    def _trim(window: deque[float], now: float, span: float) -> None:
        while window and window[0] <= now - span:
            window.popleft()

    @staticmethod
    def _seconds(value: float) -> int:
        return max(1, math.ceil(value - 1e-9))

    def check(self, chat_id: int, chat_type: str, now: float) -> int | None:
        """Account one message to ``chat_id``; return retry_after if it must be refused."""
        waits: list[int] = []

        self._trim(self._global, now, 1.0)
        if len(self._global) >= self.global_per_second:
            waits.append(self._seconds(self._global[0] + 1.0 - now))

        group_window: deque[float] | None = None
        bucket: _Bucket | None = None
        if chat_type == "private":
            bucket = self._private.setdefault(chat_id, _Bucket(float(self.private_burst), now))
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(
                float(self.private_burst), bucket.tokens + elapsed * self.private_per_second
            )
            bucket.updated = now
            if bucket.tokens < 1.0:
                waits.append(self._seconds((1.0 - bucket.tokens) / self.private_per_second))
        else:
            group_window = self._groups.setdefault(chat_id, deque())
            self._trim(group_window, now, 60.0)
            if len(group_window) >= self.group_per_minute:
                waits.append(self._seconds(group_window[0] + 60.0 - now))

        if waits:
            return max(waits)
        self._global.append(now)
        if group_window is not None:
            group_window.append(now)
        if bucket is not None:
            bucket.tokens -= 1.0
        return None

    def reset(self) -> None:
        self._global.clear()
        self._groups.clear()
        self._private.clear()
