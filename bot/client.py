"""The Bot client the composition root builds: retries outermost, then the send budget."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode

from bot.clock import Timer
from bot.config import Settings
from bot.retry import RetryMiddleware
from bot.sendpace import SendBudget, SendPacer


def build_bot(settings: Settings, timer: Timer, budget: SendBudget) -> Bot:
    """The Bot: retries outermost, then one slot of the send budget per attempt."""
    api = (
        TelegramAPIServer.from_base(settings.telegram_api_url)
        if settings.telegram_api_url
        else PRODUCTION
    )
    session = AiohttpSession(api=api)
    session.middleware(RetryMiddleware(sleep=timer.sleep))
    session.middleware(SendPacer(budget))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
