"""The ideas board: `/idea <text>` (members, in the group) posts an idea with 👍/👎 buttons;
`/ideas` lists the open ones by votes; admins `/idea done|planned|declined <id> [comment]`.
The buttons answer with a toast; their counts are brought up to date by the edit job."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.convert import chat_ref, person, thread_of
from bot.services.ideas import DAILY_LIMIT, MAX_TEXT, Decided, Refused, Vote, Voted
from bot.views import ideas as views
from bot.views.callbacks import IdeaVote
from handlers.common import commands_only, reply, reply_lines
from handlers.filters import GROUP_TYPES, InGroup, sender_is_admin
from models.ideas import IdeaStatus

STATUS_WORDS = {
    "done": IdeaStatus.DONE,
    "planned": IdeaStatus.PLANNED,
    "declined": IdeaStatus.DECLINED,
    "сделано": IdeaStatus.DONE,
    "запланировано": IdeaStatus.PLANNED,
    "отклонено": IdeaStatus.DECLINED,
}
_ID = re.compile(r"#?(\d{1,9})")


@dataclass(frozen=True)
class Decision:
    status: IdeaStatus
    idea_id: int
    comment: str


@dataclass(frozen=True)
class BadDecision:
    """An admin's decision that cannot be read: `word` is set when the status word is
    wrong, else the id is missing."""

    word: str | None = None


def build_router() -> Router:
    router = Router(name="ideas")
    commands = commands_only(Router(name="ideas-commands"))
    router.include_router(commands)
    router.callback_query.register(on_vote, IdeaVote.filter())
    commands.message.register(idea, Command("idea"), InGroup())
    commands.message.register(ideas, Command("ideas"), InGroup())
    return router


def parse_decision(args: str) -> Decision | BadDecision | None:
    """`done 12 comment` → a decision; `done` without an id, or `finished #12` (an id after
    an unknown word) → what is wrong; anything else is an idea's text (None)."""
    words = args.split(maxsplit=2)
    if not words:
        return None
    status = STATUS_WORDS.get(words[0].lower())
    number = _ID.fullmatch(words[1]) if len(words) > 1 else None
    if status is not None and number is not None:
        return Decision(status, int(number.group(1)), words[2].strip() if len(words) > 2 else "")
    if status is not None:
        return BadDecision()
    if number is not None and words[1].startswith("#"):
        return BadDecision(words[0])
    return None


async def idea(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """An idea to post, or (from an admin) a decision on one."""
    args = (command.args or "").strip()
    parsed = parse_decision(args)
    if parsed is not None and await sender_is_admin(hearth, message):
        await _decide(message, hearth, lang, parsed)
        return
    if isinstance(parsed, Decision):  # a member cannot decide: say so rather than post it
        await reply(hearth, message, views.admins_only(lang))
        return
    if not args:
        await reply(hearth, message, views.usage(lang))
        return
    if message.sender_chat is not None or message.from_user is None:
        await reply(hearth, message, views.not_anonymous(lang))
        return
    result = await hearth.ideas.post(
        chat_ref(message.chat),
        person(message.from_user),
        args,
        message.message_id,
        thread_of(message),
    )
    if isinstance(result, Refused):
        text = views.refused(lang, result, limit=DAILY_LIMIT, max_text=MAX_TEXT)
        await reply(hearth, message, text)


async def _decide(
    message: Message, hearth: Hearth, lang: str, parsed: Decision | BadDecision
) -> None:
    if isinstance(parsed, BadDecision):
        text = views.bad_status(lang, parsed.word) if parsed.word else views.decide_usage(lang)
        await reply(hearth, message, text)
        return
    result = await hearth.ideas.decide(
        message.chat.id, parsed.idea_id, parsed.status, parsed.comment
    )
    if isinstance(result, Decided):
        await reply(hearth, message, views.decided(lang, result.card, result.told))
    else:
        await reply(hearth, message, views.refused(lang, result, max_text=MAX_TEXT))


async def ideas(message: Message, hearth: Hearth, lang: str) -> None:
    """The open ideas by votes, in the group (they were posted there anyway)."""
    await reply_lines(hearth, message, views.board(lang, await hearth.ideas.board(message.chat.id)))


async def on_vote(query: CallbackQuery, callback_data: IdeaVote, hearth: Hearth, lang: str) -> None:
    """👍/👎 under an idea: the toast says what the press did and the counts now."""
    chat = query.message.chat if query.message is not None else None
    if chat is None or chat.type not in GROUP_TYPES or query.from_user.is_bot:
        await hearth.notifier.answer(query.id, views.voted(lang, Voted(Vote.GONE)))
        return
    result = await hearth.ideas.vote(
        chat_ref(chat), callback_data.idea_id, person(query.from_user), callback_data.up
    )
    await hearth.notifier.answer(query.id, views.voted(lang, result))
