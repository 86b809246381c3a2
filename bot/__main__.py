"""Command line: `python -m bot` runs the bot, `python -m bot migrate` applies migrations."""

from __future__ import annotations

import asyncio
import sys
import traceback

from bot.config import ConfigError, DatabaseSettings, load_settings, redact


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    try:
        if command == "migrate":
            from bot.db import upgrade

            url = DatabaseSettings().database_url
            upgrade(url)
            print("database is up to date")
            return 0
        if command not in ("run",):
            print(
                f"usage: python -m bot [run|migrate] (unknown command {command!r})", file=sys.stderr
            )
            return 2
        settings = load_settings()
        from bot.serve import configure_logging, run
        from bot.workers import supervise, worker_index

        configure_logging(settings.log_level, settings.log_format)
        if settings.webhook_workers > 1 and worker_index() is None:
            return asyncio.run(supervise(settings.webhook_workers))
        return asyncio.run(run(settings))
    except ConfigError as error:
        print(f"hearth: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception:  # a crash still must not print the token the request URLs carry
        print(redact(traceback.format_exc()), file=sys.stderr, end="")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
