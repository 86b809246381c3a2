"""Moderation commands: warnings, mute/kick/ban, stop words, reports, the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.durations import parse_duration
from bot.i18n import format_moment, t
from bot.notifier import Outcome
from bot.services.moderation import REPORT_PREFIX, Action, ReportResult
from bot.services.people import Person
from handlers.common import (
    GROUP_TYPES,
    commands_only,
    is_admin,
    parse_chat_id,
    parse_user_id,
    reply,
    reply_lines,
    require_group_admin,
    resolve_target,
)

MODLOG_DEFAULT = 10
MODLOG_MAX = 50
MIN_TIMED = timedelta(seconds=30)
MAX_TIMED = timedelta(days=366)


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
    """An optional leading duration; (duration, reason, ok)."""
    words = rest.split(maxsplit=1)
    if not words:
        return None, "", True
    try:
        duration = parse_duration(words[0])
    except ValueError:
        return None, rest, True
    if not MIN_TIMED <= duration <= MAX_TIMED:
        return None, rest, False
    return duration, words[1] if len(words) > 1 else "", True


async def _outcome_text(
    hearth: Hearth,
    lang: str,
    chat_id: int,
    action: Action,
    outcome: Outcome,
    target: Person,
    until: datetime | None,
    reason: str,
) -> str:
    if outcome is not Outcome.DONE:
        return t(lang, f"moderation.outcome_{outcome.value}", name=target.mention)
    config = await hearth.chat_settings.get(chat_id)
    text = t(lang, f"moderation.done_{action.value}", name=target.mention)
    if until is not None:
        text += " " + t(lang, "moderation.until", until=format_moment(lang, until, config.timezone))
    if reason:
        text += "\n" + t(lang, "moderation.reason", reason=escape(reason))
    return text


async def _is_bigger(hearth: Hearth, other: int, here: int) -> bool:
    """Whether `other` looks like the community and `here` like its log chat: when both are
    groups the caller administers, the one with more members is the community."""
    if other > 0:
        return False
    there_count = await hearth.notifier.member_count(other)
    here_count = await hearth.notifier.member_count(here)
    return there_count is not None and here_count is not None and there_count > here_count


async def _admin_and_target(
    hearth: Hearth, message: Message, command: CommandObject, lang: str, usage: str
) -> tuple[Person, str] | None:
    """For admin commands about a person: checks the caller, finds the target, and replies
    why not when either fails. Returns (target, rest of the arguments)."""
    if not await require_group_admin(hearth, message, lang):
        return None
    try:
        target, rest = await _target(hearth, message, command.args or "")
    except UnknownTarget:
        await reply(hearth, message, t(lang, "errors.unknown_target"))
        return None
    if target is None:
        await reply(hearth, message, t(lang, f"moderation.usage_{usage}"))
        return None
    return target, rest


def build_router() -> Router:
    router = commands_only(Router(name="moderation"))

    def register(action: Action, takes_duration: bool) -> None:
        """/mute and /ban (target, optional duration, reason); /unmute, /kick, /unban."""

        @router.message(Command(action.value))
        async def handle(
            message: Message, command: CommandObject, hearth: Hearth, lang: str
        ) -> None:
            found = await _admin_and_target(hearth, message, command, lang, action.value)
            if found is None:
                return
            target, rest = found
            duration, reason, ok = _duration(rest) if takes_duration else (None, rest, True)
            if not ok:
                await reply(hearth, message, t(lang, "moderation.bad_duration"))
                return
            await hearth.directory.ensure_chat(chat_ref(message.chat))
            actor = message.from_user.id if message.from_user else None
            outcome, until = await hearth.moderation.act(
                message.chat.id, actor, target, action, duration, reason
            )
            text = await _outcome_text(
                hearth, lang, message.chat.id, action, outcome, target, until, reason
            )
            await reply(hearth, message, text)

    for action in (Action.MUTE, Action.BAN):
        register(action, takes_duration=True)
    for action in (Action.UNMUTE, Action.KICK, Action.UNBAN):
        register(action, takes_duration=False)

    @router.message(Command("warn"))
    async def warn(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        found = await _admin_and_target(hearth, message, command, lang, "warn")
        if found is None:
            return
        target, reason = found
        if await hearth.admins.is_admin(message.chat.id, target.id):
            await reply(hearth, message, t(lang, "moderation.outcome_target_admin"))
            return
        await hearth.directory.ensure_chat(chat_ref(message.chat))
        actor = message.from_user.id if message.from_user else None
        result = await hearth.moderation.warn(message.chat.id, target, actor, reason)
        text = t(
            lang, "moderation.warned", name=target.mention, count=result.count, limit=result.limit
        )
        if reason:
            text += "\n" + t(lang, "moderation.reason", reason=escape(reason[:300]))
        if result.applied is not None:
            text += "\n" + await _outcome_text(
                hearth,
                lang,
                message.chat.id,
                Action(result.applied),
                result.outcome,
                target,
                result.until,
                "",
            )
        await reply(hearth, message, text)

    @router.message(Command("unwarn"))
    async def unwarn(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        found = await _admin_and_target(hearth, message, command, lang, "unwarn")
        if found is None:
            return
        target, _ = found
        actor = message.from_user.id if message.from_user else None
        left = await hearth.moderation.unwarn(message.chat.id, target.id, actor)
        if left is None:
            await reply(hearth, message, t(lang, "moderation.no_warnings", name=target.mention))
            return
        await reply(hearth, message, t(lang, "moderation.unwarned", name=target.mention, left=left))

    @router.message(Command("warns"))
    async def warns(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if message.chat.type not in GROUP_TYPES:
            await reply(hearth, message, t(lang, "errors.group_only"))
            return
        caller = person(message.from_user) if message.from_user else None
        target: Person | None = caller
        if (command.args or "").strip() or (
            message.reply_to_message is not None and message.reply_to_message.from_user
        ):
            try:
                target, _ = await _target(hearth, message, command.args or "")
            except UnknownTarget:
                await reply(hearth, message, t(lang, "errors.unknown_target"))
                return
            if target is None:
                await reply(hearth, message, t(lang, "errors.unknown_target"))
                return
            if (caller is None or target.id != caller.id) and not await is_admin(hearth, message):
                await reply(hearth, message, t(lang, "moderation.warns_own_only"))
                return
        if target is None:
            return
        config = await hearth.chat_settings.get(message.chat.id)
        found = await hearth.moderation.warnings(message.chat.id, target.id)
        if not found:
            await reply(hearth, message, t(lang, "moderation.no_warnings", name=target.mention))
            return
        lines = [
            t(
                lang,
                "moderation.warns_title",
                name=target.mention,
                count=len(found),
                limit=config.warn_limit,
            )
        ]
        for warning in found:
            lines.append(
                t(
                    lang,
                    "moderation.warns_line",
                    when=format_moment(lang, warning.created_at, config.timezone),
                    reason=escape(warning.reason) or "—",
                    expires=format_moment(lang, warning.expires_at, config.timezone),
                )
            )
        await reply_lines(hearth, message, lines)

    @router.message(Command("report"))
    async def report(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if message.chat.type not in GROUP_TYPES:
            await reply(hearth, message, t(lang, "errors.group_only"))
            return
        replied = message.reply_to_message
        if replied is None or message.from_user is None:
            await reply(hearth, message, t(lang, "moderation.report_usage"))
            return
        author = replied.from_user
        if author is None or author.is_bot or replied.sender_chat is not None:
            await reply(hearth, message, t(lang, "moderation.report_not_person"))
            return
        if author.id == message.from_user.id:
            await reply(hearth, message, t(lang, "moderation.report_self"))
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
        await reply(hearth, message, t(lang, f"moderation.report_{result.value}"))
        if result is ReportResult.SENT:
            await hearth.notifier.delete(message.chat.id, message.message_id)

    @router.callback_query(F.data.startswith(REPORT_PREFIX))
    async def report_button(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        report_id, _, choice = (query.data or "").removeprefix(REPORT_PREFIX).partition(":")
        if not report_id.isascii() or not report_id.isdigit() or len(report_id) > 12:
            await hearth.notifier.answer(query.id, t(lang, "moderation.report_missing"), alert=True)
            return
        result, _ = await hearth.moderation.resolve_report(
            int(report_id), query.from_user.id, choice
        )
        if result in ("missing", "not_admin", "handled"):
            await hearth.notifier.answer(
                query.id, t(lang, f"moderation.report_{result}"), alert=result != "handled"
            )
            return
        if result == "target_admin":
            await hearth.notifier.answer(
                query.id, t(lang, "moderation.outcome_target_admin"), alert=True
            )
            return
        await hearth.notifier.answer(query.id, t(lang, f"moderation.report_did_{result}"))
        card = query.message
        if card is not None and not isinstance(card, InaccessibleMessage):
            done = t(
                lang,
                "moderation.report_closed",
                action=t(lang, f"moderation.report_{result}"),
                admin=person(query.from_user).mention,
            )
            await hearth.notifier.edit(card.chat.id, card.message_id, f"{card.html_text}\n\n{done}")

    @router.message(Command("filter"))
    async def stop_word(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        verb, _, phrase = (command.args or "").strip().partition(" ")
        verb, phrase = verb.lower(), phrase.strip()
        if verb not in ("add", "del", "remove") or not phrase:
            await reply(hearth, message, t(lang, "moderation.filter_usage"))
            return
        await hearth.directory.ensure_chat(chat_ref(message.chat))
        if verb == "add":
            added = await hearth.moderation.add_stop_word(message.chat.id, phrase)
            key = "moderation.filter_added" if added else "moderation.filter_exists"
            await reply(hearth, message, t(lang, key, phrase=escape(added or phrase[:100])))
            return
        removed = await hearth.moderation.remove_stop_word(message.chat.id, phrase)
        key = "moderation.filter_removed" if removed else "moderation.filter_missing"
        await reply(hearth, message, t(lang, key, phrase=escape(phrase[:100])))

    @router.message(Command("filters"))
    async def stop_words(message: Message, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        phrases = await hearth.moderation.stop_words(message.chat.id)
        if not phrases:
            await reply(hearth, message, t(lang, "moderation.filters_empty"))
            return
        listed = [f"• <code>{escape(p)}</code>" for p in phrases]
        await reply_lines(hearth, message, [t(lang, "moderation.filters_title"), *listed])

    @router.message(Command("modlog"))
    async def modlog(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        arg = (command.args or "").strip()
        if arg and (not arg.isascii() or not arg.isdigit()):
            await reply(hearth, message, t(lang, "moderation.modlog_usage", max=MODLOG_MAX))
            return
        limit = min(max(int(arg or MODLOG_DEFAULT), 1), MODLOG_MAX)
        lines = await hearth.moderation.modlog(message.chat.id, limit)
        if not lines:
            await reply(hearth, message, t(lang, "moderation.modlog_empty"))
            return
        await reply_lines(hearth, message, [t(lang, "moderation.modlog_title"), *lines])

    @router.message(Command("setlog"))
    async def set_log(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        arg = (command.args or "").strip()
        caller = message.from_user.id if message.from_user else 0
        here = message.chat.id
        if arg.lower() == "off":
            if not await require_group_admin(hearth, message, lang):
                return
            await hearth.moderation.set_log_chat(here, None)
            await reply(hearth, message, t(lang, "moderation.setlog_off"))
            return
        other = parse_chat_id(arg)
        if other is None or other == here:
            await reply(hearth, message, t(lang, "moderation.setlog_usage", here=here))
            return
        admin_here = message.chat.type in GROUP_TYPES and await is_admin(hearth, message)
        # the log may go only where the caller is an admin too (or to their own private chat)
        admin_there = other == caller or (other < 0 and await hearth.admins.is_admin(other, caller))
        if not admin_here and not admin_there:
            await reply(hearth, message, t(lang, "errors.not_admin"))
            return
        if admin_here and not admin_there:
            await reply(hearth, message, t(lang, "moderation.setlog_not_admin_there", chat=other))
            return
        if not admin_here or await _is_bigger(hearth, other, here):
            # run in the log chat (or in private) with the group's id
            await hearth.moderation.set_log_chat(other, here)
            await reply(hearth, message, t(lang, "moderation.setlog_done_here", group=other))
            return
        # run in the group with the log chat's id
        probe = t(lang, "moderation.setlog_probe", group=escape(message.chat.title or str(here)))
        if await hearth.notifier.send(other, probe) is None:
            await reply(hearth, message, t(lang, "moderation.setlog_unreachable", chat=other))
            return
        await hearth.directory.ensure_chat(chat_ref(message.chat))
        await hearth.moderation.set_log_chat(here, other)
        await reply(hearth, message, t(lang, "moderation.setlog_done", chat=other))

    return router
