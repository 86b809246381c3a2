"""Commands anyone may use: /start, /help, /me, /rules; and a reply to unknown commands."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.services.ledger import ME_DAYS
from bot.views import common
from bot.views import members as views
from bot.views import thanks as thanks_views
from bot.views.onboarding import RULES_PAYLOAD
from handlers.billing import me_lines as billing_me_lines
from handlers.common import commands_only, parse_chat_id, reply, reply_lines
from handlers.filters import (
    GROUP_TYPES,
    InGroup,
    private_chat,
    sender_is_admin,
    unknown_private_command,
)


async def start(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    payload = (command.args or "").strip()
    chat_id = (
        parse_chat_id(payload.removeprefix(RULES_PAYLOAD))
        if payload.startswith(RULES_PAYLOAD)
        else None
    )
    if chat_id is not None and message.from_user is not None:
        # only people of that chat (members, newcomers, requesters) may read its rules here
        if await hearth.trust.belongs(chat_id, message.from_user.id):
            await send_rules(hearth, message, chat_id, lang)
        else:
            await reply(hearth, message, views.rules_unknown_chat(lang))
        return
    standings = await hearth.trust.standings(message.from_user.id) if message.from_user else []
    await reply_lines(hearth, message, views.start(lang, standings))


async def help_(message: Message, hearth: Hearth, lang: str) -> None:
    in_group = message.chat.type in GROUP_TYPES
    admin = in_group and await sender_is_admin(hearth, message)
    await reply(hearth, message, views.help_text(lang, in_group=in_group, admin=admin))


async def me(message: Message, hearth: Hearth, lang: str) -> None:
    """Your level in each chat (in a group: only there), days active, streaks, pause,
    subscriptions."""
    if message.from_user is None:
        return
    user_id = message.from_user.id
    in_group = message.chat.type in GROUP_TYPES
    standings = await hearth.trust.standings(user_id)
    if in_group:
        standings = [s for s in standings if s.chat_id == message.chat.id]
    if not standings:
        await reply(hearth, message, views.me_none(lang))
        return
    lines = [views.me_header(lang)]
    for s in standings:
        zone = (await hearth.chat_settings.get(s.chat_id)).timezone
        lines += views.me_standing(lang, s, zone)
        days = await hearth.ledger.days_active(s.chat_id, user_id, ME_DAYS)
        lines.append(views.me_days_active(lang, days, ME_DAYS))
        thanked = await hearth.thanks.service.people(s.chat_id, user_id)
        if thanked:
            lines.append(thanks_views.me_line(lang, thanked))
        streak = await hearth.checkins.streaks(s.chat_id, user_id)
        if streak is not None:
            lines.append(views.me_streak(lang, streak.current, streak.best))
    paused = await hearth.checkins.paused_until(user_id)
    if paused is not None:
        zone = (  # in a group, its own time zone: nothing hints at the person's other chats
            (await hearth.chat_settings.get(message.chat.id)).timezone
            if in_group
            else await hearth.checkins.zone(user_id)
        )
        lines.append(views.me_paused(lang, paused, zone))
    chat_filter = message.chat.id if in_group else None
    lines += await billing_me_lines(hearth, user_id, lang, chat_filter)
    await reply_lines(hearth, message, lines)


async def rules(message: Message, hearth: Hearth, lang: str) -> None:
    await send_rules(hearth, message, message.chat.id, lang)


async def unknown_command(message: Message, hearth: Hearth, lang: str) -> None:
    await reply(hearth, message, common.unknown_command(lang))


async def stale_button(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
    """A button no handler took: its data is malformed or from an older protocol."""
    await hearth.notifier.answer(query.id, common.stale_button(lang), alert=True)


async def send_rules(hearth: Hearth, message: Message, chat_id: int, lang: str) -> None:
    found = await hearth.chats.rules(chat_id)
    if found is None:
        await reply(hearth, message, views.rules_unknown_chat(lang))
        return
    title, text = found
    await reply(hearth, message, views.rules(lang, title, text))


def build_router() -> Router:
    router = commands_only(Router(name="members"))
    router.message.register(start, CommandStart(), private_chat)
    router.message.register(help_, Command("help"))
    router.message.register(me, Command("me"))
    router.message.register(rules, Command("rules"), InGroup())
    router.message.register(unknown_command, unknown_private_command)
    router.callback_query.register(stale_button)
    return router
