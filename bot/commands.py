"""The command menus shown by Telegram clients, per scope and language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
)

from bot.i18n import SUPPORTED, t

PRIVATE = ("start", "me", "interests", "checkins", "pause", "privacy", "mydata", "forget", "help")
MEMBER = (
    "rules",
    "me",
    "buddy",
    "interests",
    "volunteer",
    "warns",
    "report",
    "idea",
    "ideas",
    "thanks",
    "help",
)
ADMIN = (
    *MEMBER,
    "settings",
    "set",
    "setrules",
    "setwelcome",
    "trust",
    "buddies",
    "setbuddy",
    # moderation
    "warn",
    "unwarn",
    "mute",
    "unmute",
    "kick",
    "ban",
    "unban",
    "filter",
    "filters",
    "modlog",
    "setlog",
    # check-ins
    "checkin_now",
    "checkin_questions",
    # community health
    "atrisk",
    "stats",
)
PAID_PRIVATE = ("subscribe", "cancel", "paysupport")
PAID_ADMIN = ("invite", "grant", "exempt", "unexempt", "subs", "refund")
# the knowledge base: notes, stories, search (admins also save and clear notes)
KB_MEMBER = ("get", "notes", "kb", "story", "stories")
KB_ADMIN = ("save", "clear")
CIRCLES_PRIVATE = ("circles",)  # toggle my circles
CIRCLES_MEMBER = ("circles", "circle", "call")  # admins' /circle add|del|link share the name
ALL_COMMANDS = frozenset(
    PRIVATE + MEMBER + ADMIN + PAID_PRIVATE + PAID_ADMIN + KB_MEMBER + KB_ADMIN + CIRCLES_MEMBER
)


def _commands(language: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(language, f"commands.{name}")) for name in names]


async def register_commands(bot: Bot, default_language: str = "ru") -> None:
    """setMyCommands for private chats, group members and group admins, in ru and en."""
    scopes = (
        (BotCommandScopeDefault(), PRIVATE + PAID_PRIVATE + CIRCLES_PRIVATE),
        (BotCommandScopeAllPrivateChats(), PRIVATE + PAID_PRIVATE + CIRCLES_PRIVATE),
        (BotCommandScopeAllGroupChats(), MEMBER + KB_MEMBER + CIRCLES_MEMBER),
        (
            BotCommandScopeAllChatAdministrators(),
            ADMIN + PAID_ADMIN + KB_MEMBER + KB_ADMIN + CIRCLES_MEMBER,
        ),
    )
    for scope, names in scopes:
        await bot.set_my_commands(_commands(default_language, names), scope=scope)
        for language in SUPPORTED:
            await bot.set_my_commands(
                _commands(language, names), scope=scope, language_code=language
            )
