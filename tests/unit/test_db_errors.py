"""Database errors name the statement, never the values bound to it (private answers)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.db import Database

SECRET = "my private answer: I felt lonely this week"


async def test_a_failing_statement_shows_no_bound_values(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(DBAPIError) as caught:
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO no_such_table (answer) VALUES (:answer)"), {"answer": SECRET}
            )
    logging.getLogger("hearth").error("use case failed", exc_info=caught.value)
    assert "no_such_table" in str(caught.value)  # the statement is still there to debug
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text
