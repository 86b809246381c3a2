"""Buddy commands: /volunteer, /interests, /buddy, /setbuddy, /buddies, and follow-up buttons."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.convert import person
from bot.i18n import format_moment, t
from bot.services.buddies import FOLLOWUP_PREFIX, Change, Volunteer
from bot.services.people import Person
from handlers.common import (
    GROUP_TYPES,
    commands_only,
    is_admin,
    parse_chat_id,
    reply,
    require_group_admin,
    resolve_target,
)


def build_router() -> Router:
    router = commands_only(Router(name="buddies"))

    @router.message(Command("volunteer"))
    async def volunteer(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if message.chat.type not in GROUP_TYPES or message.from_user is None:
            await reply(hearth, message, t(lang, "errors.group_only"))
            return
        args = (command.args or "").strip()
        chat_id = message.chat.id
        if args.lower() in ("off", "выкл"):
            left = await hearth.buddies.leave_pool(chat_id, message.from_user.id)
            await reply(
                hearth,
                message,
                t(lang, "buddy.volunteer_off" if left else "buddy.volunteer_off_not"),
            )
            return
        target: Person = person(message.from_user)
        added_by: int | None = None
        if args or (message.reply_to_message is not None and message.reply_to_message.from_user):
            if not await is_admin(hearth, message):
                await reply(hearth, message, t(lang, "errors.not_admin"))
                return
            found = await resolve_target(hearth, message, args)
            if found is None:
                await reply(hearth, message, t(lang, "errors.unknown_target"))
                return
            target, added_by = found, message.from_user.id
        result = await hearth.buddies.volunteer(chat_id, target, added_by)
        if result.outcome == Volunteer.NOT_YET and result.eligible_at is not None:
            zone = (await hearth.chat_settings.get(chat_id)).timezone
            when = format_moment(lang, result.eligible_at, zone)
            await reply(hearth, message, t(lang, "buddy.volunteer_not_yet", when=when))
            return
        key = {
            Volunteer.ADDED: "buddy.volunteer_added",
            Volunteer.ALREADY: "buddy.volunteer_already",
            Volunteer.NOT_IN_CHAT: "buddy.volunteer_not_in_chat",
            Volunteer.NOT_YET: "buddy.volunteer_not_in_chat",
        }[result.outcome]
        await reply(hearth, message, t(lang, key, name=target.mention))

    @router.message(Command("interests"))
    async def interests(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if message.from_user is None:
            return
        text = (command.args or "").strip()
        if not text:
            current = await hearth.buddies.interests(message.from_user.id)
            usage = t(lang, "buddy.interests_usage")
            if current:
                usage = (
                    t(lang, "buddy.interests_saved", tags=escape(", ".join(current)))
                    + "\n\n"
                    + usage
                )
            await reply(hearth, message, usage)
            return
        await hearth.directory.remember(person(message.from_user))
        if text.lower() in ("off", "clear", "-"):
            await hearth.buddies.set_interests(message.from_user.id, "")
            await reply(hearth, message, t(lang, "buddy.interests_cleared"))
            return
        tags = await hearth.buddies.set_interests(message.from_user.id, text)
        if not tags:
            await reply(hearth, message, t(lang, "buddy.interests_usage"))
            return
        await reply(hearth, message, t(lang, "buddy.interests_saved", tags=escape(", ".join(tags))))

    @router.message(Command("buddy"))
    async def buddy(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if message.chat.type not in GROUP_TYPES or message.from_user is None:
            await reply(hearth, message, t(lang, "errors.group_only"))
            return
        chat_id, user_id = message.chat.id, message.from_user.id
        word, _, reason = (command.args or "").strip().partition(" ")
        if word.lower() in ("change", "сменить"):
            outcome = await hearth.buddies.change(chat_id, user_id, reason)
            key = {
                Change.CHANGED: "buddy.changed",
                Change.NO_BUDDY: "buddy.none",
                Change.LIMIT: "buddy.change_limit",
            }[outcome]
            await reply(hearth, message, t(lang, key))
            return
        view = await hearth.buddies.view(chat_id, user_id)
        lines = []
        if view.buddy is not None:
            lines.append(t(lang, "buddy.show_buddy", buddy=view.buddy.mention))
        elif view.waiting:
            lines.append(t(lang, "buddy.show_waiting"))
        if view.newcomers:
            names = ", ".join(p.mention for p in view.newcomers)
            lines.append(t(lang, "buddy.show_newcomers", newcomers=names))
        elif view.volunteer:
            lines.append(t(lang, "buddy.show_volunteer_idle"))
        await reply(hearth, message, "\n".join(lines) or t(lang, "buddy.show_nothing"))

    @router.message(Command("setbuddy"))
    async def set_buddy(
        message: Message, command: CommandObject, hearth: Hearth, lang: str
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        replied = message.reply_to_message
        args = (command.args or "").strip()
        if replied is None or replied.from_user is None or replied.from_user.is_bot or not args:
            await reply(hearth, message, t(lang, "buddy.setbuddy_usage"))
            return
        chosen = await resolve_target(hearth, message, args)
        if chosen is None:
            await reply(hearth, message, t(lang, "errors.unknown_target"))
            return
        newcomer = person(replied.from_user)
        if not await hearth.buddies.set_buddy(message.chat.id, newcomer, chosen):
            await reply(hearth, message, t(lang, "buddy.setbuddy_failed"))
            return
        await reply(
            hearth,
            message,
            t(lang, "buddy.setbuddy_done", buddy=chosen.mention, newcomer=newcomer.mention),
        )

    @router.message(Command("buddies"))
    async def overview(message: Message, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        data = await hearth.buddies.overview(message.chat.id)
        zone = (await hearth.chat_settings.get(message.chat.id)).timezone
        empty = t(lang, "buddy.overview_empty")
        lines = [t(lang, "buddy.overview_pairs")]
        lines += [
            t(
                lang,
                "buddy.overview_pair",
                newcomer=n.mention,
                buddy=b.mention,
                since=format_moment(lang, s, zone),
            )
            for n, b, s in data.pairs
        ] or [empty]
        lines += ["", t(lang, "buddy.overview_loads")]
        lines += [
            t(lang, "buddy.overview_load", buddy=b.mention, load=n) for b, n in data.loads
        ] or [empty]
        lines += ["", t(lang, "buddy.overview_waiting")]
        lines += [
            t(lang, "buddy.overview_wait", newcomer=n.mention, since=format_moment(lang, s, zone))
            for n, s in data.waiting
        ] or [empty]
        await reply(hearth, message, "\n".join(lines)[:4000])

    @router.callback_query(F.data.startswith(FOLLOWUP_PREFIX))
    async def followup(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        raw = (query.data or "").removeprefix(FOLLOWUP_PREFIX)
        chat, _, answer = raw.partition(":")
        chat_id = parse_chat_id(chat)
        if chat_id is None or answer not in ("y", "n"):
            await hearth.notifier.answer(query.id, t(lang, "errors.internal"), alert=True)
            return
        key = await hearth.buddies.followup_answer(chat_id, query.from_user.id, answer == "y")
        await hearth.notifier.answer(query.id, t(lang, key)[:200])
        if query.message is not None:
            await hearth.notifier.edit(
                query.message.chat.id, query.message.message_id, t(lang, key)
            )

    return router
