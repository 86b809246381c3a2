"""Running the built application: polling or a webhook until a signal, and the process's
logging (which never shows the bot token)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
from datetime import UTC, datetime

from aiogram.exceptions import TelegramUnauthorizedError
from aiohttp import web

from bot.app import ALLOWED_UPDATES, Application, build_application
from bot.commands import register_commands
from bot.config import ConfigError, Settings, redact
from bot.db import is_sqlite, upgrade_async
from bot.health_http import Probe, add_routes, start_server
from bot.polling import watch_for_other_pollers
from bot.singleton import SingleProcess
from bot.workers import claim_setup, forget_setup, tell_ready, worker_index

log = logging.getLogger("hearth")

# polling hands over up to 100 updates a call and each runs as a task: after downtime a backlog
# of thousands would run at once, queueing on the database and Redis pools; this many at a time
UPDATES_IN_FLIGHT = 256


async def run(settings: Settings) -> int:
    """Migrate (SQLite), check the token, register commands, then poll or serve a webhook."""
    if is_sqlite(settings.database_url):
        await upgrade_async(settings.database_url)
    app = build_application(settings)
    single = SingleProcess(app.db.engine, settings.bot_id, settings.redis_url)
    try:
        await single.acquire()
        me = await app.bot.get_me()
    except (ConfigError, TelegramUnauthorizedError) as error:
        await single.release()
        await app.bot.session.close()
        await app.db.close()
        if isinstance(error, ConfigError):
            raise
        raise ConfigError("BOT_TOKEN was rejected by Telegram (401 Unauthorized)") from None
    settle_heap()
    try:
        await _serve(app, me.username or "", me.id)
    finally:
        await single.release()
    log.info("stopped")
    return 0


def settle_heap() -> None:
    """Take what start-up built out of the garbage collector's walks.

    After start-up the process holds about 300,000 long-lived objects (aiogram's types, the
    routers, SQLAlchemy's mappers). Every full collection walked all of them: a pause of
    0.15-0.4 s in the middle of handling updates, measured. Frozen, a collection walks only
    what updates allocated since."""
    gc.collect()
    gc.freeze()


async def _serve(app: Application, username: str, bot_id: int) -> None:
    """Register the commands, then poll or serve a webhook until a signal."""
    settings = app.settings
    app.hearth.notifier.username = username
    worker = worker_index()
    log.info("started as @%s (id %s)%s", username, bot_id, _as_worker(worker))
    setup = await _claims_setup(settings, worker)
    if setup:
        await register_commands(app.bot)
    app.dispatcher.startup.register(app.start_background)
    app.dispatcher.shutdown.register(app.stop_background)
    metrics_server = None
    if settings.metrics_port is not None:  # listens on every interface: keep it private
        metrics_server = await start_server(Probe.of(app), "0.0.0.0", settings.metrics_port)
        log.info("/healthz and /metrics on port %s", settings.metrics_port)
    try:
        if settings.webhook_url:
            await _serve_webhook(app, setup=setup, shared_port=worker is not None)
        else:
            await app.bot.delete_webhook()  # getUpdates refuses to work while a webhook is set
            await forget_setup(settings.redis_url, settings.bot_id)  # a webhook run sets it anew
            watch_for_other_pollers(app.bot)
            await app.dispatcher.start_polling(
                app.bot,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=True,
                polling_timeout=25,
                tasks_concurrency_limit=UPDATES_IN_FLIGHT,
            )
    finally:
        if metrics_server is not None:
            await metrics_server.cleanup()


async def _claims_setup(settings: Settings, worker: int | None) -> bool:
    """Polling is one process; of several webhook processes one registers the menus and the
    webhook (N identical calls would only repeat it)."""
    if not settings.webhook_url:
        return True
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    fingerprint = f"{settings.webhook_url} {secret} {ALLOWED_UPDATES}"
    return await claim_setup(settings.redis_url, settings.bot_id, worker, fingerprint)


def _as_worker(worker: int | None) -> str:
    return "" if worker is None else f", webhook worker {worker}"


async def _serve_webhook(app: Application, *, setup: bool, shared_port: bool) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    settings = app.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    web_app = web.Application()
    # handled before answering Telegram, so an update in flight at shutdown is redelivered
    SimpleRequestHandler(
        app.dispatcher, app.bot, secret_token=secret, handle_in_background=False
    ).register(web_app, "/webhook")
    add_routes(web_app, Probe.of(app))  # /healthz and /metrics
    setup_application(web_app, app.dispatcher, bot=app.bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    # WEBHOOK_WORKERS: every worker binds the same port and the kernel spreads connections
    site = web.TCPSite(
        runner, settings.webhook_host, settings.webhook_port, reuse_port=shared_port or None
    )
    await site.start()
    assert settings.webhook_url is not None
    if setup:
        await app.bot.set_webhook(
            settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # under the supervisor: serving now, so dying from here on is not a start-up failure
    tell_ready()
    await stop.wait()
    await runner.cleanup()


class RedactingFormatter(logging.Formatter):
    """Log lines (tracebacks included) never show the bot token, which every request URL
    and many network errors quote."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


QUIETER = {"aiogram.event": logging.WARNING, "aiosqlite": logging.INFO}
"""Library loggers held at least at this level whatever LOG_LEVEL says: aiogram.event logs
every update; aiosqlite, at DEBUG, logs every statement with its values (people's check-in
answers, report texts)."""


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object a line (time, level, logger, message, exception),
    redacted like the text format. Log messages carry ids and counts, never people's texts."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # redacted field by field: a token split by JSON escaping would slip past the pattern
        return json.dumps({k: redact(v) for k, v in entry.items()}, ensure_ascii=False)


def configure_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet_libraries(level)


def quiet_libraries(level: str) -> None:
    """Hold the chatty library loggers at `QUIETER` (or `level`, if that is higher)."""
    for name, least in QUIETER.items():
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), least))
