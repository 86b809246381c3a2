"""Process settings, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from yarl import URL

from bot.clock import parse_zone

_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{8,}")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/hearth.db"
LANGUAGES = ("ru", "en")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class DatabaseSettings(BaseSettings):
    """What `python -m bot migrate` needs: only the database."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL


class Settings(DatabaseSettings):
    """Everything the process needs from its environment."""

    bot_token: SecretStr
    telegram_api_url: str | None = None
    owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_language: str = "ru"
    default_timezone: str = "Europe/Moscow"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8080"
    # worker processes sharing the webhook port (SO_REUSEPORT); above 1 needs PostgreSQL+Redis
    webhook_workers: int = Field(default=1, ge=1, le=64)
    # seconds a process leads the whole-table jobs without renewing (takeover after a crash)
    leader_lease: float = Field(default=45.0, ge=3, le=600)
    # /healthz and /metrics on this port too (polling mode has no other HTTP server)
    metrics_port: int | None = Field(default=None, gt=0, lt=65536)
    sweep_interval: float = Field(default=2.0, gt=0, le=10)
    redis_url: str | None = None
    payment_secret: SecretStr | None = None
    startup_grace: float = Field(default=5.0, ge=0, le=300)
    welcome_interval: float = Field(default=6.0, gt=0, le=600)
    # test-only: the process clock is real time plus the offset (seconds) in this file
    test_clock_file: str | None = None

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        bot_id, sep, secret = raw.partition(":")
        if not sep or not bot_id.isdigit() or not secret:
            raise ValueError("expected the token from @BotFather, like 123456:ABC-DEF")
        return value

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _parse_owner_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("expected comma-separated numeric user ids, like 111,222")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator(
        "telegram_api_url",
        "webhook_url",
        "webhook_secret",
        "redis_url",
        "payment_secret",
        "test_clock_file",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        try:  # the parser aiohttp uses: a bad port must fail here, not in every request
            parsed = URL(value)
            port = parsed.port
        except ValueError as error:
            raise ValueError(f"expected an http:// or https:// URL ({error})") from None
        if not parsed.host or port is None or not 0 < port < 65536:
            raise ValueError("expected an http:// or https:// URL with a host")
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"expected one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            parse_zone(value)
        except ValueError:
            raise ValueError("expected an IANA time zone name, like Europe/Moscow") from None
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if not isinstance(value, str) or value.lower() not in ("text", "json"):
            raise ValueError("expected text or json")
        return value.lower()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("expected host:port, like 0.0.0.0:8080")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @model_validator(mode="after")
    def _workers_need_shared_state(self) -> Settings:
        if self.webhook_workers > 1 and not self.webhook_url:
            raise ValueError("WEBHOOK_WORKERS above 1 needs WEBHOOK_URL: polling is one process")
        sqlite = self.database_url.startswith("sqlite")
        if self.webhook_workers > 1 and (sqlite or not self.redis_url):
            raise ValueError(
                "WEBHOOK_WORKERS above 1 needs PostgreSQL and REDIS_URL, which the workers "
                "share (README: Running in production)"
            )
        return self

    @model_validator(mode="after")
    def _test_clock_only_against_a_fake(self) -> Settings:
        if self.test_clock_file is not None and not _is_fake_api(self.telegram_api_url):
            raise ValueError(
                "TEST_CLOCK_FILE is for tests only: it needs TELEGRAM_API_URL pointing at a "
                "fake Bot API server, not Telegram"
            )
        return self

    @property
    def payment_key(self) -> str:
        """Signs invoice payloads: PAYMENT_SECRET, or one derived from the bot's id, so a
        revoked or changed token never invalidates the payloads of running subscriptions."""
        if self.payment_secret is not None:
            return self.payment_secret.get_secret_value()
        return f"hearth-payments:{self.bot_id}"

    @property
    def bot_id(self) -> str:
        """The bot's numeric id: the token's public part, before the colon."""
        return self.bot_token.get_secret_value().partition(":")[0]

    @property
    def leader_lease_time(self) -> timedelta:
        return timedelta(seconds=self.leader_lease)

    @property
    def webhook_host(self) -> str:
        return self.webhook_listen.rpartition(":")[0]

    @property
    def webhook_port(self) -> int:
        return int(self.webhook_listen.rpartition(":")[2])


def redact(text: str) -> str:
    """Text with anything shaped like a bot token replaced: request URLs carry the token, and
    errors and tracebacks quote those URLs."""
    return _TOKEN.sub("<token>", text)


def _is_fake_api(url: str | None) -> bool:
    """Whether the Bot API URL names a server other than Telegram's own."""
    if url is None:
        return False
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return bool(host) and host != "telegram.org" and not host.endswith(".telegram.org")


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise ConfigError with one line naming the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "WEBHOOK_SECRET"
        if error["type"] == "missing":
            raise ConfigError(f"{name} is not set (see .env.example)") from None
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            raise ConfigError(message) from None
        raise ConfigError(f"{name} is malformed: {message}") from None
