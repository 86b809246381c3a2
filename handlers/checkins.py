"""Check-ins: the private flow (buttons, deep link, replies), /checkins, /pause,
/checkin_now and /checkin_questions. Answers go straight back, never through the outbox."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.durations import parse_duration
from bot.i18n import format_moment, t
from bot.services.checkins import (
    BEGIN,
    DEEP_LINK,
    MAX_PAUSE,
    OPT,
    SHARE,
    SKIP,
    Prompt,
    StartNow,
    parse_questions,
)
from handlers.common import (
    GROUP_TYPES,
    commands_only,
    parse_chat_id,
    private_text,
    reply,
    require_group_admin,
)


async def _show(hearth: Hearth, user_id: int, prompt: Prompt) -> None:
    if prompt.text:
        await hearth.notifier.send(user_id, prompt.text, prompt.buttons)


def _int(token: str) -> int | None:
    return int(token) if token.isascii() and token.isdigit() and len(token) < 12 else None


def build_router() -> Router:
    router = Router(name="checkins")
    # commands are kept apart so ordinary group messages skip their filters
    commands = commands_only(Router(name="checkins-commands"))
    router.include_router(commands)

    @commands.message(CommandStart(), F.chat.type == "private", F.text.regexp(r"^/start ci_\d+$"))
    async def deep_link(message: Message, command: CommandObject, hearth: Hearth) -> None:
        round_id = _int((command.args or "").removeprefix(DEEP_LINK))
        if round_id is None or message.from_user is None:
            return
        await _show(
            hearth, message.chat.id, await hearth.checkins.begin(round_id, message.from_user.id)
        )

    @router.callback_query(F.data.startswith("ci:"))
    async def button(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        data = query.data or ""
        user_id = query.from_user.id
        await hearth.notifier.answer(query.id, "")  # at once: the spinner stops meanwhile
        prompt: Prompt | None = None
        if data.startswith(BEGIN) and (round_id := _int(data.removeprefix(BEGIN))) is not None:
            prompt = await hearth.checkins.begin(round_id, user_id)
        elif data.startswith(SKIP) and (round_id := _int(data.removeprefix(SKIP))) is not None:
            prompt = await hearth.checkins.skip(round_id, user_id)
        elif data.startswith(SHARE):
            raw_round, _, choice = data.removeprefix(SHARE).partition(":")
            round_id = _int(raw_round)
            if round_id is not None:
                prompt = await hearth.checkins.share(round_id, user_id, choice)
        elif data.startswith(OPT):
            raw_chat, _, on = data.removeprefix(OPT).partition(":")
            chat_id = parse_chat_id(raw_chat)
            if chat_id is not None:
                await hearth.checkins.set_opt_in(user_id, on == "1", chat_id)
                key = "checkin.offer_accepted" if on == "1" else "checkin.offer_declined"
                prompt = Prompt(t(lang, key))
        if prompt is not None:
            await _show(hearth, user_id, prompt)

    @commands.message(Command("checkins"))
    async def checkins(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if message.from_user is None:
            return
        arg = (command.args or "").strip().lower()
        if arg not in ("on", "off", "вкл", "выкл"):
            # in a group, only this group: the member's other communities are private
            here = message.chat.id if message.chat.type in GROUP_TYPES else None
            lines = [
                t(lang, "checkin.status_on" if on else "checkin.status_off", chat=title)
                for title, on in await hearth.checkins.status(message.from_user.id, here)
            ]
            await reply(hearth, message, "\n".join([*lines, t(lang, "checkin.opt_usage")]))
            return
        on = arg in ("on", "вкл")
        chat_id = message.chat.id if message.chat.type in GROUP_TYPES else None
        titles = await hearth.checkins.set_opt_in(
            message.from_user.id, on, chat_id, in_private=chat_id is None
        )
        if not titles:
            await reply(hearth, message, t(lang, "checkin.opt_none"))
            return
        key = "checkin.opted_in" if on else "checkin.opted_out"
        await reply(hearth, message, t(lang, key, chats=", ".join(f"“{x}”" for x in titles)))

    @commands.message(Command("pause"))
    async def pause(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if message.from_user is None:
            return
        if message.chat.type != "private":
            await reply(hearth, message, t(lang, "checkin.private_only"))
            return
        arg = (command.args or "").strip().lower()
        if arg in ("off", "выкл"):
            await hearth.checkins.pause(message.from_user.id, None)
            await reply(hearth, message, t(lang, "checkin.resumed"))
            return
        try:
            length = parse_duration(arg)
        except ValueError:
            length = None
        if length is None or not length or length > MAX_PAUSE:
            await reply(hearth, message, t(lang, "checkin.pause_usage"))
            return
        until = await hearth.checkins.pause(message.from_user.id, length)
        assert until is not None
        shown = format_moment(lang, until, await hearth.checkins.zone(message.from_user.id))
        await reply(hearth, message, t(lang, "checkin.paused", until=shown))

    @commands.message(Command("checkin_now"))
    async def checkin_now(message: Message, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        result = await hearth.checkins.start_now(message.chat.id)
        zone = (await hearth.chat_settings.get(message.chat.id)).timezone
        until = format_moment(lang, result.closes_at, zone)
        key = "checkin.now_started" if result.outcome == StartNow.STARTED else "checkin.now_already"
        await reply(hearth, message, t(lang, key, until=until))

    @commands.message(Command("checkin_questions"))
    async def checkin_questions(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        text = (command.args or "").strip()
        chat_id = message.chat.id
        if text.lower() == "reset":
            await hearth.checkins.set_questions(chat_id, None)
            await reply(hearth, message, t(lang, "checkin.questions_reset"))
            return
        if text:
            try:
                questions = parse_questions(text)
            except ValueError:
                await reply(hearth, message, t(lang, "checkin.questions_bad"))
                return
            await hearth.checkins.set_questions(chat_id, questions)
            await reply(hearth, message, t(lang, "checkin.questions_saved", n=len(questions)))
            return
        config = await hearth.chat_settings.get(chat_id)
        questions, own = await hearth.checkins.questions(chat_id, config.language)
        lines = "\n".join(
            t(
                lang,
                "checkin.questions_line",
                n=i + 1,
                text=escape(q.text),
                support=t(lang, "checkin.questions_support") if q.support else "",
            )
            for i, q in enumerate(questions)
        )
        own_text = t(lang, "checkin.questions_own") if own else ""
        await reply(
            hearth, message, t(lang, "checkin.questions_show", own=own_text, questions=lines)
        )

    @router.message(private_text)
    async def answer(message: Message, hearth: Hearth) -> None:
        if message.from_user is None or message.text is None:
            raise SkipHandler()
        prompt = await hearth.checkins.answer_text(message.from_user.id, message.text)
        if prompt is None:
            raise SkipHandler()
        await _show(hearth, message.chat.id, prompt)

    return router
