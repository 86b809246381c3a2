"""Replies shared by every area: refusals, unknown commands, outdated buttons."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from aiogram.filters.callback_data import CallbackData

from bot.i18n import t
from bot.messages import Button, Keyboard

Chats = list[tuple[int, str]]
"""(chat id, title) pairs, e.g. the chats a person may pick from in private."""


def chat_buttons(chats: Chats, data: Callable[[int], CallbackData]) -> Keyboard:
    """One button per chat (its title, cut to 60 characters) carrying `data(chat id)`."""
    return [[Button(title[:60], data=data(chat_id).pack())] for chat_id, title in chats]


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
