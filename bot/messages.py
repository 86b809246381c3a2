"""Plain message values shared by services, views and the notifier: buttons, keyboards and
Telegram's length rules (counted in UTF-16 code units); and the one way a text message is
sent (`send_text`), for the notifier and the outbox alike."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)


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


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    thread: int | None,
    keyboard: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> Message:
    """sendMessage with the standard options: the bot's parse mode (HTML), no link previews,
    into `thread` (None: General), as a reply to `reply_to` even if that message is gone."""
    return await bot.send_message(
        chat_id,
        text,
        message_thread_id=thread,
        reply_markup=keyboard,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_parameters=(
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to
            else None
        ),
    )


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
