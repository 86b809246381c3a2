"""Thanks: a reply whose first word is a thanks word, `/thanks` in reply, or a 👍 ❤ 🙏 reaction
(handlers/reactions.py hands reactions over to `reaction_changed`). Refusals are quiet: the
bot only reacts to a thanked message, it never posts in the group about a thanks.

`/thanks top` (admins) is answered privately; in the group only where it went.
`/thanks board` posts the public board when the chat has `thanks_board on`; in private,
`/thanks board on|off` lets the person's name appear on boards (off by default)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, MessageEntity, MessageReactionUpdated, ReactionTypeEmoji

from bot.context import Hearth
from bot.services.thanks import Source
from bot.views import thanks as views
from handlers.common import admin_chats, commands_only, passing, reply
from handlers.filters import GROUP_TYPES, precheck, private_chat, sender_is_admin

THANKS_EMOJI = frozenset({"👍", "❤", "❤️", "🙏"})


def build_router() -> Router:
    router = Router(name="thanks")
    commands = commands_only(Router(name="thanks-commands"))
    router.include_router(commands)
    commands.message.register(thanks_in_private, Command("thanks"), private_chat)
    commands.message.register(thanks_in_group, Command("thanks"), in_group)
    router.message.register(passing(thanked_by_reply), thanks_reply)
    return router


async def in_group(message: Message) -> bool:
    return message.chat.type in GROUP_TYPES


def _author(message: Message) -> int | None:
    """The person whose message this one replies to (not a bot, a channel or a topic)."""
    target = message.reply_to_message
    if target is None or target.forum_topic_created is not None:
        return None
    if target.from_user is None or target.from_user.is_bot or target.sender_chat is not None:
        return None
    return target.from_user.id


@precheck
async def thanks_reply(message: Message) -> bool:
    """On the per-message path: a group reply to a person whose first word is a thanks word."""
    if message.chat.type not in GROUP_TYPES or message.reply_to_message is None:
        return False
    text = message.text or message.caption or ""
    return bool(text) and views.starts_with_thanks(text) and _author(message) is not None


async def _receivers(hearth: Hearth, message: Message, author: int) -> list[int]:
    """The replied-to author, then the people the thanks names (@username or a name link)."""
    found = [author]
    text = message.text or message.caption or ""
    usernames = []
    for entity in message.entities or message.caption_entities or []:
        if entity.type == "text_mention" and entity.user is not None:
            found.append(entity.user.id)
        elif entity.type == "mention":
            usernames.append(_entity_text(text, entity).lstrip("@"))
    if usernames:
        found += await hearth.thanks.service.usernames(usernames)
    return found


def _entity_text(text: str, entity: MessageEntity) -> str:
    """Telegram counts entity offsets in UTF-16 code units."""
    encoded = text.encode("utf-16-le")
    return encoded[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le")


async def _thank(hearth: Hearth, message: Message, source: Source) -> None:
    author = _author(message)
    target = message.reply_to_message
    if author is None or target is None or message.from_user is None:
        return
    receivers = await _receivers(hearth, message, author)
    await hearth.thanks.service.give(
        message.chat.id,
        message.from_user.id,
        target.message_id,
        receivers,
        author=author,
        source=source,
    )


async def thanked_by_reply(message: Message, hearth: Hearth) -> None:
    await _thank(hearth, message, Source.REPLY)


async def thanks_in_group(
    message: Message, command: CommandObject, hearth: Hearth, lang: str
) -> None:
    word = (command.args or "").strip().lower()
    if word == "top":
        await _top_from_group(hearth, message, lang)
    elif word == "board":
        board = await hearth.thanks.service.board(message.chat.id)
        await reply(hearth, message, views.board(lang, board))
    elif not word and _author(message) is not None:
        await _thank(hearth, message, Source.COMMAND)
    elif not word and message.reply_to_message is None:
        await reply(hearth, message, views.usage(lang))


async def _top_from_group(hearth: Hearth, message: Message, lang: str) -> None:
    """Admins only; the top goes privately, the group hears only where it went."""
    if message.from_user is None or message.sender_chat is not None:
        await reply(hearth, message, views.not_admin(lang))
        return
    if not await sender_is_admin(hearth, message):
        await reply(hearth, message, views.not_admin(lang))
        return
    top = await hearth.thanks.service.top(message.chat.id)
    text = views.top(lang, message.chat.title or "", top)
    sent = await hearth.notifier.send(message.from_user.id, text) is not None
    await reply(hearth, message, views.delivered(lang, sent))


async def thanks_in_private(
    message: Message, command: CommandObject, hearth: Hearth, lang: str
) -> None:
    """`/thanks top`: the top of each chat the sender administers; `/thanks board on|off`."""
    if message.from_user is None:
        return
    words = (command.args or "").strip().lower().split()
    user_id = message.from_user.id
    if words == ["top"]:
        chats = await admin_chats(hearth, user_id)
        if not chats:
            await reply(hearth, message, views.no_chats(lang))
        for chat_id, title in chats:
            top = await hearth.thanks.service.top(chat_id)
            await hearth.notifier.send(user_id, views.top(lang, title, top))
    elif words[:1] == ["board"] and words[1:] in (["on"], ["off"]):
        on = words[1] == "on"
        await hearth.thanks.service.set_board(user_id, on)
        await reply(hearth, message, views.board_choice(lang, on))
    elif words == ["board"]:
        on = await hearth.thanks.service.on_board(user_id)
        await reply(hearth, message, views.board_choice(lang, on))
    else:
        await reply(hearth, message, views.usage(lang))


def _thanking(reactions: list[object]) -> bool:
    return any(isinstance(r, ReactionTypeEmoji) and r.emoji in THANKS_EMOJI for r in reactions)


async def reaction_changed(event: MessageReactionUpdated, hearth: Hearth) -> None:
    """A person's reactions on a message changed: a thanks emoji set is a thanks to the
    message's author (if written within 12 hours: this process saw it, or with Redis any
    process of the bot did); the last one taken away takes the thanks back."""
    user = event.user
    if user is None or user.is_bot:
        return
    before, after = _thanking(list(event.old_reaction)), _thanking(list(event.new_reaction))
    service = hearth.thanks.service
    if after and not before:
        now = hearth.clock.now()
        author = await service.authors.author(event.chat.id, event.message_id, now)
        if author is not None:
            await service.give(
                event.chat.id,
                user.id,
                event.message_id,
                [author],
                author=author,
                source=Source.REACTION,
            )
    elif before and not after:
        await service.take_back(event.chat.id, user.id, event.message_id, Source.REACTION)
