"""Button presses: a newcomer confirming the rules, a requester accepting them."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.services.billing import RulesAccepted
from bot.services.onboarding import Accept, AcceptResult, Confirm
from bot.views import onboarding as views
from bot.views.callbacks import AcceptRules, Verify
from handlers.filters import GROUP_TYPES


async def confirm(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
    """Only a press in the group counts; the service checks it is the presser's own welcome."""
    if query.message is None or query.message.chat.type not in GROUP_TYPES:
        outcome = Confirm.NOT_YOURS
    else:
        outcome = await hearth.onboarding.confirm(
            chat_ref(query.message.chat), person(query.from_user)
        )
    text, alert = views.verify_answer(lang, outcome)
    await hearth.notifier.answer(query.id, text, alert=alert)


async def accept(
    query: CallbackQuery, callback_data: AcceptRules, hearth: Hearth, lang: str
) -> None:
    """A requester accepted the rules. A chat that became paid since the request was made
    lets them in only with access; otherwise billing offers membership instead."""
    chat_id, presser = callback_data.chat_id, person(query.from_user)
    result: RulesAccepted | AcceptResult | None = await hearth.billing.accept_rules(
        chat_id, presser
    )
    if result is None:  # the chat is free
        result = await hearth.requests.accept_request(chat_id, presser)
    popup, text = views.request_answer(lang, result.outcome, result.chat_title)
    await hearth.notifier.answer(query.id, popup)  # plain text
    if query.message is not None and result.outcome != Accept.LATER:  # LATER: press again
        await hearth.notifier.edit(query.message.chat.id, query.message.message_id, text)


def build_router() -> Router:
    router = Router(name="verification")
    router.callback_query.register(confirm, Verify.filter())
    router.callback_query.register(accept, AcceptRules.filter())
    return router
