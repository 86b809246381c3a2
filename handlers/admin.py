"""Admin commands: /settings, /set, /setrules, /setwelcome, /trust."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.context import Hearth
from bot.convert import chat_ref, person, thread_of
from bot.notifier import utf16_length
from bot.services.chats import TooLong
from bot.services.people import Person
from bot.services.settings import GENERAL, BadSettingValue, UnknownSetting
from bot.services.topics import TOPIC_KEY
from bot.services.trust import ASSIGNABLE, NotInChat, StillPending
from bot.views import admin as views
from bot.views import common
from handlers.common import commands_only, parse_user_id, reply, reply_lines, resolve_target
from handlers.filters import GroupAdmin
from models.members import TrustLevel


async def show_settings(message: Message, hearth: Hearth, lang: str) -> None:
    config = await hearth.chat_settings.get(message.chat.id)
    await reply_lines(hearth, message, views.settings(lang, config, hearth.chat_settings.keys))


async def set_setting(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    keys = hearth.chat_settings.keys
    key, _, value = (command.args or "").strip().partition(" ")
    if not key or not value.strip():
        await reply(hearth, message, views.settings_usage(lang, keys))
        return
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    name = key.strip().lower()
    if name == TOPIC_KEY and value.strip().lower() == "here":
        value = str(thread_of(message) or GENERAL)  # the topic this command was sent in
    try:
        stored = await hearth.chat_settings.set(message.chat.id, key, value)
    except UnknownSetting:
        await reply(hearth, message, views.setting_unknown(lang, key, keys))
        return
    except BadSettingValue:
        await reply(hearth, message, views.setting_bad_value(lang, name))
        return
    if name == "language":
        lang = stored  # confirmed in the language just chosen
    await reply(hearth, message, views.setting_changed(lang, name, stored))


async def set_rules(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/setrules text, or /setrules in reply to the message that holds them."""
    text = command.args or ""
    if not text.strip() and message.reply_to_message is not None:
        text = message.reply_to_message.text or message.reply_to_message.caption or ""
    if not text.strip():
        await reply(hearth, message, views.rules_usage(lang))
        return
    try:
        length = await hearth.chats.set_rules(chat_ref(message.chat), text)
    except TooLong as error:
        await reply(hearth, message, views.rules_too_long(lang, error.length))
        return
    await reply(hearth, message, views.rules_saved(lang, length))


async def set_welcome(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/setwelcome text (or in reply), /setwelcome reset; answers with a preview."""
    text = (command.args or "").strip()
    if not text and message.reply_to_message is not None:
        text = (message.reply_to_message.text or "").strip()
    if not text:
        await reply(hearth, message, views.welcome_usage(lang))
        return
    chat = chat_ref(message.chat)
    reset = text.lower() == "reset"
    try:
        await hearth.chats.set_welcome(chat, None if reset else text)
    except TooLong as error:
        await reply(hearth, message, views.welcome_too_long(lang, error.length))
        return
    if reset:
        await reply(hearth, message, views.welcome_reset(lang))
        return
    sample = person(message.from_user) if message.from_user else Person(0, "…")
    preview = await hearth.onboarding.preview(chat.id, sample)
    if utf16_length(preview) > views.WELCOME_QUOTE_LIMIT:  # show it as it will appear
        await reply(hearth, message, views.welcome_saved(lang, preview, quoted=False))
        await hearth.notifier.send(message.chat.id, preview, thread=thread_of(message))
        return
    await reply(hearth, message, views.welcome_saved(lang, preview))


async def _trust_target(
    hearth: Hearth, message: Message, token: str | None
) -> tuple[Person | None, bool]:
    """Who /trust is about, and whether they were just seen in the chat (a reply)."""
    if token is not None:
        return await resolve_target(hearth, message, token), False
    replied = message.reply_to_message
    if replied is not None and replied.from_user and not replied.from_user.is_bot:
        return person(replied.from_user), True
    return None, False


async def set_trust(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/trust <level> in reply, or /trust <level> @user (or id)."""
    words = (command.args or "").split()
    levels = [w for w in words if not w.startswith("@") and parse_user_id(w) is None]
    targets = [w for w in words if w not in levels]
    if len(levels) != 1 or len(targets) > 1:
        await reply(hearth, message, views.trust_usage(lang))
        return
    level_name = levels[0].lower()
    if level_name not in {level.value for level in ASSIGNABLE}:
        await reply(hearth, message, views.trust_bad_level(lang, level_name))
        return
    target, seen = await _trust_target(hearth, message, targets[0] if targets else None)
    if target is None:
        await reply(hearth, message, common.unknown_target(lang))
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
        await reply(hearth, message, views.trust_not_member(lang, target))
        return
    await reply(hearth, message, views.trust_done(lang, target, level))


def build_router() -> Router:
    router = commands_only(Router(name="admin"))
    router.message.register(show_settings, Command("settings"), GroupAdmin())
    router.message.register(set_setting, Command("set"), GroupAdmin())
    router.message.register(set_rules, Command("setrules"), GroupAdmin())
    router.message.register(set_welcome, Command("setwelcome"), GroupAdmin())
    router.message.register(set_trust, Command("trust"), GroupAdmin())
    return router
