"""Texts from locale files (`bot/locales/<lang>.toml`); Russian is the fallback."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED = ("ru", "en")
FALLBACK = "ru"


@cache
def catalog(language: str) -> dict[str, str]:
    with (LOCALES_DIR / f"{language}.toml").open("rb") as file:
        data = tomllib.load(file)
    return _flatten(data)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def pick_language(user_language: str | None, chat_language: str) -> str:
    """The member's Telegram language where we speak it, else the chat's."""
    if user_language:
        base = user_language.split("-")[0].lower()
        if base in SUPPORTED:
            return base
    return chat_language if chat_language in SUPPORTED else FALLBACK


def template(language: str, key: str) -> str:
    """The raw text `key` in `language`, placeholders left as they are."""
    texts = catalog(language if language in SUPPORTED else FALLBACK)
    text = texts.get(key) or catalog(FALLBACK).get(key)
    if text is None:
        raise KeyError(f"no text {key!r} in locale {language!r}")
    return text


def t(language: str, key: str, /, **values: Any) -> str:
    """The text `key` in `language`, with `{placeholders}` filled in."""
    return template(language, key).format(**values)


def human_duration(language: str, delta: timedelta) -> str:
    """A duration for people: `5 мин`, `7 дн.` / `5 min`, `7 days`."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(t(language, f"units.{unit}", n=count))
    return " ".join(parts) or t(language, "units.s", n=0)


def format_moment(language: str, moment: datetime, zone: tzinfo) -> str:
    """A date and time in the chat's time zone, e.g. `05.01.2026 15:00` / `2026-01-05 15:00`."""
    local = moment.astimezone(zone)
    return local.strftime(t(language, "format.datetime"))
