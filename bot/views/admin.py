"""Replies to admin commands: /settings, /set, /setrules, /setwelcome, /trust."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from bot.i18n import t
from bot.services.people import Person
from bot.services.settings import ChatConfig
from models.members import TrustLevel

WELCOME_QUOTE_LIMIT = 3800
"""A preview longer than this cannot be quoted in the confirmation (4096 with the header)."""


def settings(language: str, config: ChatConfig, keys: Iterable[str]) -> list[str]:
    """/settings: one line per setting with its value and what it does."""
    lines = [t(language, "settings.title")]
    for key in keys:
        about = t(language, f"settings.about.{key}")
        value = escape(config.raw(key))
        lines.append(t(language, "settings.line", key=key, value=value, about=about))
    return [*lines, "", t(language, "settings.footer")]


def settings_usage(language: str, keys: Iterable[str]) -> str:
    return t(language, "settings.usage", keys=", ".join(keys))


def setting_unknown(language: str, key: str, keys: Iterable[str]) -> str:
    return t(language, "settings.unknown", key=escape(key[:40]), keys=", ".join(keys))


def setting_bad_value(language: str, key: str) -> str:
    expected = t(language, f"settings.expected.{key}")
    return t(language, "settings.bad_value", key=key, expected=expected)


def setting_changed(language: str, key: str, value: str) -> str:
    return t(language, "settings.changed", key=key, value=escape(value))


def rules_usage(language: str) -> str:
    return t(language, "rules.set_usage")


def rules_too_long(language: str, length: int) -> str:
    return t(language, "rules.too_long", length=length)


def rules_saved(language: str, length: int) -> str:
    return t(language, "rules.saved", length=length)


def welcome_usage(language: str) -> str:
    return t(language, "welcome_cmd.usage")


def welcome_too_long(language: str, length: int) -> str:
    return t(language, "welcome_cmd.too_long", length=length)


def welcome_reset(language: str) -> str:
    return t(language, "welcome_cmd.reset")


def welcome_saved(language: str, preview: str, *, quoted: bool = True) -> str:
    """The confirmation, quoting the preview, or pointing below it when sent apart."""
    return t(language, "welcome_cmd.saved", preview=preview if quoted else "⬇️")


def trust_usage(language: str) -> str:
    return t(language, "trust.usage")


def trust_bad_level(language: str, level: str) -> str:
    return t(language, "trust.bad_level", level=escape(level[:30]))


def trust_not_member(language: str, target: Person) -> str:
    return t(language, "trust.not_member", name=target.mention)


def trust_done(language: str, target: Person, level: TrustLevel) -> str:
    shown = t(language, f"level.{level.value}")
    return t(language, "trust.done", name=target.mention, level=shown)


def topic_lost(language: str) -> str:
    """In General, for the admins: the chosen topic refused a post."""
    return t(language, "rights.topic_lost")
