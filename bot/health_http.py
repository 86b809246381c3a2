"""The operator's HTTP routes: `/healthz` (ready or not, and why) and `/metrics`
(Prometheus), served on the webhook server, or on METRICS_PORT in polling mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot.clock import Clock
from bot.db import Database
from bot.metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from bot.app import Application

DB_TIMEOUT = 3.0  # a database that takes longer to answer SELECT 1 is not ready


@dataclass(frozen=True)
class Probe:
    """What the routes read: the database, the bot's identity and the metrics."""

    db: Database
    clock: Clock
    metrics: Metrics
    username: Callable[[], str]  # the bot's @username once getMe answered, else ""

    @classmethod
    def of(cls, app: Application) -> Probe:
        notifier = app.hearth.notifier
        return cls(app.db, app.hearth.clock, app.metrics, lambda: notifier.username)

    async def database(self) -> str:
        """ "ok", or why the database is not usable."""
        if self.db.closed:
            return "closed (shutting down)"
        try:
            async with asyncio.timeout(DB_TIMEOUT), self.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except TimeoutError:
            return f"no answer to SELECT 1 within {DB_TIMEOUT:g} s"
        except Exception as error:  # the message may quote the URL: the type is enough
            return f"unavailable ({type(error).__name__})"
        return "ok"

    async def health(self) -> tuple[bool, dict[str, str]]:
        database = await self.database()
        username = self.username()
        body = {"database": database, "bot": f"@{username}" if username else "unknown"}
        if database != "ok":
            return False, {"status": "unavailable", "reason": f"database {database}", **body}
        if not username:
            return False, {"status": "unavailable", "reason": "bot identity not known yet", **body}
        return True, {"status": "ok", **body}


def add_routes(web_app: web.Application, probe: Probe) -> None:
    """GET /healthz: 200 when ready, else 503 with the reason; GET /metrics."""

    async def healthz(_request: web.Request) -> web.Response:
        ready, body = await probe.health()
        return web.Response(
            status=200 if ready else 503,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )

    async def metrics(_request: web.Request) -> web.Response:
        output = await probe.metrics.exposition(probe.db, probe.clock)
        response = web.Response(body=output)
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)


async def start_server(probe: Probe, host: str, port: int) -> web.AppRunner:
    """A server with only the operator's routes (polling mode: METRICS_PORT)."""
    web_app = web.Application()
    add_routes(web_app, probe)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
