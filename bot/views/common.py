"""Replies shared by every area: refusals, unknown commands, outdated buttons."""

from __future__ import annotations

from html import escape

from bot.i18n import t


def group_only(lang: str) -> str:
    return t(lang, "errors.group_only")


def private_only(lang: str) -> str:
    return t(lang, "errors.private_only")


def not_admin(lang: str) -> str:
    return t(lang, "errors.not_admin")


def unknown_command(lang: str) -> str:
    return t(lang, "errors.unknown_command")


def stale_button(lang: str) -> str:
    return t(lang, "errors.stale_button")


def internal_error(lang: str) -> str:
    return t(lang, "errors.internal")


def unknown_target(lang: str) -> str:
    return t(lang, "errors.unknown_target")


def ambiguous_target(lang: str, username: str) -> str:
    return t(lang, "errors.ambiguous_target", username=escape(username[:40]))
