"""/atrisk: who is drifting away, for admins, always answered privately. In a group the
group only hears "sent to you privately" (or "start the bot first"); in private the admin
picks one of the chats they administer. The "ask their buddy to say hi" button checks the
presser is an admin of that chat on every press."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.views import drift as views
from bot.views.callbacks import AskBuddy, AtRiskChat
from handlers.common import admin_chats, commands_only, reply
from handlers.filters import GroupAdmin, private_chat


def build_router() -> Router:
    router = Router(name="drift")
    commands = commands_only(Router(name="drift-commands"))
    router.include_router(commands)
    router.callback_query.register(on_chat, AtRiskChat.filter())
    router.callback_query.register(on_ask, AskBuddy.filter())
    commands.message.register(atrisk_in_private, Command("atrisk"), private_chat)
    commands.message.register(atrisk, Command("atrisk"), GroupAdmin())
    return router


async def _send_report(hearth: Hearth, to: int, chat: tuple[int, str], lang: str) -> bool:
    """The list for `chat`, sent to `to` privately; False if they can't be written to."""
    chat_id, title = chat
    found = await hearth.drift.at_risk(chat_id)
    zone = (await hearth.chat_settings.get(chat_id)).timezone
    for text, keyboard in views.report(lang, chat_id, title, found, zone):
        if await hearth.notifier.send(to, text, keyboard) is None:
            return False
    return True


async def atrisk(message: Message, hearth: Hearth, lang: str) -> None:
    """In the group: the list goes to the admin privately; no name is ever posted here."""
    if message.sender_chat is not None or message.from_user is None:
        await reply(hearth, message, views.not_anonymous(lang))
        return
    chat = (message.chat.id, message.chat.title or "")
    sent = await _send_report(hearth, message.from_user.id, chat, lang)
    await reply(hearth, message, views.delivered(lang, sent))


async def atrisk_in_private(message: Message, hearth: Hearth, lang: str) -> None:
    """In private: the one chat the sender administers, or a choice among several."""
    if message.from_user is None:
        return
    chats = await admin_chats(hearth, message.from_user.id)
    if not chats:
        await reply(hearth, message, views.no_chats(lang))
    elif len(chats) == 1:
        await _send_report(hearth, message.chat.id, chats[0], lang)
    else:
        text, keyboard = views.choose_chat(lang, chats)
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def on_chat(
    query: CallbackQuery, callback_data: AtRiskChat, hearth: Hearth, lang: str
) -> None:
    """The chat chosen for /atrisk in private: its list, to its admins only."""
    user_id = query.from_user.id
    chats = dict(await admin_chats(hearth, user_id))
    if callback_data.chat_id not in chats:
        await hearth.notifier.answer(query.id, views.not_admin(lang), alert=True)
        return
    await hearth.notifier.answer(query.id, views.delivered(lang, True))
    chat = (callback_data.chat_id, chats[callback_data.chat_id])
    await _send_report(hearth, user_id, chat, lang)


async def on_ask(query: CallbackQuery, callback_data: AskBuddy, hearth: Hearth, lang: str) -> None:
    """ "Ask their buddy to say hi": admins of the chat only, checked on every press."""
    if not await hearth.admins.is_admin(callback_data.chat_id, query.from_user.id):
        await hearth.notifier.answer(query.id, views.not_admin(lang), alert=True)
        return
    outcome = await hearth.drift.ask_buddy(callback_data.chat_id, callback_data.user_id)
    await hearth.notifier.answer(query.id, views.ask_result(lang, outcome), alert=True)
