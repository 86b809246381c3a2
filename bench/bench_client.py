"""Parsing Telegram's answers: aiogram's own session against Hearth's, with the cyclic
garbage collector running between calls as it does in a busy bot.

aiogram parses each answer as `Response[<return type>]`, a parametrised pydantic model that
pydantic caches only weakly; once collected, the next call builds the model again. Hearth's
session (bot/client.py) holds one per return type. Prints the CPU time per answer of each and
the ratio (Hearth ÷ aiogram; target ≤ 0.2)."""

from __future__ import annotations

import gc
import json
import time
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetChatMember, GetMe, SendMessage, TelegramMethod

from bot.client import PinnedResponseSession

ROUNDS = 100
USER = {"id": 7, "is_bot": False, "first_name": "Nina"}
ANSWERS: tuple[tuple[TelegramMethod[Any], dict[str, Any]], ...] = (
    (
        SendMessage(chat_id=7, text="hi"),
        {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "hi"},
    ),
    (GetMe(), {"id": 1, "is_bot": True, "first_name": "Hearth"}),
    (GetChatMember(chat_id=-100, user_id=7), {"status": "member", "user": USER}),
)


def per_answer_ms(session: AiohttpSession) -> float:
    bot = Bot("1:x", session=session)
    bodies = [(method, json.dumps({"ok": True, "result": result})) for method, result in ANSWERS]
    spent = 0.0
    for _ in range(ROUNDS):
        for method, body in bodies:
            started = time.perf_counter()
            session.check_response(bot, method, 200, body)
            spent += time.perf_counter() - started
        gc.collect()  # outside the timing: what a long-running process does now and then
    return spent / (ROUNDS * len(bodies)) * 1000


def main() -> int:
    plain = per_answer_ms(AiohttpSession())
    pinned = per_answer_ms(PinnedResponseSession())
    ratio = pinned / plain
    print(f"aiogram's session: {plain:.2f} ms per answer")
    print(f"Hearth's session:  {pinned:.2f} ms per answer")
    print(f"ratio {ratio:.2f} (target ≤ 0.2)")
    return 0
