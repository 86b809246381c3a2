"""/refund: in a group by its admins (the answer goes to them privately), or in private,
where a charge id names its chat and without one the admin picks a chat to see its latest
payments and their ids."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.views import billing as views
from bot.views.callbacks import RefundChat
from handlers.common import reply


def _charge_id(command: CommandObject) -> str | None:
    charge_id = (command.args or "").strip()
    if not charge_id or len(charge_id) > 255 or " " in charge_id:
        return None
    return charge_id


async def _refund(hearth: Hearth, chat: tuple[int, str], charge_id: str, lang: str) -> str:
    """Refund in this chat; the result as told to the admin privately."""
    chat_id, title = chat
    result = await hearth.billing.refund(chat_id, charge_id)
    name = (await hearth.trust.known_person(result.user_id)) if result.user_id else None
    shown = name.mention if name else str(result.user_id)
    return views.refund_result(lang, title, result.outcome, result.amount, shown)


async def refund(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """In the group: refund, then tell the admin privately — who was refunded and how much
    is not the group's business. An anonymous admin, who can't be written to, is asked to
    use their own account before anything is refunded."""
    charge_id = _charge_id(command)
    if charge_id is None:
        await reply(hearth, message, views.refund_usage(lang))
        return
    if message.sender_chat is not None or message.from_user is None:
        await reply(hearth, message, views.refund_not_anonymous(lang))
        return
    chat = (message.chat.id, message.chat.title or "")
    text = await _refund(hearth, chat, charge_id, lang)
    sent = await hearth.notifier.send(message.from_user.id, text)
    await reply(hearth, message, views.refund_delivered(lang, sent is not None))


async def refund_in_private(
    message: Message, command: CommandObject, hearth: Hearth, lang: str
) -> None:
    """/refund in private. With a charge id: the id names its chat (Telegram's ids are
    unique), which must be one the sender administers. Without: which of their paid chats,
    then that chat's latest payments with the ids to copy."""
    if message.from_user is None:
        return
    if not (command.args or "").strip():
        await _choose_refund_chat(message, hearth, lang, message.from_user.id)
        return
    charge_id = _charge_id(command)
    if charge_id is None:
        await reply(hearth, message, views.refund_usage(lang))
        return
    chat = await hearth.billing.charge_chat(charge_id)
    if chat is None or not await hearth.admins.is_admin(chat[0], message.from_user.id):
        await reply(hearth, message, views.refund_not_yours(lang))
        return
    await reply(hearth, message, await _refund(hearth, chat, charge_id, lang))


async def _choose_refund_chat(message: Message, hearth: Hearth, lang: str, user_id: int) -> None:
    chats = [
        (chat_id, title)
        for chat_id, title in await hearth.billing.paid_chats(user_id)
        if await hearth.admins.is_admin(chat_id, user_id)
    ]
    if not chats:
        await reply(hearth, message, views.refund_no_chats(lang))
    elif len(chats) == 1:
        await reply(hearth, message, await _payments_text(hearth, chats[0], lang))
    else:
        text, keyboard = views.choose_refund_chat(lang, chats)
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def _payments_text(hearth: Hearth, chat: tuple[int, str], lang: str) -> str:
    chat_id, title = chat
    lines = await hearth.billing.recent_payments(chat_id)
    zone = (await hearth.chat_settings.get(chat_id)).timezone
    return views.recent_payments(lang, title, lines, zone)


async def on_refund_chat(
    query: CallbackQuery, callback_data: RefundChat, hearth: Hearth, lang: str
) -> None:
    """The chat chosen for /refund in private: its payments, to its admins only."""
    chat_id, user_id = callback_data.chat_id, query.from_user.id
    chats = dict(await hearth.billing.paid_chats(user_id))
    if chat_id not in chats or not await hearth.admins.is_admin(chat_id, user_id):
        await hearth.notifier.answer(query.id, views.refund_no_chats(lang), alert=True)
        return
    await hearth.notifier.answer(query.id, views.offer_sent(lang))
    await hearth.notifier.send(
        user_id, await _payments_text(hearth, (chat_id, chats[chat_id]), lang)
    )
