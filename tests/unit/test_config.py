import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:SECRET-token-value"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here


def test_reads_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("OWNER_IDS", "11, 22")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    settings = load_settings()
    assert settings.owner_ids == frozenset({11, 22})
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.database_url == "sqlite+aiosqlite:///data/hearth.db"
    assert settings.default_language == "ru"
    assert TOKEN not in repr(settings)


def test_reads_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nDEFAULT_LANGUAGE=en\n")
    assert load_settings().default_language == "en"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BOT_TOKEN is not set"),
        ({"BOT_TOKEN": "nonsense"}, "BOT_TOKEN is malformed"),
        ({"BOT_TOKEN": TOKEN, "OWNER_IDS": "12,abc"}, "OWNER_IDS is malformed"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE is malformed"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_TIMEZONE": "Mars/Base"}, "DEFAULT_TIMEZONE is malformed"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_TIMEZONE": "Europe"}, "DEFAULT_TIMEZONE is malformed"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_TIMEZONE": "x" * 5000}, "DEFAULT_TIMEZONE is malformed"),
        (
            {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:99999"},
            "TELEGRAM_API_URL is malformed",
        ),
        ({"BOT_TOKEN": TOKEN, "WEBHOOK_LISTEN": "8080"}, "WEBHOOK_LISTEN is malformed"),
        ({"BOT_TOKEN": TOKEN, "LOG_FORMAT": "xml"}, "LOG_FORMAT is malformed"),
        ({"BOT_TOKEN": TOKEN, "METRICS_PORT": "70000"}, "METRICS_PORT is malformed"),
        ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "localhost"}, "TELEGRAM_API_URL is malformed"),
        ({"BOT_TOKEN": TOKEN, "STARTUP_GRACE": "-1"}, "STARTUP_GRACE is malformed"),
        ({"BOT_TOKEN": TOKEN, "WELCOME_INTERVAL": "0"}, "WELCOME_INTERVAL is malformed"),
        ({"BOT_TOKEN": TOKEN, "TEST_CLOCK_FILE": "/tmp/offset"}, "TEST_CLOCK_FILE is for tests"),
        (
            {
                "BOT_TOKEN": TOKEN,
                "TEST_CLOCK_FILE": "/tmp/offset",
                "TELEGRAM_API_URL": "https://api.telegram.org",
            },
            "TEST_CLOCK_FILE is for tests only: it needs TELEGRAM_API_URL",
        ),
        (
            {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://example.org/webhook"},
            "WEBHOOK_SECRET is required when WEBHOOK_URL is set",
        ),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_timing_settings_default_to_the_production_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert (settings.startup_grace, settings.welcome_interval) == (5.0, 6.0)
    assert settings.test_clock_file is None


def test_a_test_clock_is_accepted_against_a_fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_CLOCK_FILE", "/tmp/offset")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    assert load_settings().test_clock_file == "/tmp/offset"


def test_entry_point_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env["BOT_TOKEN"] = "123:"
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "hearth: configuration error: BOT_TOKEN is malformed: "
        "expected the token from @BotFather, like 123456:ABC-DEF"
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [("TELEGRAM_API_URL", "http://127.0.0.1:99999"), ("DEFAULT_TIMEZONE", "Europe")],
)
def test_a_bad_setting_at_start_up_is_one_line_without_the_token(
    tmp_path: Path, name: str, value: str
) -> None:
    token = "7012345678:AAH4Ld-secret_part_of_the_token_0123"
    env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env.update({"BOT_TOKEN": token, name: value, "PYTHONPATH": str(ROOT)})
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"hearth: configuration error: {name} is malformed")
    assert token not in result.stderr
    assert token.partition(":")[2] not in result.stdout + result.stderr


_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def test_log_lines_and_tracebacks_never_show_the_token() -> None:
    from bot.serve import RedactingFormatter

    token = "7012345678:AAH4Ld-secret_part_of_the_token_0123"
    url = f"http://127.0.0.1:99999/bot{token}/getMe"
    try:
        raise ValueError(url)
    except ValueError:
        record = logging.LogRecord(
            "bot.retry", logging.WARNING, "", 0, "%s", (url,), sys.exc_info()
        )
    line = RedactingFormatter("%(message)s").format(record)
    assert "/bot<token>/getMe" in line
    assert "Traceback" in line
    assert token.partition(":")[2] not in line


def test_log_format_and_metrics_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("METRICS_PORT", "")
    defaults = load_settings()
    assert (defaults.log_format, defaults.metrics_port) == ("text", None)
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("METRICS_PORT", "9100")
    chosen = load_settings()
    assert (chosen.log_format, chosen.metrics_port) == ("json", 9100)
