"""Button presses: a newcomer confirming the rules, a requester accepting them."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.i18n import t
from bot.services.onboarding import ACCEPT_PREFIX, VERIFY_BUTTON, Accept, Confirm
from handlers.common import parse_chat_id


def build_router() -> Router:
    router = Router(name="verification")

    @router.callback_query(F.data == VERIFY_BUTTON)
    async def confirm(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        if query.message is None or query.message.chat.type not in ("group", "supergroup"):
            await hearth.notifier.answer(query.id, t(lang, "verify.not_yours"), alert=True)
            return
        outcome = await hearth.onboarding.confirm(
            chat_ref(query.message.chat), person(query.from_user)
        )
        if outcome == Confirm.CONFIRMED:
            await hearth.notifier.answer(query.id, t(lang, "verify.done"))
        elif outcome == Confirm.ALREADY:
            await hearth.notifier.answer(query.id, t(lang, "verify.already"))
        else:
            await hearth.notifier.answer(query.id, t(lang, "verify.not_yours"), alert=True)

    @router.callback_query(F.data.startswith(ACCEPT_PREFIX))
    async def accept(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        chat_id = parse_chat_id((query.data or "").removeprefix(ACCEPT_PREFIX))
        if chat_id is None:
            await hearth.notifier.answer(query.id, t(lang, "errors.internal"), alert=True)
            return
        result = await hearth.onboarding.accept_request(chat_id, person(query.from_user))
        key = {
            Accept.APPROVED: "request.approved",
            Accept.ALREADY: "request.already",
            Accept.EXPIRED: "request.expired",
        }[result.outcome]
        text = t(lang, key, chat=escape(result.chat_title))
        await hearth.notifier.answer(query.id, t(lang, key, chat=result.chat_title))  # plain text
        if query.message is not None:
            await hearth.notifier.edit(query.message.chat.id, query.message.message_id, text)

    return router
