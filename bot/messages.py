"""Plain message values shared by services, views and the notifier: buttons, keyboards and
Telegram's length rules (counted in UTF-16 code units)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup


@dataclass(frozen=True)
class Button:
    """An inline button: either callback `data` or a `url`."""

    text: str
    data: str | None = None
    url: str | None = None


Keyboard = list[list[Button]]


def markup(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.data, url=b.url) for b in row]
            for row in buttons
        ]
    )


_TAG = re.compile(r"<[^<>]*>")


def plain_text(text: str) -> str:
    """HTML message text as plain text (for callback alerts, which show no markup)."""
    return html.unescape(_TAG.sub("", text))


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


MESSAGE_LIMIT = 4096


def split_lines(lines: list[str], limit: int = MESSAGE_LIMIT - 96) -> list[str]:
    """Join lines into as few messages as fit Telegram's length limit, breaking between lines."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = utf16_length(line) + 1
        if current and size + length > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length
    if current:
        chunks.append("\n".join(current))
    return chunks
