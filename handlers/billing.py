"""Paid membership: payments (pre-checkout, successful, refunded, subscription state),
members' /subscribe, /cancel, /paysupport, and admins' /invite, /grant, /exempt, /unexempt,
/subs, /refund."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BotSubscriptionUpdated, CallbackQuery, Message, PreCheckoutQuery

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.durations import parse_duration
from bot.i18n import format_moment, pick_language, t
from bot.notifier import Button, Keyboard
from bot.services.billing import (
    CANCEL_PREFIX,
    OFFER_PREFIX,
    RESUME_PREFIX,
    Cancel,
    PaymentIn,
    Refund,
)
from bot.services.people import Person
from handlers.common import (
    GROUP_TYPES,
    commands_only,
    parse_chat_id,
    refunded_payment,
    reply,
    require_group_admin,
    resolve_target,
    successful_payment,
)

MAX_GRANT_DAYS = 3650


async def me_lines(hearth: Hearth, user_id: int, lang: str, chat_id: int | None) -> list[str]:
    """Lines for /me: plan, end date and renewal state in each paid chat."""
    lines = []
    for view in await hearth.billing.views(user_id):
        if chat_id is not None and view.chat_id != chat_id:
            continue
        chat = escape(view.chat_title)
        if view.exempt:
            lines.append(t(lang, "billing.me_exempt", chat=chat))
            continue
        if view.status not in ("active", "unpaid") or view.ends_at is None:
            continue
        config = await hearth.chat_settings.get(view.chat_id)
        zone = config.timezone
        if view.status == "unpaid":
            until = format_moment(lang, view.ends_at + config.grace, zone)
            lines.append(t(lang, "billing.me_unpaid", chat=chat, until=until))
            continue
        lines.append(
            t(
                lang,
                "billing.me_line",
                chat=chat,
                plan=t(lang, f"billing.plan.{view.plan}"),
                until=format_moment(lang, view.ends_at, zone),
                renewal=t(lang, f"billing.renewal.{view.renewal}"),
            )
        )
    return lines


def _choose(chats: list[tuple[int, str]], prefix: str) -> Keyboard:
    return [[Button(title[:60], data=f"{prefix}{chat_id}")] for chat_id, title in chats]


def _grant_args(args: str) -> tuple[str | None, str]:
    """(duration, rest): the first word that is a duration, and the other words."""
    words = args.split()
    for index, word in enumerate(words):
        try:
            parse_duration(word)
        except ValueError:
            continue
        return word, " ".join(words[:index] + words[index + 1 :])
    return None, args


def build_router() -> Router:
    router = Router(name="billing")
    # commands are kept apart so ordinary group messages skip their filters
    commands = commands_only(Router(name="billing-commands"))
    router.include_router(commands)

    # ----- payments ----------------------------------------------------------------------

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery, hearth: Hearth) -> None:
        refusal = await hearth.billing.check(
            query.invoice_payload, query.from_user.id, query.total_amount, query.currency
        )
        if refusal is None:
            await hearth.notifier.answer_pre_checkout(query.id)
            return
        lang = pick_language(query.from_user.language_code, hearth.config.default_language)
        await hearth.notifier.answer_pre_checkout(query.id, t(lang, f"billing.refuse.{refusal}"))

    @router.message(successful_payment)
    async def paid(message: Message, hearth: Hearth) -> None:
        payment = message.successful_payment
        if payment is None or message.from_user is None:
            return
        await hearth.directory.remember(person(message.from_user))
        expires = payment.subscription_expiration_date
        await hearth.billing.record_payment(
            PaymentIn(
                charge_id=payment.telegram_payment_charge_id,
                user_id=message.from_user.id,
                payload=payment.invoice_payload,
                amount=payment.total_amount,
                recurring=bool(payment.is_recurring) or expires is not None,
                expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
                at=hearth.clock.now(),
            )
        )

    @router.message(refunded_payment)
    async def refunded(message: Message, hearth: Hearth) -> None:
        if message.refunded_payment is not None:
            await hearth.billing.refunded(message.refunded_payment.telegram_payment_charge_id)

    @router.subscription()
    async def subscription(event: BotSubscriptionUpdated, hearth: Hearth) -> None:
        await hearth.billing.subscription_changed(event.user.id, event.invoice_payload, event.state)

    # ----- members -----------------------------------------------------------------------

    @commands.message(Command("subscribe"))
    async def subscribe(message: Message, hearth: Hearth, lang: str) -> None:
        if message.chat.type != "private" or message.from_user is None:
            await reply(hearth, message, t(lang, "errors.private_only"))
            return
        await hearth.directory.remember(person(message.from_user))
        chats = await hearth.billing.paid_chats(message.from_user.id)
        if not chats:
            await reply(hearth, message, t(lang, "billing.no_paid_chats"))
        elif len(chats) == 1:
            if not await hearth.billing.send_offer(chats[0][0], message.from_user.id):
                await reply(hearth, message, t(lang, "errors.internal"))
        else:
            await hearth.notifier.send(
                message.chat.id, t(lang, "billing.choose_chat"), _choose(chats, OFFER_PREFIX)
            )

    @router.callback_query(F.data.startswith(OFFER_PREFIX))
    async def offer(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        chat_id = parse_chat_id((query.data or "").removeprefix(OFFER_PREFIX))
        if chat_id is None or not await hearth.billing.send_offer(chat_id, query.from_user.id):
            await hearth.notifier.answer(query.id, t(lang, "billing.offer_unavailable"), alert=True)
            return
        await hearth.notifier.answer(query.id, t(lang, "billing.offer_sent"))

    @commands.message(Command("cancel"))
    async def cancel(message: Message, hearth: Hearth, lang: str) -> None:
        if message.chat.type != "private" or message.from_user is None:
            await reply(hearth, message, t(lang, "errors.private_only"))
            return
        chats = await hearth.billing.cancellable(message.from_user.id)
        if not chats:
            await reply(hearth, message, t(lang, "billing.cancel_nothing"))
        elif len(chats) == 1:
            await reply(
                hearth, message, await _cancel(hearth, chats[0], message.from_user.id, lang)
            )
        else:
            await hearth.notifier.send(
                message.chat.id, t(lang, "billing.choose_chat"), _choose(chats, CANCEL_PREFIX)
            )

    @router.callback_query(F.data.startswith(CANCEL_PREFIX))
    async def cancel_chosen(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        chat_id = parse_chat_id((query.data or "").removeprefix(CANCEL_PREFIX))
        chats = dict(await hearth.billing.cancellable(query.from_user.id))
        if chat_id is None or chat_id not in chats:
            await hearth.notifier.answer(query.id, t(lang, "billing.cancel_nothing"), alert=True)
            return
        text = await _cancel(hearth, (chat_id, chats[chat_id]), query.from_user.id, lang)
        await hearth.notifier.answer(query.id, t(lang, "billing.offer_sent"))
        await hearth.notifier.send(query.from_user.id, text)

    @router.callback_query(F.data.startswith(RESUME_PREFIX))
    async def resume(query: CallbackQuery, hearth: Hearth, lang: str) -> None:
        chat_id = parse_chat_id((query.data or "").removeprefix(RESUME_PREFIX))
        outcome, ends_at = (
            await hearth.billing.resume(chat_id, query.from_user.id)
            if chat_id is not None
            else (Cancel.NOTHING, None)
        )
        if outcome == Cancel.BY_USER and chat_id is not None and ends_at is not None:
            zone = (await hearth.chat_settings.get(chat_id)).timezone
            chats = dict(await hearth.billing.paid_chats(query.from_user.id))
            title = escape(chats.get(chat_id, str(chat_id)))
            text = t(
                lang,
                "billing.resume_in_telegram",
                chat=title,
                until=format_moment(lang, ends_at, zone),
            )
            await hearth.notifier.answer(query.id, t(lang, "billing.offer_sent"))
            await hearth.notifier.send(query.from_user.id, text)
            return
        if outcome != Cancel.DONE or chat_id is None or ends_at is None:
            await hearth.notifier.answer(query.id, t(lang, "billing.offer_unavailable"), alert=True)
            return
        zone = (await hearth.chat_settings.get(chat_id)).timezone
        until = format_moment(lang, ends_at, zone)
        await hearth.notifier.answer(query.id, t(lang, "billing.resumed", until=until))
        if query.message is not None:
            text = t(lang, "billing.resumed", until=until)
            await hearth.notifier.edit(query.message.chat.id, query.message.message_id, text)

    @commands.message(Command("paysupport"))
    async def paysupport(message: Message, hearth: Hearth, lang: str) -> None:
        if message.from_user is None:
            return
        chats = await hearth.billing.paid_chats(message.from_user.id)
        if message.chat.type in GROUP_TYPES:
            chats = [(message.chat.id, message.chat.title or "")]
        contacts = []
        for chat_id, title in chats:
            admins = await hearth.notifier.admins(chat_id) or frozenset()
            people = [await hearth.trust.known_person(uid) for uid in sorted(admins)]
            names = ", ".join(p.mention for p in people if p is not None and not p.is_bot)
            if names:
                contacts.append(t(lang, "billing.support_admins", chat=escape(title), admins=names))
        text = t(lang, "billing.support")
        if contacts:
            text += "\n\n" + "\n".join(contacts)
        await reply(hearth, message, text)

    # ----- admins ------------------------------------------------------------------------

    @commands.message(Command("invite"))
    async def invite(message: Message, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        await hearth.directory.ensure_chat(chat_ref(message.chat))
        link = await hearth.notifier.join_link(message.chat.id, "Hearth")
        if link is None:
            await reply(hearth, message, t(lang, "billing.invite_failed"))
            return
        config = await hearth.chat_settings.get(message.chat.id)
        key = "billing.invite_paid" if config.price > 0 else "billing.invite_free"
        await reply(hearth, message, t(lang, key, link=link, price=config.price))

    async def _target(message: Message, hearth: Hearth, lang: str, args: str) -> Person | None:
        target = await resolve_target(hearth, message, args)
        if target is None:
            await reply(hearth, message, t(lang, "errors.unknown_target"))
        return target

    @commands.message(Command("grant"))
    async def grant(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        raw, rest = _grant_args(command.args or "")
        duration = parse_duration(raw) if raw else None
        if duration is None or not timedelta(0) < duration <= timedelta(days=MAX_GRANT_DAYS):
            await reply(hearth, message, t(lang, "billing.grant_usage"))
            return
        target = await _target(message, hearth, lang, rest)
        if target is None:
            return
        chat = chat_ref(message.chat)
        ends_at = await hearth.billing.grant(chat, target, duration)
        zone = (await hearth.chat_settings.get(chat.id)).timezone
        until = format_moment(lang, ends_at, zone)
        await reply(
            hearth, message, t(lang, "billing.grant_done", name=target.mention, until=until)
        )

    async def _exempt(
        message: Message, command: CommandObject, hearth: Hearth, lang: str, on: bool
    ) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        target = await _target(message, hearth, lang, command.args or "")
        if target is None:
            return
        await hearth.billing.set_exempt(chat_ref(message.chat), target, on)
        key = "billing.exempt_done" if on else "billing.unexempt_done"
        await reply(hearth, message, t(lang, key, name=target.mention))

    @commands.message(Command("exempt"))
    async def exempt(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        await _exempt(message, command, hearth, lang, True)

    @commands.message(Command("unexempt"))
    async def unexempt(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        await _exempt(message, command, hearth, lang, False)

    @commands.message(Command("subs"))
    async def subs(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        """Figures go to the admin privately, never into the group (members must not see
        revenue, payers' ids or amounts); an anonymous admin, who can't be written to, is
        asked to repeat the command from their own account."""
        if not await require_group_admin(hearth, message, lang):
            return
        chat_id = message.chat.id
        if message.sender_chat is not None or message.from_user is None:
            await reply(hearth, message, t(lang, "billing.subs_not_anonymous"))
            return
        private = True
        to = message.from_user.id
        if (command.args or "").strip().lower() == "csv":
            data = await hearth.billing.csv(chat_id)
            name = f"subscribers_{abs(chat_id)}.csv"
            sent = await hearth.notifier.send_document(to, name, data, caption=message.chat.title)
        else:
            o = await hearth.billing.overview(chat_id)
            text = t(
                lang,
                "billing.subs",
                chat=escape(message.chat.title or ""),
                active=o.active,
                ending=o.ending_soon,
                grace=o.in_grace,
                exempt=o.exempt,
                month=o.revenue_month,
                total=o.revenue_total,
                payments=o.payments,
            )
            sent = await hearth.notifier.send(to, text)
        if private:
            key = "billing.subs_sent" if sent is not None else "billing.subs_start_first"
            await reply(hearth, message, t(lang, key))

    @commands.message(Command("refund"))
    async def refund(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
        if not await require_group_admin(hearth, message, lang):
            return
        charge_id = (command.args or "").strip()
        if not charge_id or len(charge_id) > 255 or " " in charge_id:
            await reply(hearth, message, t(lang, "billing.refund_usage"))
            return
        result = await hearth.billing.refund(message.chat.id, charge_id)
        key = {
            Refund.DONE: "billing.refund_done",
            Refund.UNKNOWN: "billing.refund_unknown",
            Refund.ALREADY: "billing.refund_already",
            Refund.FAILED: "billing.refund_failed",
        }[result.outcome]
        name = (await hearth.trust.known_person(result.user_id)) if result.user_id else None
        shown = name.mention if name else str(result.user_id)
        await reply(hearth, message, t(lang, key, amount=result.amount, name=shown))

    return router


async def _cancel(hearth: Hearth, chat: tuple[int, str], user_id: int, lang: str) -> str:
    chat_id, title = chat
    outcome, ends_at = await hearth.billing.cancel(chat_id, user_id)
    if outcome == Cancel.DONE and ends_at is not None:
        zone = (await hearth.chat_settings.get(chat_id)).timezone
        until = format_moment(lang, ends_at, zone)
        return t(lang, "billing.cancel_done", chat=escape(title), until=until)
    if outcome == Cancel.NOTHING:
        return t(lang, "billing.cancel_nothing")
    return t(lang, "errors.internal")
