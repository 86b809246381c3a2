"""Check-ins: the private flow (buttons, deep link, replies), /checkins, /pause,
/checkin_now and /checkin_questions. Answers go straight back, never through the outbox."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.durations import parse_duration
from bot.services.checkins import MAX_PAUSE, Prompt, StartNow, parse_questions
from bot.views import checkins as views
from bot.views.callbacks import CheckinBegin, CheckinOptIn, CheckinShare, CheckinSkip
from handlers.common import commands_only, private_text, reply, reply_lines
from handlers.filters import GROUP_TYPES, GroupAdmin, InPrivate, precheck
from handlers.stories import with_win_offer

DEEP_LINK = re.compile(rf"^/start {views.DEEP_LINK}(\d+)$")


async def _show(hearth: Hearth, user_id: int, prompt: Prompt) -> None:
    if prompt.text:
        await hearth.notifier.send(user_id, prompt.text, prompt.buttons)


@precheck
async def deep_link_in_private(message: Message) -> bool:
    """`/start ci_{round}` in private: the group post's button."""
    return message.chat.type == "private" and DEEP_LINK.match(message.text or "") is not None


async def deep_link(message: Message, command: CommandObject, hearth: Hearth) -> None:
    token = (command.args or "").removeprefix(views.DEEP_LINK)
    if not token.isascii() or not token.isdigit() or len(token) >= 12 or not message.from_user:
        return
    prompt = await hearth.checkins.begin(int(token), message.from_user.id)
    await _show(hearth, message.chat.id, prompt)


async def on_begin(query: CallbackQuery, callback_data: CheckinBegin, hearth: Hearth) -> None:
    await hearth.notifier.answer(query.id, "")  # at once: the spinner stops meanwhile
    prompt = await hearth.checkins.begin(callback_data.round_id, query.from_user.id)
    await _show(hearth, query.from_user.id, prompt)


async def on_skip(query: CallbackQuery, callback_data: CheckinSkip, hearth: Hearth) -> None:
    await hearth.notifier.answer(query.id, "")
    prompt = await hearth.checkins.skip(callback_data.round_id, query.from_user.id)
    await _show(hearth, query.from_user.id, prompt)


async def on_share(
    query: CallbackQuery, callback_data: CheckinShare, hearth: Hearth, lang: str
) -> None:
    await hearth.notifier.answer(query.id, "")
    user_id = query.from_user.id
    prompt = await hearth.checkins.share(callback_data.round_id, user_id, callback_data.choice)
    # a shared win may also become a story: asked in the same message
    await _show(
        hearth, user_id, await with_win_offer(hearth, user_id, callback_data.round_id, prompt, lang)
    )


async def on_opt_in(
    query: CallbackQuery, callback_data: CheckinOptIn, hearth: Hearth, lang: str
) -> None:
    await hearth.notifier.answer(query.id, "")
    user_id, on = query.from_user.id, callback_data.on
    await hearth.checkins.set_opt_in(user_id, on, callback_data.chat_id)
    await _show(hearth, user_id, Prompt(views.offer_answered(lang, on)))


async def checkins(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """`/checkins`: where the person takes part; `/checkins on|off` changes it."""
    if message.from_user is None:
        return
    user_id = message.from_user.id
    # in a group, only this group: the member's other communities are private
    here = message.chat.id if message.chat.type in GROUP_TYPES else None
    arg = (command.args or "").strip().lower()
    if arg not in ("on", "off", "вкл", "выкл"):
        chats = await hearth.checkins.status(user_id, here)
        await reply_lines(hearth, message, views.status(lang, chats))
        return
    on = arg in ("on", "вкл")
    titles = await hearth.checkins.set_opt_in(user_id, on, here, in_private=here is None)
    await reply_lines(hearth, message, views.opted(lang, on, titles))


async def pause(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """`/pause 2w` (up to `MAX_PAUSE`), `/pause off`."""
    if message.from_user is None:
        return
    user_id = message.from_user.id
    arg = (command.args or "").strip().lower()
    if arg in ("off", "выкл"):
        await hearth.checkins.pause(user_id, None)
        await reply(hearth, message, views.resumed(lang))
        return
    try:
        length = parse_duration(arg)
    except ValueError:
        length = None
    if length is None or not length or length > MAX_PAUSE:
        await reply(hearth, message, views.pause_usage(lang))
        return
    until = await hearth.checkins.pause(user_id, length)
    assert until is not None
    zone = await hearth.checkins.zone(user_id)
    await reply(hearth, message, views.paused(lang, until, zone))


async def checkin_now(message: Message, hearth: Hearth, lang: str) -> None:
    """`/checkin_now` (admins): open a round at once."""
    result = await hearth.checkins.start_now(message.chat.id)
    zone = (await hearth.chat_settings.get(message.chat.id)).timezone
    already = result.outcome == StartNow.ALREADY_OPEN
    await reply(hearth, message, views.started(lang, already, result.closes_at, zone))


async def checkin_questions(
    message: Message, command: CommandObject, hearth: Hearth, lang: str
) -> None:
    """`/checkin_questions` (admins): show, set (one per line) or `reset` the questions."""
    text = (command.args or "").strip()
    chat_id = message.chat.id
    if text.lower() == "reset":
        await hearth.checkins.set_questions(chat_id, None)
        await reply(hearth, message, views.questions_reset(lang))
        return
    if text:
        try:
            questions = parse_questions(text)
        except ValueError:
            await reply(hearth, message, views.questions_bad(lang))
            return
        await hearth.checkins.set_questions(chat_id, questions)
        await reply(hearth, message, views.questions_saved(lang, len(questions)))
        return
    config = await hearth.chat_settings.get(chat_id)
    questions, own = await hearth.checkins.questions(chat_id, config.language)
    await reply(hearth, message, views.questions_shown(lang, questions, own))


async def answer(message: Message, hearth: Hearth) -> None:
    """A private message while a question is being asked is its answer."""
    if message.from_user is None or message.text is None:
        raise SkipHandler()
    prompt = await hearth.checkins.answer_text(message.from_user.id, message.text)
    if prompt is None:
        raise SkipHandler()
    await _show(hearth, message.chat.id, prompt)


def build_router() -> Router:
    router = Router(name="checkins")
    router.callback_query.register(on_begin, CheckinBegin.filter())
    router.callback_query.register(on_skip, CheckinSkip.filter())
    router.callback_query.register(on_share, CheckinShare.filter())
    router.callback_query.register(on_opt_in, CheckinOptIn.filter())
    router.message.register(answer, private_text)
    # commands are kept apart so ordinary group messages skip their filters
    commands = commands_only(Router(name="checkins-commands"))
    commands.message.register(deep_link, CommandStart(), deep_link_in_private)
    commands.message.register(checkins, Command("checkins"))
    commands.message.register(pause, Command("pause"), InPrivate(refusal=views.private_only))
    commands.message.register(checkin_now, Command("checkin_now"), GroupAdmin())
    commands.message.register(checkin_questions, Command("checkin_questions"), GroupAdmin())
    router.include_router(commands)
    return router
