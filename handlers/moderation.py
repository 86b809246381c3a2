"""Moderation commands: warnings, mute/kick/ban, stop words, reports, the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.durations import take_duration
from bot.services.moderation import Action, ReportResult
from bot.services.people import Person
from bot.views import common as common_views
from bot.views import moderation as views
from bot.views.callbacks import ReportChoice
from handlers.common import (
    commands_only,
    parse_chat_id,
    parse_user_id,
    reply,
    reply_lines,
    resolve_target,
)
from handlers.filters import GroupAdmin, InGroup, sender_is_admin

MODLOG_DEFAULT = 10
MODLOG_MAX = 50
MIN_TIMED = timedelta(seconds=30)
MAX_TIMED = timedelta(days=366)
TIMED = (Action.MUTE, Action.BAN)  # these take an optional duration


class UnknownTarget(LookupError):
    """A @username or id was given, but the bot has never seen that person."""


async def _target(hearth: Hearth, message: Message, args: str) -> tuple[Person | None, str]:
    """The person a command is about (`@username`, id, or the replied-to author) and the
    rest of the arguments. Raises UnknownTarget for a name the bot does not know."""
    words = args.strip().split(maxsplit=1)
    first = words[0] if words else ""
    replied = message.reply_to_message
    # in a reply, a leading number is part of the reason ("/warn 3 links in a row")
    numeric = replied is None and parse_user_id(first) is not None
    if first.startswith("@") or numeric:
        found = await resolve_target(hearth, message, first)
        if found is None:
            raise UnknownTarget(first)
        return found, words[1] if len(words) > 1 else ""
    if replied is not None and replied.from_user and not replied.from_user.is_bot:
        return person(replied.from_user), args.strip()
    return None, args.strip()


def _duration(rest: str) -> tuple[timedelta | None, str, bool]:
    """An optional leading duration; (duration, reason, ok). A leading number that is not a
    duration (`7dayz`, a bare `7`) is not ok: it is never read as a permanent punishment."""
    try:
        duration, reason = take_duration(rest)
    except ValueError:
        return None, rest, False
    if duration is not None and not MIN_TIMED <= duration <= MAX_TIMED:
        return None, rest, False
    return duration, reason, True


async def _is_bigger(hearth: Hearth, other: int, here: int) -> bool:
    """Whether `other` looks like the community and `here` like its log chat: when both are
    groups the caller administers, the one with more members is the community."""
    if other > 0:
        return False
    there_count = await hearth.notifier.member_count(other)
    here_count = await hearth.notifier.member_count(here)
    return there_count is not None and here_count is not None and there_count > here_count


async def _about(
    hearth: Hearth, message: Message, command: CommandObject, lang: str
) -> tuple[Person, str] | None:
    """For admin commands about a person: the target and the rest of the arguments, or None
    after replying why not."""
    try:
        target, rest = await _target(hearth, message, command.args or "")
    except UnknownTarget:
        await reply(hearth, message, common_views.unknown_target(lang))
        return None
    if target is None:
        await reply(hearth, message, views.usage(lang, command.command))
        return None
    return target, rest


def _actor(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


async def moderate(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/mute and /ban (target, optional duration, reason); /unmute, /kick, /unban."""
    action = Action(command.command)
    found = await _about(hearth, message, command, lang)
    if found is None:
        return
    target, rest = found
    duration, reason, ok = _duration(rest) if action in TIMED else (None, rest, True)
    if not ok:
        await reply(hearth, message, views.bad_duration(lang))
        return
    chat_id = message.chat.id
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    outcome, until = await hearth.moderation.act(
        chat_id, _actor(message), target, action, duration, reason
    )
    zone = (await hearth.chat_settings.get(chat_id)).timezone
    text = views.outcome(lang, action.value, outcome, target, until, reason, zone)
    await reply(hearth, message, text)


async def warn(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    found = await _about(hearth, message, command, lang)
    if found is None:
        return
    target, reason = found
    chat_id = message.chat.id
    if await hearth.admins.is_admin(chat_id, target.id):
        await reply(hearth, message, views.target_admin(lang))
        return
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    result = await hearth.moderation.warn(chat_id, target, _actor(message), reason)
    zone = (await hearth.chat_settings.get(chat_id)).timezone
    text = views.warned(
        lang,
        target,
        result.count,
        result.limit,
        reason,
        result.applied,
        result.outcome,
        result.until,
        zone,
    )
    await reply(hearth, message, text)


async def unwarn(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    found = await _about(hearth, message, command, lang)
    if found is None:
        return
    target, _ = found
    left = await hearth.moderation.unwarn(message.chat.id, target.id, _actor(message))
    if left is None:
        await reply(hearth, message, views.no_warnings(lang, target))
        return
    await reply(hearth, message, views.unwarned(lang, target, left))


async def _whose_warnings(
    hearth: Hearth, message: Message, command: CommandObject, lang: str
) -> Person | None:
    """The caller, or (for an admin) the person named or replied to; None after a refusal."""
    caller = person(message.from_user) if message.from_user else None
    replied = message.reply_to_message
    if not (command.args or "").strip() and (replied is None or not replied.from_user):
        return caller
    try:
        target, _ = await _target(hearth, message, command.args or "")
    except UnknownTarget:
        target = None
    if target is None:
        await reply(hearth, message, common_views.unknown_target(lang))
        return None
    if (caller is None or target.id != caller.id) and not await sender_is_admin(hearth, message):
        await reply(hearth, message, views.warns_own_only(lang))
        return None
    return target


async def warns(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    target = await _whose_warnings(hearth, message, command, lang)
    if target is None:
        return
    config = await hearth.chat_settings.get(message.chat.id)
    found = await hearth.moderation.warnings(message.chat.id, target.id)
    if not found:
        await reply(hearth, message, views.no_warnings(lang, target))
        return
    lines = views.warnings(lang, target, found, config.warn_limit, config.timezone)
    await reply_lines(hearth, message, lines)


async def report(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    replied = message.reply_to_message
    if replied is None or message.from_user is None:
        await reply(hearth, message, views.report_usage(lang))
        return
    author = replied.from_user
    if author is None or author.is_bot or replied.sender_chat is not None:
        await reply(hearth, message, views.report_not_person(lang))
        return
    if author.id == message.from_user.id:
        await reply(hearth, message, views.report_self(lang))
        return
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    result = await hearth.moderation.report(
        message.chat.id,
        replied.message_id,
        person(message.from_user),
        person(author),
        replied.text or replied.caption or "",
        (command.args or "").strip(),
    )
    await reply(hearth, message, views.report_result(lang, result.value))
    if result is ReportResult.SENT:
        await hearth.notifier.delete(message.chat.id, message.message_id)


async def on_report_choice(
    query: CallbackQuery, callback_data: ReportChoice, hearth: Hearth, lang: str
) -> None:
    result, found = await hearth.moderation.resolve_report(
        callback_data.report_id, query.from_user.id, callback_data.choice
    )
    text, alert = views.report_answer(lang, result)
    await hearth.notifier.answer(query.id, text, alert=alert)
    if result in ("missing", "not_admin", "handled", "target_admin"):
        return
    if result != "dismiss" and found is not None:  # the message was deleted: so are its thanks
        await hearth.thanks.service.message_removed(found.chat_id, found.message_id)
    card = query.message
    if card is not None and not isinstance(card, InaccessibleMessage):
        closed = views.report_closed(lang, card.html_text, result, person(query.from_user))
        await hearth.notifier.edit(card.chat.id, card.message_id, closed)


async def stop_word(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/filter add|del phrase."""
    verb, _, phrase = (command.args or "").strip().partition(" ")
    verb, phrase = verb.lower(), phrase.strip()
    if verb not in ("add", "del", "remove") or not phrase:
        await reply(hearth, message, views.filter_usage(lang))
        return
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    if verb == "add":
        added = await hearth.moderation.add_stop_word(message.chat.id, phrase)
        await reply(hearth, message, views.filter_added(lang, added, phrase))
        return
    removed = await hearth.moderation.remove_stop_word(message.chat.id, phrase)
    await reply(hearth, message, views.filter_removed(lang, removed, phrase))


async def stop_words(message: Message, hearth: Hearth, lang: str) -> None:
    phrases = await hearth.moderation.stop_words(message.chat.id)
    await reply_lines(hearth, message, views.stop_words(lang, phrases))


async def modlog(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    arg = (command.args or "").strip()
    if arg and (not arg.isascii() or not arg.isdigit()):
        await reply(hearth, message, views.modlog_usage(lang, MODLOG_MAX))
        return
    limit = min(max(int(arg or MODLOG_DEFAULT), 1), MODLOG_MAX)
    lines = await hearth.moderation.modlog(message.chat.id, limit)
    await reply_lines(hearth, message, views.modlog(lang, lines))


async def _administers(hearth: Hearth, chat_id: int, user_id: int) -> bool:
    """Whether the person controls the chat: their own private chat, or a group where they
    are a Telegram admin or an owner (asked now, not remembered)."""
    return chat_id == user_id or (chat_id < 0 and await hearth.admins.is_admin(chat_id, user_id))


async def _set_log_off(message: Message, hearth: Hearth, lang: str) -> None:
    """This chat's own log stops, and so does every chat's log that comes here."""
    here = message.chat.id
    if message.chat.type != "private" and not await GroupAdmin()(message, hearth):
        return
    if message.chat.type != "private":
        await hearth.moderation.set_log_chat(here, None)
    await hearth.moderation.stop_logs_into(here)
    await reply(hearth, message, views.setlog(lang, "off"))


async def set_log(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/setlog <id> in the group or in the log chat (or in private); /setlog off. The caller
    must control both chats, checked every time."""
    arg = (command.args or "").strip()
    here = message.chat.id
    if arg.lower() == "off":
        await _set_log_off(message, hearth, lang)
        return
    other = parse_chat_id(arg)
    if other is None or other == here:
        await reply(hearth, message, views.setlog(lang, "usage", here=here))
        return
    caller = message.from_user.id if message.from_user else 0
    in_private = message.chat.type == "private"
    admin_here = here == caller if in_private else await sender_is_admin(hearth, message)
    if not admin_here:
        await reply(hearth, message, common_views.not_admin(lang))
        return
    if not await _administers(hearth, other, caller):
        await reply(hearth, message, views.setlog(lang, "not_admin_there", chat=other))
        return
    if in_private or await _is_bigger(hearth, other, here):
        # run in the log chat (or in private) with the group's id
        await hearth.moderation.set_log_chat(other, here)
        await reply(hearth, message, views.setlog(lang, "done_here", group=other))
        return
    # run in the group with the log chat's id
    probe = views.setlog_probe(lang, message.chat.title or str(here))
    if await hearth.notifier.send(other, probe) is None:
        await reply(hearth, message, views.setlog(lang, "unreachable", chat=other))
        return
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    await hearth.moderation.set_log_chat(here, other)
    await reply(hearth, message, views.setlog(lang, "done", chat=other))


def build_router() -> Router:
    router = commands_only(Router(name="moderation"))
    actions = [action.value for action in (*TIMED, Action.UNMUTE, Action.KICK, Action.UNBAN)]
    table: list[tuple[Callable[..., Awaitable[None]], Command, Filter]] = [
        (moderate, Command(*actions), GroupAdmin()),
        (warn, Command("warn"), GroupAdmin()),
        (unwarn, Command("unwarn"), GroupAdmin()),
        (warns, Command("warns"), InGroup()),
        (report, Command("report"), InGroup()),
        (stop_word, Command("filter"), GroupAdmin()),
        (stop_words, Command("filters"), GroupAdmin()),
        (modlog, Command("modlog"), GroupAdmin()),
    ]
    for handler, command, refusal in table:
        router.message.register(handler, command, refusal)
    router.message.register(set_log, Command("setlog"))
    router.callback_query.register(on_report_choice, ReportChoice.filter())
    return router
