"""Admin commands: /settings, /set, /setrules, /setwelcome, /trust."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.i18n import t
from bot.notifier import utf16_length
from bot.services.chats import TooLong
from bot.services.people import Person
from bot.services.settings import BadSettingValue, UnknownSetting
from bot.services.trust import ASSIGNABLE, NotInChat, StillPending
from handlers.common import (
    commands_only,
    parse_user_id,
    reply,
    reply_lines,
    require_group_admin,
    resolve_target,
)
from models.members import TrustLevel


def build_router() -> Router:
    router = commands_only(Router(name="admin"))

    @router.message(Command("settings"))
    async def show_settings(message: Message, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        config = await hearth.chat_settings.get(message.chat.id)
        lines = [t(lang, "settings.title")]
        for key in hearth.chat_settings.keys:
            about = t(lang, f"settings.about.{key}")
            lines.append(
                t(lang, "settings.line", key=key, value=escape(config.raw(key)), about=about)
            )
        lines.append("")
        lines.append(t(lang, "settings.footer"))
        await reply_lines(hearth, message, lines)

    @router.message(Command("set"))
    async def set_setting(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        keys = ", ".join(hearth.chat_settings.keys)
        key, _, value = (command.args or "").strip().partition(" ")
        if not key or not value.strip():
            await reply(hearth, message, t(lang, "settings.usage", keys=keys))
            return
        await hearth.directory.ensure_chat(chat_ref(message.chat))
        try:
            stored = await hearth.chat_settings.set(message.chat.id, key, value)
        except UnknownSetting:
            await reply(
                hearth, message, t(lang, "settings.unknown", key=escape(key[:40]), keys=keys)
            )
            return
        except BadSettingValue:
            name = key.strip().lower()
            expected = t(lang, f"settings.expected.{name}")
            await reply(hearth, message, t(lang, "settings.bad_value", key=name, expected=expected))
            return
        if key.strip().lower() == "language":
            lang = stored
        await reply(
            hearth,
            message,
            t(lang, "settings.changed", key=key.strip().lower(), value=escape(stored)),
        )

    @router.message(Command("setrules"))
    async def set_rules(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        text = command.args or ""
        if not text.strip() and message.reply_to_message is not None:
            text = message.reply_to_message.text or message.reply_to_message.caption or ""
        if not text.strip():
            await reply(hearth, message, t(lang, "rules.set_usage"))
            return
        try:
            length = await hearth.chats.set_rules(chat_ref(message.chat), text)
        except TooLong as error:
            await reply(hearth, message, t(lang, "rules.too_long", length=error.length))
            return
        await reply(hearth, message, t(lang, "rules.saved", length=length))

    @router.message(Command("setwelcome"))
    async def set_welcome(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        text = (command.args or "").strip()
        if not text and message.reply_to_message is not None:
            text = (message.reply_to_message.text or "").strip()
        if not text:
            await reply(hearth, message, t(lang, "welcome_cmd.usage"))
            return
        chat = chat_ref(message.chat)
        try:
            await hearth.chats.set_welcome(chat, None if text.lower() == "reset" else text)
        except TooLong as error:
            await reply(hearth, message, t(lang, "welcome_cmd.too_long", length=error.length))
            return
        if text.lower() == "reset":
            await reply(hearth, message, t(lang, "welcome_cmd.reset"))
            return
        sample = person(message.from_user) if message.from_user else Person(0, "…")
        preview = await hearth.onboarding.preview(chat.id, sample)
        if utf16_length(preview) > 3800:  # too long to quote: show it as it will appear
            await reply(hearth, message, t(lang, "welcome_cmd.saved", preview="⬇️"))
            await hearth.notifier.send(message.chat.id, preview)
            return
        await reply(hearth, message, t(lang, "welcome_cmd.saved", preview=preview))

    @router.message(Command("trust"))
    async def set_trust(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        words = (command.args or "").split()
        levels = [w for w in words if not w.startswith("@") and parse_user_id(w) is None]
        targets = [w for w in words if w not in levels]
        if len(levels) != 1 or len(targets) > 1:
            await reply(hearth, message, t(lang, "trust.usage"))
            return
        level_name = levels[0].lower()
        if level_name not in {level.value for level in ASSIGNABLE}:
            await reply(hearth, message, t(lang, "trust.bad_level", level=escape(level_name[:30])))
            return
        target: Person | None = None
        seen = False
        if targets:
            token = targets[0]
            target = await resolve_target(hearth, message, token)
        elif message.reply_to_message is not None and message.reply_to_message.from_user:
            replied = message.reply_to_message.from_user
            if not replied.is_bot:
                target, seen = person(replied), True
        if target is None:
            await reply(hearth, message, t(lang, "errors.unknown_target"))
            return
        level = TrustLevel(level_name)
        chat = chat_ref(message.chat)
        try:
            try:
                await hearth.trust.assign(chat, target, level, seen)
            except StillPending:
                # an admin vouching for someone counts as their confirmation
                await hearth.onboarding.confirm(chat, target)
                await hearth.trust.assign(chat, target, level, seen)
        except NotInChat:
            await reply(hearth, message, t(lang, "trust.not_member", name=target.mention))
            return
        shown = t(lang, f"level.{level.value}")
        await reply(hearth, message, t(lang, "trust.done", name=target.mention, level=shown))

    return router
