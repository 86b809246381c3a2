"""Logs never hold what people wrote or the bot token: a statement that fails while storing a
check-in answer is logged without the answer (the engine hides bound parameters), and
start-up, at DEBUG, never logs the token."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import event

from bot.commands import register_commands
from bot.serve import QUIETER, quiet_libraries
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, Harness, running_harness
from tests.dispatcher.test_checkins import opt_in, press, say, setup_chat


def debug_logging_as_in_production(caplog: pytest.LogCaptureFixture) -> None:
    """LOG_LEVEL=DEBUG, with the library loggers the bot holds quieter (restored after)."""
    caplog.set_level(logging.DEBUG)
    for name in QUIETER:
        caplog.set_level(logging.DEBUG, logger=name)  # remembered, and restored at the end
    quiet_libraries("DEBUG")


ANSWER = "my landlord is evicting me on friday and I told nobody"


def break_answer_writes(h: Harness) -> None:
    """From now on the database refuses every write of a check-in entry (the table is
    renamed in the statement): a real error, carrying the statement and its values."""

    def rewrite(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if statement.startswith("UPDATE checkin_entries"):
            statement = statement.replace("checkin_entries", "no_such_table", 1)
        return statement, parameters

    event.listen(h.app.db.engine.sync_engine, "before_cursor_execute", rewrite, retval=True)


async def test_a_failing_statement_with_an_answer_is_logged_without_it(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    assert "1/" in await press(h, MEMBER, "ci:a:")
    break_answer_writes(h)
    debug_logging_as_in_production(caplog)

    await say(h, MEMBER, MEMBER, ANSWER)

    failures = [r for r in caplog.records if r.name == "hearth.errors"]
    assert failures, caplog.text  # the failure is logged, with its traceback...
    assert "no_such_table" in caplog.text  # ...and the statement, to debug it
    assert ANSWER not in caplog.text
    assert "evicting" not in caplog.text


async def test_start_up_never_logs_the_token(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    debug_logging_as_in_production(caplog)
    async with running_harness(db_url) as h:
        token = h.app.settings.bot_token.get_secret_value()
        await register_commands(h.app.bot)
        await h.app.bot.delete_webhook()
        await h.app.start_background()
        await h.app.stop_background()
        assert caplog.records  # start-up did log
        assert token not in caplog.text
        assert token.partition(":")[2] not in caplog.text
