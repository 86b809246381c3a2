"""Stories: `/story [tags]` in reply to a member's message asks its author privately; the
author's answer; `/stories [tag]` and `/stories pending` with approve and reject buttons
for admins and veterans."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.services.checkins import Prompt
from bot.services.kb import Choice
from bot.services.kb.stories import ASKS_PER_DAY, Refused
from bot.services.kb.text import parse_tags
from bot.views import kb as views
from bot.views.callbacks import KbConsentAnswer, KbDecide, KbWin
from handlers.common import commands_only, reply, reply_lines
from handlers.filters import GROUP_TYPES, InGroup, sender_is_admin


def build_router() -> Router:
    router = Router(name="stories")
    commands = commands_only(Router(name="stories-commands"))
    router.include_router(commands)
    commands.message.register(story, Command("story"), InGroup())
    commands.message.register(stories, Command("stories"), InGroup())
    router.callback_query.register(on_consent, KbConsentAnswer.filter())
    router.callback_query.register(on_decide, KbDecide.filter())
    router.callback_query.register(on_win, KbWin.filter())
    return router


async def story(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """Ask the replied-to message's author, privately, whether it may become a story.
    Nothing is kept if they cannot be asked; the group hears only that they were asked.
    A message is offered once, and each person offers a few a day (each one writes to
    the author)."""
    source = message.reply_to_message
    author = source.from_user if source is not None else None
    if source is None or author is None or author.is_bot or source.sender_chat is not None:
        await reply(hearth, message, views.say(lang, "story_usage"))
        return
    text = source.html_text if (source.text or source.caption) else ""
    if not text.strip():
        await reply(hearth, message, views.say(lang, "story_no_text"))
        return
    asker = message.from_user
    asked = await hearth.kb.stories.ask(
        message.chat.id,
        source.message_id,
        author.id,
        asker.id if asker is not None else 0,
        parse_tags(command.args or ""),
        text,
    )
    if isinstance(asked, Refused):
        await reply(hearth, message, views.say(lang, asked.value, count=ASKS_PER_DAY))
        return
    author_lang = author.language_code if author.language_code in ("ru", "en") else lang
    prompt, keyboard = views.consent_prompt(
        author_lang or lang,
        asked.id,
        message.chat.title or "",
        asker.full_name if asker is not None else "",
        text,
    )
    # the author gets the message itself, and the question replies to that copy: a yes reads
    # the text back from it, so nothing of it is stored before the author agrees
    copy_id = await hearth.notifier.send(author.id, text)
    if copy_id is None or await hearth.notifier.send(author.id, prompt, keyboard, copy_id) is None:
        await hearth.kb.stories.withdraw(asked.id)
        await reply(hearth, message, views.say(lang, "story_unreachable", name=author.full_name))
        return
    await reply(hearth, message, views.say(lang, "story_asked", name=author.full_name))


async def on_consent(
    query: CallbackQuery, callback_data: KbConsentAnswer, hearth: Hearth, lang: str
) -> None:
    """The author's answer (only theirs counts): the story waits for approval, or nothing."""
    choice = Choice(callback_data.choice)
    asked = query.message
    copy = asked.reply_to_message if isinstance(asked, Message) else None
    text = copy.html_text if copy is not None and (copy.text or copy.caption) else ""
    entry = await hearth.kb.stories.answer(callback_data.id, query.from_user.id, choice, text)
    if entry is None and choice is not Choice.NO:
        await hearth.notifier.answer(query.id, views.say(lang, "consent_gone"), alert=True)
        return
    key = "consent_declined" if choice is Choice.NO else f"consent_done_{choice.value}"
    await hearth.notifier.answer(query.id, "")
    message = query.message
    if isinstance(message, Message):
        await hearth.notifier.edit(message.chat.id, message.message_id, views.say(lang, key))


async def stories(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/stories [tag]: approved stories; /stories pending: the queue, for admins and veterans."""
    arg = (command.args or "").strip().lstrip("#")
    if arg.lower() == "pending":
        await pending(message, hearth, lang)
        return
    tag = parse_tags(arg).split(" ")[0] or None
    entries = await hearth.kb.stories.listing(message.chat.id, tag)
    await reply_lines(hearth, message, views.stories_list(lang, entries, tag))


async def may_approve(hearth: Hearth, message: Message, user_id: int) -> bool:
    return await sender_is_admin(hearth, message) or await hearth.kb.stories.may_approve(
        message.chat.id, user_id
    )


async def pending(message: Message, hearth: Hearth, lang: str) -> None:
    """The queue goes privately to the admin or veteran who asked: unapproved stories (and
    their authors' names) never show in the group."""
    user_id = message.from_user.id if message.from_user else 0
    if not await may_approve(hearth, message, user_id):
        await reply(hearth, message, views.say(lang, "approve_not_allowed"))
        return
    if message.from_user is None or message.sender_chat is not None:
        await reply(hearth, message, views.say(lang, "pending_anonymous"))
        return
    entries = await hearth.kb.stories.listing(message.chat.id, None, pending=True)
    if not entries:
        await reply(hearth, message, views.say(lang, "no_pending"))
        return
    for entry in entries:
        text, keyboard = views.pending_story(lang, entry, message.chat.title or "")
        if await hearth.notifier.send(user_id, text, keyboard) is None:
            await reply(hearth, message, views.say(lang, "start_me"))
            return
    await reply(hearth, message, views.say(lang, "sent_privately"))


async def on_decide(
    query: CallbackQuery, callback_data: KbDecide, hearth: Hearth, lang: str
) -> None:
    """Approve or reject a waiting story: admins and veterans of the story's chat, checked
    now (the card is in their private chat; an older card may still be in the group)."""
    message = query.message
    if not isinstance(message, Message):
        return
    user_id = query.from_user.id
    chat_id = await hearth.kb.stories.chat_of_pending(callback_data.id)
    if chat_id is None or (message.chat.type in GROUP_TYPES and message.chat.id != chat_id):
        await hearth.notifier.answer(query.id, views.say(lang, "gone"), alert=True)
        return
    allowed = await hearth.admins.is_admin(chat_id, user_id) or (
        await hearth.kb.stories.may_approve(chat_id, user_id)
    )
    if not allowed:
        await hearth.notifier.answer(query.id, views.say(lang, "approve_not_allowed"), alert=True)
        return
    ok = callback_data.ok == "y"
    entry = await hearth.kb.stories.decide(callback_data.id, chat_id, user_id, ok)
    if entry is None:
        await hearth.notifier.answer(query.id, views.say(lang, "gone"), alert=True)
        return
    await hearth.notifier.answer(query.id, "")
    done = views.say(lang, "approved" if ok else "rejected", title=views.title(entry))
    await hearth.notifier.edit(message.chat.id, message.message_id, done)


async def with_win_offer(
    hearth: Hearth, user_id: int, round_id: int, prompt: Prompt, lang: str
) -> Prompt:
    """The check-in's last answer, and if the person shared a win, the question whether to
    keep it as a story too (its buttons below the prompt's)."""
    found = await hearth.kb.wins.shared_win(round_id, user_id)
    if found is None:
        return prompt
    text, keyboard = views.win_offer(lang, round_id, found[1])
    return Prompt(f"{prompt.text}\n\n{text}", [*(prompt.buttons or []), *keyboard])


async def on_win(query: CallbackQuery, callback_data: KbWin, hearth: Hearth, lang: str) -> None:
    """The win's author answers: a story awaiting approval, or nothing."""
    choice = Choice(callback_data.choice)
    await hearth.notifier.answer(query.id, "")
    key = "consent_declined"
    if choice is not Choice.NO:
        anonymous = choice is Choice.ANONYMOUS
        kept = await hearth.kb.wins.keep(callback_data.round, query.from_user.id, anonymous)
        key = f"consent_done_{choice.value}" if kept is not None else "consent_gone"
    message = query.message
    if isinstance(message, Message):
        await hearth.notifier.edit(message.chat.id, message.message_id, views.say(lang, key))
