"""/stats [7d|30d|90d] [csv]: a chat's health figures for its admins, always privately: the
card (a PNG) and its text twin, or the daily series as CSV. In the group the admin check
runs first and the group hears only where the figures went; in private the admin picks one
of the chats they administer."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.services.health import PERIODS
from bot.views import stats as views
from bot.views import stats_card as card
from bot.views.callbacks import StatsChat
from handlers.common import admin_chats, commands_only, reply
from handlers.filters import GroupAdmin, private_chat

DEFAULT_DAYS = 30


def build_router() -> Router:
    router = Router(name="stats")
    commands = commands_only(Router(name="stats-commands"))
    router.include_router(commands)
    router.callback_query.register(on_stats_chat, StatsChat.filter())
    commands.message.register(stats_in_private, Command("stats"), private_chat)
    commands.message.register(stats, Command("stats"), GroupAdmin())
    return router


def parse_args(args: str | None) -> tuple[int, bool] | None:
    """(days, as CSV) from "30d", "csv", "csv 90d"...; None for anything else."""
    days, as_csv = DEFAULT_DAYS, False
    periods = {f"{n}d": n for n in PERIODS}
    for word in (args or "").lower().split():
        if word == "csv" and not as_csv:
            as_csv = True
        elif word in periods and days == DEFAULT_DAYS:
            days = periods[word]
        else:
            return None
    return days, as_csv


async def _send_stats(
    hearth: Hearth, to: int, chat: tuple[int, str], days: int, as_csv: bool, lang: str
) -> bool:
    """The figures (or the CSV) of `chat` to `to` privately; whether Telegram took them."""
    chat_id, title = chat
    if as_csv:
        data = views.csv_bytes(await hearth.health.daily(chat_id, days))
        name = views.csv_name(chat_id, days)
        return await hearth.notifier.send_document(to, name, data, caption=title) is not None
    report = await hearth.health.report(chat_id, days)
    if report is None:  # no card without data: only "collecting since" is said
        return await hearth.notifier.send(to, views.no_data(lang, title)) is not None
    rhythm = await hearth.rhythm.rhythm(chat_id, days)
    png = await card.render_card(report, rhythm, lang, title)
    photo = await hearth.notifier.send_photo(to, png, card.caption(lang, title, days))
    text = await hearth.notifier.send(to, views.report_text(lang, title, report))
    return photo is not None or text is not None


async def stats(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """In the group (admins only, by the filter): the figures go to the admin privately;
    the group only hears that they went, or that the admin must start the bot first."""
    parsed = parse_args(command.args)
    if parsed is None:
        await reply(hearth, message, views.usage(lang))
        return
    if message.sender_chat is not None or message.from_user is None:
        await reply(hearth, message, views.not_anonymous(lang))
        return
    chat = (message.chat.id, message.chat.title or "")
    sent = await _send_stats(hearth, message.from_user.id, chat, *parsed, lang)
    await reply(hearth, message, views.delivered(lang, sent))


async def stats_in_private(
    message: Message, command: CommandObject, hearth: Hearth, lang: str
) -> None:
    """In private: the one chat the sender administers, or a choice among them."""
    if message.from_user is None:
        return
    parsed = parse_args(command.args)
    if parsed is None:
        await reply(hearth, message, views.usage(lang))
        return
    days, as_csv = parsed
    user_id = message.from_user.id
    chats = await admin_chats(hearth, user_id)
    if not chats:
        await reply(hearth, message, views.no_chats(lang))
    elif len(chats) == 1:
        await _send_stats(hearth, user_id, chats[0], days, as_csv, lang)
    else:
        text, keyboard = views.choose_chat(lang, chats, days, as_csv)
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def on_stats_chat(
    query: CallbackQuery, callback_data: StatsChat, hearth: Hearth, lang: str
) -> None:
    """The chat chosen for /stats in private: its figures, to its admins only (checked
    again: the button may be old, the person no longer an admin)."""
    chat_id, user_id = callback_data.chat_id, query.from_user.id
    chats = dict(await admin_chats(hearth, user_id))
    days = callback_data.days if callback_data.days in PERIODS else DEFAULT_DAYS
    if chat_id not in chats:
        await hearth.notifier.answer(query.id, views.no_chats(lang), alert=True)
        return
    await hearth.notifier.answer(query.id, views.sent_below(lang))
    await _send_stats(hearth, user_id, (chat_id, chats[chat_id]), days, callback_data.csv, lang)
