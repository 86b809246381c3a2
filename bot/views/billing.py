"""What paid membership says and which buttons it shows: offers, receipts, reminders, the
members' and admins' commands. Pure: domain values in, text (and keyboard) out."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from html import escape

from bot.i18n import format_moment, human_duration, t
from bot.notifier import Button, Keyboard
from bot.services.billing.values import Overview, PaymentLine, Refund, Refusal, SubView
from bot.services.people import mention
from bot.views.callbacks import CancelSubscription, Offer, RefundChat, ResumeSubscription
from bot.views.common import Chats, chat_buttons


def _renew_button(lang: str, chat_id: int) -> Keyboard:
    return [[Button(t(lang, "billing.renew_button"), data=Offer(chat_id=chat_id).pack())]]


def already_subscribed(lang: str, title: str, until: datetime, zone: tzinfo) -> str:
    moment = format_moment(lang, until, zone)
    return t(lang, "billing.already_subscribed", chat=escape(title), until=moment)


def resume_offer(
    lang: str, chat_id: int, title: str, until: datetime, zone: tzinfo
) -> tuple[str, Keyboard]:
    moment = format_moment(lang, until, zone)
    text = t(lang, "billing.resume_offer", chat=escape(title), until=moment)
    data = ResumeSubscription(chat_id=chat_id).pack()
    return text, [[Button(t(lang, "billing.resume_button"), data=data)]]


def resume_in_telegram(lang: str, title: str, until: datetime, zone: tzinfo) -> str:
    moment = format_moment(lang, until, zone)
    return t(lang, "billing.resume_in_telegram", chat=escape(title), until=moment)


def invoice(lang: str, title: str, period: timedelta) -> tuple[str, str]:
    """(title, description) of an invoice: plain text, Telegram shows it as is."""
    description = t(
        lang, "billing.invoice_description", chat=title, period=human_duration(lang, period)
    )
    return t(lang, "billing.invoice_title", chat=title), description


def offer(
    lang: str, title: str, price: int, plan: str, period: timedelta, rules: str | None, note: str
) -> str:
    """What membership includes, its price and period (and the rules, when short enough)."""
    text = t(
        lang,
        "billing.offer",
        chat=escape(title),
        price=price,
        period=human_duration(lang, period),
        renewal=t(lang, f"billing.offer_{plan}"),
    )
    if rules:
        text += "\n\n" + t(lang, "billing.offer_rules", rules=escape(rules))
    return f"{note}\n\n{text}" if note else text


def pay_button(lang: str, price: int, link: str) -> Keyboard:
    return [[Button(t(lang, "billing.pay_button", price=price), url=link)]]


def joined_unpaid(lang: str, title: str, deadline: datetime, zone: tzinfo) -> str:
    when = format_moment(lang, deadline, zone)
    return t(lang, "billing.joined_unpaid", chat=escape(title), when=when)


def trial_started(lang: str, title: str, until: datetime, zone: tzinfo) -> str:
    moment = format_moment(lang, until, zone)
    return t(lang, "billing.trial_started", chat=escape(title), until=moment)


def refusal(lang: str, reason: Refusal) -> str:
    return t(lang, f"billing.refuse.{reason.value}")


def unattributed_payment(lang: str, charge_id: str, amount: int, user_id: int, chat_id: int) -> str:
    """The owners' alert about money that can't be tied to a chat and person."""
    return t(
        lang,
        "billing.unattributed",
        charge=escape(charge_id),
        amount=amount,
        user=user_id,
        chat=chat_id,
    )


def paid(lang: str, title: str, until: datetime, zone: tzinfo) -> str:
    moment = format_moment(lang, until, zone)
    return t(lang, "billing.paid", chat=escape(title), until=moment)


def approved(lang: str, title: str) -> str:
    return t(lang, "billing.approved", chat=escape(title))


def join_link(lang: str, title: str, link: str) -> tuple[str, Keyboard]:
    text = t(lang, "billing.join_link", chat=escape(title))
    return text, [[Button(t(lang, "billing.join_button"), url=link)]]


def renewal_failed(
    lang: str, chat_id: int, title: str, until: datetime, zone: tzinfo
) -> tuple[str, Keyboard]:
    moment = format_moment(lang, until, zone)
    text = t(lang, "billing.renewal_failed", chat=escape(title), until=moment)
    return text, _renew_button(lang, chat_id)


def removed(lang: str, chat_id: int, title: str) -> tuple[str, Keyboard]:
    return t(lang, "billing.removed", chat=escape(title)), _renew_button(lang, chat_id)


def reminder(
    lang: str, chat_id: int, title: str, until: datetime, left: timedelta, zone: tzinfo
) -> tuple[str, Keyboard]:
    text = t(
        lang,
        "billing.reminder",
        chat=escape(title),
        until=format_moment(lang, until, zone),
        left=human_duration(lang, left),
    )
    return text, _renew_button(lang, chat_id)


def granted(lang: str, title: str, until: datetime, zone: tzinfo) -> str:
    moment = format_moment(lang, until, zone)
    return t(lang, "billing.granted", chat=escape(title), until=moment)


def refunded(lang: str, title: str, amount: int) -> str:
    return t(lang, "billing.refunded", chat=escape(title), amount=amount)


# What the members' and admins' commands answer.


def me_exempt(lang: str, view: SubView) -> str:
    return t(lang, "billing.me_exempt", chat=escape(view.chat_title))


def me_unpaid(lang: str, view: SubView, deadline: datetime, zone: tzinfo) -> str:
    until = format_moment(lang, deadline, zone)
    return t(lang, "billing.me_unpaid", chat=escape(view.chat_title), until=until)


def me_line(lang: str, view: SubView, until: datetime, zone: tzinfo) -> str:
    return t(
        lang,
        "billing.me_line",
        chat=escape(view.chat_title),
        plan=t(lang, f"billing.plan.{view.plan}"),
        until=format_moment(lang, until, zone),
        renewal=t(lang, f"billing.renewal.{view.renewal}"),
    )


def choose_offer(lang: str, chats: Chats) -> tuple[str, Keyboard]:
    """Which paid chat to get an invoice for."""
    keyboard = chat_buttons(chats, lambda chat_id: Offer(chat_id=chat_id))
    return t(lang, "billing.choose_chat"), keyboard


def choose_cancel(lang: str, chats: Chats) -> tuple[str, Keyboard]:
    """Which subscription to stop renewing."""
    keyboard = chat_buttons(chats, lambda chat_id: CancelSubscription(chat_id=chat_id))
    return t(lang, "billing.choose_chat"), keyboard


def no_paid_chats(lang: str) -> str:
    return t(lang, "billing.no_paid_chats")


def offer_sent(lang: str) -> str:
    return t(lang, "billing.offer_sent")


def offer_unavailable(lang: str) -> str:
    return t(lang, "billing.offer_unavailable")


def cancel_nothing(lang: str) -> str:
    return t(lang, "billing.cancel_nothing")


def cancel_done(lang: str, title: str, until: datetime, zone: tzinfo) -> str:
    moment = format_moment(lang, until, zone)
    return t(lang, "billing.cancel_done", chat=escape(title), until=moment)


def resumed(lang: str, until: datetime, zone: tzinfo) -> str:
    return t(lang, "billing.resumed", until=format_moment(lang, until, zone))


def support(lang: str, contacts: list[tuple[str, str]]) -> str:
    """/paysupport: how refunds work, then each chat's admins ((title, mentions) pairs)."""
    text = t(lang, "billing.support")
    lines = [
        t(lang, "billing.support_admins", chat=escape(title), admins=names)
        for title, names in contacts
    ]
    return text + "\n\n" + "\n".join(lines) if lines else text


def invite(lang: str, link: str, price: int) -> str:
    key = "billing.invite_paid" if price > 0 else "billing.invite_free"
    return t(lang, key, link=link, price=price)


def invite_failed(lang: str) -> str:
    return t(lang, "billing.invite_failed")


def grant_usage(lang: str) -> str:
    return t(lang, "billing.grant_usage")


def grant_done(lang: str, mention: str, until: datetime, zone: tzinfo) -> str:
    return t(lang, "billing.grant_done", name=mention, until=format_moment(lang, until, zone))


def exempt_done(lang: str, mention: str, exempt: bool) -> str:
    key = "billing.exempt_done" if exempt else "billing.unexempt_done"
    return t(lang, key, name=mention)


def subs(lang: str, title: str, o: Overview) -> str:
    return t(
        lang,
        "billing.subs",
        chat=escape(title),
        active=o.active,
        ending=o.ending_soon,
        grace=o.in_grace,
        exempt=o.exempt,
        month=o.revenue_month,
        total=o.revenue_total,
        payments=o.payments,
    )


def subs_not_anonymous(lang: str) -> str:
    return t(lang, "billing.subs_not_anonymous")


def subs_delivered(lang: str, sent: bool) -> str:
    """Said in the group: the figures went privately, or the admin must start the bot first."""
    return t(lang, "billing.subs_sent" if sent else "billing.subs_start_first")


def refund_usage(lang: str) -> str:
    return t(lang, "billing.refund_usage")


def refund_result(lang: str, title: str, outcome: Refund, amount: int, name: str) -> str:
    """Sent to the admin privately: `name` is the payer's mention (HTML), or their id."""
    result = t(lang, f"billing.refund_{outcome.value}", amount=amount, name=name)
    return t(lang, "billing.refund_in_chat", chat=escape(title), result=result)


def refund_delivered(lang: str, sent: bool) -> str:
    """Said in the group: the result went privately (who was refunded and how much is
    nobody else's business), or the admin must start the bot first."""
    return t(lang, "billing.refund_sent" if sent else "billing.refund_start_first")


def refund_not_anonymous(lang: str) -> str:
    return t(lang, "billing.refund_not_anonymous")


def choose_refund_chat(lang: str, chats: Chats) -> tuple[str, Keyboard]:
    """/refund in private without a charge id: whose payments to list."""
    keyboard = chat_buttons(chats, lambda chat_id: RefundChat(chat_id=chat_id))
    return t(lang, "billing.choose_chat"), keyboard


def recent_payments(lang: str, title: str, lines: list[PaymentLine], zone: tzinfo) -> str:
    """A chat's latest payments with their charge ids, to copy into /refund."""
    if not lines:
        return t(lang, "billing.refund_no_payments", chat=escape(title))
    rows = [
        t(
            lang,
            "billing.refund_payment_refunded" if line.refunded else "billing.refund_payment",
            name=mention(line.user_id, line.name),
            amount=line.amount,
            when=format_moment(lang, line.paid_at, zone),
            charge=escape(line.charge_id),
        )
        for line in lines
    ]
    header = t(lang, "billing.refund_payments", chat=escape(title))
    return header + "\n\n" + "\n".join(rows)


def refund_no_chats(lang: str) -> str:
    return t(lang, "billing.refund_no_chats")


def refund_not_yours(lang: str) -> str:
    """/refund in private of a charge unknown, or paid in a chat the sender doesn't run."""
    return t(lang, "billing.refund_not_yours")
