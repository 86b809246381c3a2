"""LOG_FORMAT=json: every record is one JSON object on one line, tokens redacted."""

from __future__ import annotations

import json
import logging
import sys

from bot.serve import JsonFormatter

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("hearth", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_record_is_one_json_line_with_time_level_logger_and_message() -> None:
    line = JsonFormatter().format(record("chat %s: %d members", -100, 7))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "hearth"
    assert entry["message"] == "chat -100: 7 members"
    assert entry["time"].endswith("+00:00")
    assert "exception" not in entry


def test_the_token_is_redacted_in_the_message_and_the_traceback() -> None:
    line = JsonFormatter().format(record("calling %s", f"/bot{TOKEN}/getMe", exc=True))
    assert TOKEN not in line
    assert TOKEN.partition(":")[2] not in line
    entry = json.loads(line)
    assert entry["message"] == "calling /bot<token>/getMe"
    assert "Traceback" in entry["exception"]
    assert (
        "RuntimeError: POST https://api.telegram.org/bot<token>/sendMessage" in (entry["exception"])
    )
