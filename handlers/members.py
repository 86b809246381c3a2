"""Commands anyone may use: /start, /help, /me, /rules; and a reply to unknown commands."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.i18n import format_moment, t
from bot.notifier import utf16_length
from bot.views import common as views
from handlers.billing import me_lines as billing_me_lines
from handlers.common import GROUP_TYPES, commands_only, is_admin, parse_chat_id, reply
from handlers.filters import unknown_private_command


def build_router() -> Router:
    router = commands_only(Router(name="members"))

    @router.message(CommandStart(), F.chat.type == "private")
    async def start(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        payload = (command.args or "").strip()
        chat_id = (
            parse_chat_id(payload.removeprefix("rules_")) if payload.startswith("rules_") else None
        )
        if chat_id is not None and message.from_user is not None:
            # only people of that chat (members, newcomers, requesters) may read its rules here
            if await hearth.trust.belongs(chat_id, message.from_user.id):
                await send_rules(hearth, message, chat_id, lang)
            else:
                await reply(hearth, message, t(lang, "rules.unknown_chat"))
            return
        text = t(lang, "start.text")
        if message.from_user is not None:
            standings = await hearth.trust.standings(message.from_user.id)
            if standings:
                chats = "\n".join(
                    f"• {escape(s.chat_title)} — {t(lang, f'level.{s.level.value}')}"
                    for s in standings
                )
                text += t(lang, "start.chats", chats=chats)
        await reply(hearth, message, text)

    @router.message(Command("help"))
    async def help_(message: Message, hearth: Hearth, lang: str) -> None:
        if message.chat.type not in GROUP_TYPES:
            await reply(hearth, message, t(lang, "help.private") + t(lang, "billing.help_private"))
            return
        text = t(lang, "help.member")
        if await is_admin(hearth, message):
            text += t(lang, "help.admin")
            text += t(lang, "billing.help_admin")
        await reply(hearth, message, text)

    @router.message(Command("me"))
    async def me(message: Message, hearth: Hearth, lang: str) -> None:
        if message.from_user is None:
            return
        standings = await hearth.trust.standings(message.from_user.id)
        if message.chat.type in GROUP_TYPES:
            standings = [s for s in standings if s.chat_id == message.chat.id]
        if not standings:
            await reply(hearth, message, t(lang, "me.none"))
            return
        lines = [t(lang, "me.header")]
        for s in standings:
            zone = (await hearth.chat_settings.get(s.chat_id)).timezone
            level = t(lang, f"level.{s.level.value}")
            since = format_moment(lang, s.since, zone)
            lines.append(t(lang, "me.chat", chat=escape(s.chat_title), level=level, since=since))
            if s.level.value == "pending":
                lines.append(t(lang, "me.pending"))
            elif s.pinned:
                lines.append(t(lang, "me.pinned"))
            elif s.next_level is not None and s.next_at is not None:
                when = format_moment(lang, s.next_at, zone)
                lines.append(
                    t(lang, "me.next", level=t(lang, f"level.{s.next_level.value}"), when=when)
                )
            streak = await hearth.checkins.streaks(s.chat_id, message.from_user.id)
            if streak is not None:
                lines.append(t(lang, "checkin.me_streak", streak=streak.current, best=streak.best))
        paused = await hearth.checkins.paused_until(message.from_user.id)
        if paused is not None:
            zone = (  # in a group, its own time zone: nothing hints at the person's other chats
                (await hearth.chat_settings.get(message.chat.id)).timezone
                if message.chat.type in GROUP_TYPES
                else await hearth.checkins.zone(message.from_user.id)
            )
            lines.append(t(lang, "checkin.me_paused", until=format_moment(lang, paused, zone)))
        chat_filter = message.chat.id if message.chat.type in GROUP_TYPES else None
        lines += await billing_me_lines(hearth, message.from_user.id, lang, chat_filter)
        await reply(hearth, message, "\n".join(lines))

    @router.message(Command("rules"))
    async def rules(message: Message, hearth: Hearth, lang: str) -> None:
        if message.chat.type not in GROUP_TYPES:
            await reply(hearth, message, t(lang, "errors.group_only"))
            return
        await send_rules(hearth, message, message.chat.id, lang)

    @router.message(unknown_private_command)
    async def unknown_command(message: Message, hearth: Hearth, lang: str) -> None:
        await reply(hearth, message, t(lang, "errors.unknown_command"))

    @router.callback_query()
    async def stale_button(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        """A button no handler took: its data is malformed or from an older protocol."""
        await hearth.notifier.answer(query.id, views.stale_button(lang), alert=True)

    return router


async def send_rules(hearth: Hearth, message: Message, chat_id: int, lang: str) -> None:
    found = await hearth.chats.rules(chat_id)
    if found is None:
        await reply(hearth, message, t(lang, "rules.unknown_chat"))
        return
    title, rules = found
    if not rules:
        await reply(hearth, message, t(lang, "rules.none"))
        return
    if utf16_length(rules) > 3800:  # a header would push it past Telegram's 4096 characters
        await reply(hearth, message, escape(rules))
        return
    await reply(hearth, message, t(lang, "rules.show", chat=escape(title), rules=escape(rules)))
