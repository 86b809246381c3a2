"""Prometheus metrics of one running bot, in a registry the Application owns (never the
library's global one, so each test's application counts only its own work).

Counted as they happen: updates by type and their handling time (an outer middleware on
`dispatcher.update`), and every Bot API request by method and result (a request middleware,
registered innermost so each retry counts as the request it is). Refreshed from the database
right before each scrape (`refresh`): outbox depth and lateness, deadline lag, pool use.
Labels are method names and update types only: no chat ids, user ids or texts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.clock import Clock, Timer
from bot.db import Database
from models.deadlines import DeadlineRepository
from models.outbox import OutboxRepository

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# handling an update is mostly a few database round trips and one or two Bot API calls
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def call_result(error: BaseException | None) -> str:
    """The result label of one Bot API request: ok, 429, 4xx, 5xx or network."""
    if error is None:
        return "ok"
    if isinstance(error, TelegramRetryAfter):
        return "429"
    if isinstance(error, TelegramServerError):
        return "5xx"
    if isinstance(error, TelegramNetworkError):
        return "network"
    if isinstance(error, TelegramAPIError):
        return "4xx"
    return "network"  # the HTTP client's own failures (a reset connection, a bad answer)


class Metrics:
    """The registry and every metric in it."""

    def __init__(self, timer: Timer) -> None:
        self.timer = timer
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter("hearth_updates", "Updates handled, by type", ["type"], registry=r)
        self.update_errors = Counter(
            "hearth_update_errors", "Updates whose handling raised, by type", ["type"], registry=r
        )
        self.handler_seconds = Histogram(
            "hearth_handler_seconds",
            "Time to handle one update, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.telegram_calls = Counter(
            "hearth_telegram_calls",
            "Bot API requests by method and result (ok, 429, 4xx, 5xx, network)",
            ["method", "result"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "hearth_outbox_pending", "Outbox rows waiting to be sent", registry=r
        )
        self.outbox_oldest = Gauge(
            "hearth_outbox_oldest_due_seconds",
            "How long the oldest pending outbox row has been due (0: none is due)",
            registry=r,
        )
        self.deadline_lag = Gauge(
            "hearth_deadline_lag_seconds",
            "Age of the oldest overdue deadline row (0: none is overdue)",
            registry=r,
        )
        self.db_checked_out = Gauge(
            "hearth_db_pool_checked_out",
            "Database connections in use (pools that count them)",
            registry=r,
        )
        self.db_pool_size = Gauge(
            "hearth_db_pool_size", "Database pool size (pools that have one)", registry=r
        )

    def update_middleware(self) -> UpdateMetrics:
        return UpdateMetrics(self)

    def request_middleware(self) -> TelegramCallMetrics:
        return TelegramCallMetrics(self)

    async def refresh(self, db: Database, clock: Clock) -> None:
        """Read the gauges that need a query; called right before each scrape."""
        self._pool_gauges(db)
        now = clock.now()
        async with db.transaction() as session:
            outbox = OutboxRepository(session)
            pending = await outbox.pending()
            oldest_due = await outbox.oldest_due(now)
            overdue = await DeadlineRepository(session).oldest_overdue(now)
        self.outbox_pending.set(pending)
        self.outbox_oldest.set(_age(now, oldest_due))
        self.deadline_lag.set(_age(now, overdue))

    def _pool_gauges(self, db: Database) -> None:
        pool = db.engine.pool
        checkedout = getattr(pool, "checkedout", None)
        if callable(checkedout):
            self.db_checked_out.set(checkedout())
        size = getattr(pool, "size", None)
        if callable(size):
            self.db_pool_size.set(size())

    async def exposition(self, db: Database, clock: Clock) -> bytes:
        """The text a scrape gets; a database that does not answer leaves the gauges as
        they were (the counters are still worth having)."""
        try:
            await self.refresh(db, clock)
        except Exception as error:
            log.warning("metrics: could not read the database (%s)", type(error).__name__)
        return generate_latest(self.registry)


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


class UpdateMetrics(BaseMiddleware):
    """Counts and times every update (an outer middleware on `dispatcher.update`)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        # the labelled series of each update type, looked up once: this runs for every update
        self._series: dict[str, tuple[Counter, Histogram]] = {}

    def _of(self, kind: str) -> tuple[Counter, Histogram]:
        series = self._series.get(kind)
        if series is None:
            m = self.metrics
            series = self._series[kind] = (m.updates.labels(kind), m.handler_seconds.labels(kind))
        return series

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = _update_type(event)
        timer = self.metrics.timer
        start = timer.monotonic()
        try:
            return await handler(event, data)
        except Exception:
            self.metrics.update_errors.labels(kind).inc()
            raise
        finally:
            count, seconds = self._of(kind)
            count.inc()
            seconds.observe(max(0.0, timer.monotonic() - start))


def _update_type(event: TelegramObject) -> str:
    if not isinstance(event, Update):
        return type(event).__name__
    try:
        return event.event_type
    except UpdateTypeLookupError:  # a kind of update newer than this aiogram
        return "unknown"


class TelegramCallMetrics(BaseRequestMiddleware):
    """Counts each Bot API request by method and result; register it last (innermost)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        try:
            response = await make_request(bot, method)
        except Exception as error:
            self.metrics.telegram_calls.labels(name, call_result(error)).inc()
            raise
        self.metrics.telegram_calls.labels(name, "ok").inc()
        return response
