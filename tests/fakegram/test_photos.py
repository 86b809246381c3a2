"""The fake's sendPhoto, driven through a real aiogram Bot: a multipart upload is kept byte
for byte, a file_id can be sent again, and Telegram's refusals (not a picture, a caption over
1,024 characters, odd dimensions, a user who never started the bot) come back as errors."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile
from PIL import Image

from .photos import PNG_SIGNATURE
from .server import FakeTelegram
from .test_fakegram import make_bot

ANNA, BORIS = 11, 12


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(ANNA, "Anna", started_bot=True)
    server.add_user(BORIS, "Boris")
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    yield client
    await client.session.close()


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, format="PNG")
    return out.getvalue()


async def test_an_uploaded_photo_is_kept_byte_for_byte(fake: FakeTelegram, bot: Bot) -> None:
    data = png()
    message = await bot.send_photo(
        ANNA,
        BufferedInputFile(data, "card.png"),
        caption="<b>Circle</b>, last 7 days",
        parse_mode="HTML",
    )

    assert message.photo is not None and (message.photo[-1].width, message.photo[-1].height) == (
        40,
        30,
    )
    assert message.caption == "Circle, last 7 days"
    [sent] = fake.photos.to(ANNA)
    assert sent["data"] == data and sent["data"].startswith(PNG_SIGNATURE)
    assert sent["message_id"] == message.message_id
    again = await bot.send_photo(ANNA, message.photo[-1].file_id)
    assert again.photo is not None and fake.photos.to(ANNA)[-1]["data"] == data


async def test_telegram_refusals(fake: FakeTelegram, bot: Bot) -> None:
    cases = [
        (BufferedInputFile(b"not a picture", "a.png"), None, "IMAGE_PROCESS_FAILED"),
        (BufferedInputFile(png(), "a.png"), "x" * 1025, "caption is too long"),
        (BufferedInputFile(png(2100, 100), "a.png"), None, "PHOTO_INVALID_DIMENSIONS"),
        ("AgACunknown", None, "wrong file identifier"),
    ]
    for photo, caption, error in cases:
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.send_photo(ANNA, photo, caption=caption)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_photo(BORIS, BufferedInputFile(png(), "a.png"))
    assert not fake.photos.sent
    ok = await bot.send_photo(ANNA, BufferedInputFile(png(), "a.png"), caption="y" * 1024)
    assert ok.caption == "y" * 1024
