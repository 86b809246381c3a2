"""Paid membership: payments (pre-checkout, successful, refunded, subscription state),
members' /subscribe, /cancel, /paysupport, and admins' /invite, /grant, /exempt, /unexempt,
/subs, /refund (its handlers in handlers/refunds.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BotSubscriptionUpdated, CallbackQuery, Message, PreCheckoutQuery

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.durations import parse_duration
from bot.i18n import pick_language
from bot.services.billing import Cancel, PaymentIn
from bot.services.people import Person
from bot.views import billing as views
from bot.views import common
from bot.views.callbacks import CancelSubscription, Offer, RefundChat, ResumeSubscription
from handlers.common import (
    commands_only,
    refunded_payment,
    reply,
    resolve_target,
    successful_payment,
)
from handlers.filters import GROUP_TYPES, GroupAdmin, InPrivate, private_chat
from handlers.refunds import on_refund_chat, refund, refund_in_private

MAX_GRANT_DAYS = 3650


def build_router() -> Router:
    router = Router(name="billing")
    # commands are kept apart so ordinary group messages skip their filters
    commands = commands_only(Router(name="billing-commands"))
    router.include_router(commands)

    router.pre_checkout_query.register(pre_checkout)
    router.message.register(paid, successful_payment)
    router.message.register(refunded, refunded_payment)
    router.subscription.register(subscription_changed)
    router.callback_query.register(on_offer, Offer.filter())
    router.callback_query.register(on_cancel, CancelSubscription.filter())
    router.callback_query.register(on_resume, ResumeSubscription.filter())
    router.callback_query.register(on_refund_chat, RefundChat.filter())

    commands.message.register(subscribe, Command("subscribe"), InPrivate())
    commands.message.register(cancel, Command("cancel"), InPrivate())
    commands.message.register(paysupport, Command("paysupport"))
    commands.message.register(invite, Command("invite"), GroupAdmin())
    commands.message.register(grant, Command("grant"), GroupAdmin())
    commands.message.register(exempt, Command("exempt"), GroupAdmin())
    commands.message.register(unexempt, Command("unexempt"), GroupAdmin())
    commands.message.register(subs, Command("subs"), GroupAdmin())
    commands.message.register(refund_in_private, Command("refund"), private_chat)
    commands.message.register(refund, Command("refund"), GroupAdmin())
    return router


async def me_lines(hearth: Hearth, user_id: int, lang: str, chat_id: int | None) -> list[str]:
    """Lines for /me: plan, end date and renewal state in each paid chat."""
    lines = []
    for view in await hearth.billing.views(user_id):
        if chat_id is not None and view.chat_id != chat_id:
            continue
        if view.exempt:
            lines.append(views.me_exempt(lang, view))
            continue
        if view.status not in ("active", "unpaid") or view.ends_at is None:
            continue
        config = await hearth.chat_settings.get(view.chat_id)
        if view.status == "unpaid":
            lines.append(views.me_unpaid(lang, view, view.ends_at + config.grace, config.timezone))
            continue
        lines.append(views.me_line(lang, view, view.ends_at, config.timezone))
    return lines


async def pre_checkout(query: PreCheckoutQuery, hearth: Hearth) -> None:
    refusal = await hearth.billing.check(
        query.invoice_payload, query.from_user.id, query.total_amount, query.currency
    )
    if refusal is None:
        await hearth.notifier.answer_pre_checkout(query.id)
        return
    lang = pick_language(query.from_user.language_code, hearth.config.default_language)
    await hearth.notifier.answer_pre_checkout(query.id, views.refusal(lang, refusal))


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


async def refunded(message: Message, hearth: Hearth) -> None:
    if message.refunded_payment is not None:
        await hearth.billing.refunded(message.refunded_payment.telegram_payment_charge_id)


async def subscription_changed(event: BotSubscriptionUpdated, hearth: Hearth) -> None:
    await hearth.billing.subscription_changed(event.user.id, event.invoice_payload, event.state)


async def subscribe(message: Message, hearth: Hearth, lang: str) -> None:
    if message.from_user is None:
        await reply(hearth, message, common.private_only(lang))
        return
    await hearth.directory.remember(person(message.from_user))
    chats = await hearth.billing.paid_chats(message.from_user.id)
    if not chats:
        await reply(hearth, message, views.no_paid_chats(lang))
    elif len(chats) == 1:
        if not await hearth.billing.send_offer(chats[0][0], message.from_user.id):
            await reply(hearth, message, common.internal_error(lang))
    else:
        text, keyboard = views.choose_offer(lang, chats)
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def on_offer(query: CallbackQuery, callback_data: Offer, hearth: Hearth, lang: str) -> None:
    if not await hearth.billing.send_offer(callback_data.chat_id, query.from_user.id):
        await hearth.notifier.answer(query.id, views.offer_unavailable(lang), alert=True)
        return
    await hearth.notifier.answer(query.id, views.offer_sent(lang))


async def cancel(message: Message, hearth: Hearth, lang: str) -> None:
    if message.from_user is None:
        await reply(hearth, message, common.private_only(lang))
        return
    chats = await hearth.billing.cancellable(message.from_user.id)
    if not chats:
        await reply(hearth, message, views.cancel_nothing(lang))
    elif len(chats) == 1:
        await reply(hearth, message, await _cancel(hearth, chats[0], message.from_user.id, lang))
    else:
        text, keyboard = views.choose_cancel(lang, chats)
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def on_cancel(
    query: CallbackQuery, callback_data: CancelSubscription, hearth: Hearth, lang: str
) -> None:
    chat_id = callback_data.chat_id
    chats = dict(await hearth.billing.cancellable(query.from_user.id))
    if chat_id not in chats:
        await hearth.notifier.answer(query.id, views.cancel_nothing(lang), alert=True)
        return
    text = await _cancel(hearth, (chat_id, chats[chat_id]), query.from_user.id, lang)
    await hearth.notifier.answer(query.id, views.offer_sent(lang))
    await hearth.notifier.send(query.from_user.id, text)


async def _cancel(hearth: Hearth, chat: tuple[int, str], user_id: int, lang: str) -> str:
    chat_id, title = chat
    outcome, ends_at = await hearth.billing.cancel(chat_id, user_id)
    if outcome == Cancel.DONE and ends_at is not None:
        zone = (await hearth.chat_settings.get(chat_id)).timezone
        return views.cancel_done(lang, title, ends_at, zone)
    if outcome == Cancel.NOTHING:
        return views.cancel_nothing(lang)
    return common.internal_error(lang)


async def on_resume(
    query: CallbackQuery, callback_data: ResumeSubscription, hearth: Hearth, lang: str
) -> None:
    chat_id = callback_data.chat_id
    outcome, ends_at = await hearth.billing.resume(chat_id, query.from_user.id)
    if outcome == Cancel.BY_USER and ends_at is not None:
        zone = (await hearth.chat_settings.get(chat_id)).timezone
        chats = dict(await hearth.billing.paid_chats(query.from_user.id))
        text = views.resume_in_telegram(lang, chats.get(chat_id, str(chat_id)), ends_at, zone)
        await hearth.notifier.answer(query.id, views.offer_sent(lang))
        await hearth.notifier.send(query.from_user.id, text)
        return
    if outcome != Cancel.DONE or ends_at is None:
        await hearth.notifier.answer(query.id, views.offer_unavailable(lang), alert=True)
        return
    zone = (await hearth.chat_settings.get(chat_id)).timezone
    text = views.resumed(lang, ends_at, zone)
    await hearth.notifier.answer(query.id, text)
    if query.message is not None:
        await hearth.notifier.edit(query.message.chat.id, query.message.message_id, text)


async def paysupport(message: Message, hearth: Hearth, lang: str) -> None:
    """How payments and refunds work, and who the admins of the person's paid chats are."""
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
            contacts.append((title, names))
    await reply(hearth, message, views.support(lang, contacts))


async def invite(message: Message, hearth: Hearth, lang: str) -> None:
    await hearth.directory.ensure_chat(chat_ref(message.chat))
    link = await hearth.notifier.join_link(message.chat.id, "Hearth")
    if link is None:
        await reply(hearth, message, views.invite_failed(lang))
        return
    config = await hearth.chat_settings.get(message.chat.id)
    await reply(hearth, message, views.invite(lang, link, config.price))


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


async def _target(message: Message, hearth: Hearth, lang: str, args: str) -> Person | None:
    target = await resolve_target(hearth, message, args)
    if target is None:
        await reply(hearth, message, common.unknown_target(lang))
    return target


async def grant(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    raw, rest = _grant_args(command.args or "")
    duration = parse_duration(raw) if raw else None
    if duration is None or not timedelta(0) < duration <= timedelta(days=MAX_GRANT_DAYS):
        await reply(hearth, message, views.grant_usage(lang))
        return
    target = await _target(message, hearth, lang, rest)
    if target is None:
        return
    chat = chat_ref(message.chat)
    ends_at = await hearth.billing.grant(chat, target, duration)
    zone = (await hearth.chat_settings.get(chat.id)).timezone
    await reply(hearth, message, views.grant_done(lang, target.mention, ends_at, zone))


async def _set_exempt(
    message: Message, command: CommandObject, hearth: Hearth, lang: str, on: bool
) -> None:
    target = await _target(message, hearth, lang, command.args or "")
    if target is None:
        return
    await hearth.billing.set_exempt(chat_ref(message.chat), target, on)
    await reply(hearth, message, views.exempt_done(lang, target.mention, on))


async def exempt(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    await _set_exempt(message, command, hearth, lang, True)


async def unexempt(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    await _set_exempt(message, command, hearth, lang, False)


async def subs(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """Figures go to the admin privately, never into the group (members must not see
    revenue, payers' ids or amounts); an anonymous admin, who can't be written to, is
    asked to repeat the command from their own account."""
    chat_id = message.chat.id
    if message.sender_chat is not None or message.from_user is None:
        await reply(hearth, message, views.subs_not_anonymous(lang))
        return
    to = message.from_user.id
    if (command.args or "").strip().lower() == "csv":
        data = await hearth.billing.csv(chat_id)
        name = f"subscribers_{abs(chat_id)}.csv"
        sent = await hearth.notifier.send_document(to, name, data, caption=message.chat.title)
    else:
        overview = await hearth.billing.overview(chat_id)
        text = views.subs(lang, message.chat.title or "", overview)
        sent = await hearth.notifier.send(to, text)
    await reply(hearth, message, views.subs_delivered(lang, sent is not None))
