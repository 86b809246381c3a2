"""Moderation's words and buttons: notices, private notes, report cards, the audit log and
the answers to the moderation commands."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from bot.i18n import format_moment, human_duration, t
from bot.notifier import Button, Keyboard, Outcome
from bot.services.people import Person, mention
from bot.views.callbacks import ReportAction, ReportChoice
from models.moderation import ModAction, Warning_
from models.users import FORMER_MEMBER

REPORT_ROWS: tuple[tuple[ReportAction, ...], ...] = (("delete", "warn", "mute"), ("ban", "dismiss"))


def message_link(chat_id: int, message_id: int) -> str | None:
    """A link to a message of a supergroup (private groups included: members can open it)."""
    text = str(chat_id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return None


def _reason(reason: str) -> str:
    return escape(reason) or "—"


def until_text(lang: str, until: datetime, zone: ZoneInfo) -> str:
    return t(lang, "moderation.until", until=format_moment(lang, until, zone))


# the automatic rules


def counters_down(lang: str, chat_title: str) -> str:
    """To the chat's log channel: the rate rules are off while Redis is down."""
    return t(lang, "moderation.counters_down", chat=escape(chat_title))


def stop_word_reason(lang: str) -> str:
    return t(lang, "moderation.reason_stop_word")


def stop_word_notice(lang: str, who: Person, count: int, limit: int) -> str:
    return t(lang, "moderation.stop_word_notice", name=who.mention, count=count, limit=limit)


def newcomer_limited(lang: str, who: Person, probation: timedelta) -> str:
    return t(
        lang,
        "moderation.newcomer_limited",
        name=who.mention,
        probation=human_duration(lang, probation),
    )


def mentions_notice(lang: str, who: Person, limit: int) -> str:
    return t(lang, "moderation.mentions_notice", name=who.mention, limit=limit)


def flood_notice(lang: str, who: Person, duration: timedelta) -> str:
    return t(
        lang, "moderation.flood_notice", name=who.mention, duration=human_duration(lang, duration)
    )


def slowmode_private(lang: str, interval: timedelta) -> str:
    return t(lang, "moderation.slowmode_private", interval=human_duration(lang, interval))


def slowmode_notice(lang: str, who: Person, interval: timedelta) -> str:
    return t(
        lang,
        "moderation.slowmode_notice",
        name=who.mention,
        interval=human_duration(lang, interval),
    )


# what the person concerned is told in private


def warned_private(lang: str, chat_title: str, reason: str, count: int, limit: int) -> str:
    return t(
        lang,
        "moderation.warned_private",
        chat=escape(chat_title),
        reason=_reason(reason),
        count=count,
        limit=limit,
    )


def warn_limit_reason(lang: str, limit: int) -> str:
    return t(lang, "moderation.reason_warn_limit", limit=limit)


def punished_private(
    lang: str, action: str, chat_title: str, reason: str, until: datetime | None, zone: ZoneInfo
) -> str:
    """`action` is one of mute, kick, ban, flood_mute."""
    return t(
        lang,
        f"moderation.you_{action}",
        chat=escape(chat_title),
        reason=_reason(reason),
        until=format_moment(lang, until, zone) if until else "∞",
    )


# reports


def report_reason(lang: str) -> str:
    return t(lang, "moderation.reason_report")


def report_card(
    lang: str,
    report_id: int,
    chat_id: int,
    chat_title: str,
    reporter: Person | None,
    target: Person,
    message_id: int,
    text: str,
    reason: str,
) -> tuple[str, Keyboard]:
    """The card the admins act on; `reporter` None hides who reported (posted in the group)."""
    link = message_link(chat_id, message_id)
    body = t(
        lang,
        "moderation.report_card",
        chat=escape(chat_title),
        reporter=reporter.mention if reporter else t(lang, "moderation.report_anonymous"),
        target=target.mention,
        reason=_reason(reason),
        text=escape(text[:700]) or "—",
        link=f'<a href="{link}">{link}</a>' if link else "—",
    )
    keyboard = [
        [
            Button(
                t(lang, f"moderation.report_{name}"),
                data=ReportChoice(report_id=report_id, choice=name).pack(),
            )
            for name in row
        ]
        for row in REPORT_ROWS
    ]
    return body, keyboard


def report_answer(lang: str, result: str) -> tuple[str, bool]:
    """The answer to a press on a report card, and whether it is an alert."""
    if result == "target_admin":
        return t(lang, "moderation.outcome_target_admin"), True
    if result in ("missing", "not_admin", "handled"):
        return t(lang, f"moderation.report_{result}"), result != "handled"
    return t(lang, f"moderation.report_did_{result}"), False


def report_closed(lang: str, card_html: str, choice: str, admin: Person) -> str:
    done = t(
        lang,
        "moderation.report_closed",
        action=t(lang, f"moderation.report_{choice}"),
        admin=admin.mention,
    )
    return f"{card_html}\n\n{done}"


def report_result(lang: str, result: str) -> str:
    """sent, duplicate or too_many."""
    return t(lang, f"moderation.report_{result}")


def report_usage(lang: str) -> str:
    return t(lang, "moderation.report_usage")


def report_not_person(lang: str) -> str:
    return t(lang, "moderation.report_not_person")


def report_self(lang: str) -> str:
    return t(lang, "moderation.report_self")


# the audit log


def _someone(lang: str, user_id: int, names: dict[int, str]) -> str:
    """A person in the audit log; one who used /forget is "a former member"."""
    if user_id == FORMER_MEMBER:
        return t(lang, "privacy.former_member")
    return mention(user_id, names.get(user_id, str(user_id)))


def log_line(
    lang: str,
    zone: ZoneInfo,
    entry: ModAction,
    names: dict[int, str],
    chat_title: str = "",
    public: bool = False,
) -> str:
    """One audit entry as a line; `public` hides who reported whom."""
    if entry.actor_id is None:
        actor = t(lang, "moderation.the_bot")
    elif public and entry.action == "report":
        actor = t(lang, "moderation.report_anonymous")
    else:
        actor = _someone(lang, entry.actor_id, names)
    target = _someone(lang, entry.target_id, names)
    return t(
        lang,
        "moderation.log_line",
        when=format_moment(lang, entry.created_at, zone),
        chat=escape(chat_title) + " · " if chat_title else "",
        action=t(lang, f"moderation.action_{entry.action}"),
        target=target,
        actor=actor,
        reason=" — " + escape(entry.reason) if entry.reason else "",
        until=" " + until_text(lang, entry.until, zone) if entry.until else "",
    )


def modlog(lang: str, lines: list[str]) -> list[str]:
    if not lines:
        return [t(lang, "moderation.modlog_empty")]
    return [t(lang, "moderation.modlog_title"), *lines]


def modlog_usage(lang: str, most: int) -> str:
    return t(lang, "moderation.modlog_usage", max=most)


# answers to the moderation commands


def usage(lang: str, command: str) -> str:
    return t(lang, f"moderation.usage_{command}")


def bad_duration(lang: str) -> str:
    return t(lang, "moderation.bad_duration")


def target_admin(lang: str) -> str:
    return t(lang, "moderation.outcome_target_admin")


def outcome(
    lang: str,
    action: str,
    result: Outcome,
    target: Person,
    until: datetime | None,
    reason: str,
    zone: ZoneInfo,
) -> str:
    """What a manual mute, unmute, kick, ban or unban did (or why it could not)."""
    if result is not Outcome.DONE:
        return t(lang, f"moderation.outcome_{result.value}", name=target.mention)
    text = t(lang, f"moderation.done_{action}", name=target.mention)
    if until is not None:
        text += " " + until_text(lang, until, zone)
    if reason:
        text += "\n" + t(lang, "moderation.reason", reason=escape(reason))
    return text


def warned(
    lang: str,
    target: Person,
    count: int,
    limit: int,
    reason: str,
    applied: str | None,
    result: Outcome,
    until: datetime | None,
    zone: ZoneInfo,
) -> str:
    text = t(lang, "moderation.warned", name=target.mention, count=count, limit=limit)
    if reason:
        text += "\n" + t(lang, "moderation.reason", reason=escape(reason[:300]))
    if applied is not None:
        text += "\n" + outcome(lang, applied, result, target, until, "", zone)
    return text


def no_warnings(lang: str, target: Person) -> str:
    return t(lang, "moderation.no_warnings", name=target.mention)


def unwarned(lang: str, target: Person, left: int) -> str:
    return t(lang, "moderation.unwarned", name=target.mention, left=left)


def warns_own_only(lang: str) -> str:
    return t(lang, "moderation.warns_own_only")


def warnings(
    lang: str, target: Person, found: list[Warning_], limit: int, zone: ZoneInfo
) -> list[str]:
    lines = [t(lang, "moderation.warns_title", name=target.mention, count=len(found), limit=limit)]
    for warning in found:
        lines.append(
            t(
                lang,
                "moderation.warns_line",
                when=format_moment(lang, warning.created_at, zone),
                reason=_reason(warning.reason),
                expires=format_moment(lang, warning.expires_at, zone),
            )
        )
    return lines


def filter_usage(lang: str) -> str:
    return t(lang, "moderation.filter_usage")


def filter_added(lang: str, added: str | None, phrase: str) -> str:
    key = "moderation.filter_added" if added else "moderation.filter_exists"
    return t(lang, key, phrase=escape(added or phrase[:100]))


def filter_removed(lang: str, removed: bool, phrase: str) -> str:
    key = "moderation.filter_removed" if removed else "moderation.filter_missing"
    return t(lang, key, phrase=escape(phrase[:100]))


def stop_words(lang: str, phrases: list[str]) -> list[str]:
    if not phrases:
        return [t(lang, "moderation.filters_empty")]
    return [t(lang, "moderation.filters_title"), *(f"• <code>{escape(p)}</code>" for p in phrases)]


def setlog(lang: str, key: str, **values: int) -> str:
    """off, usage (here), not_admin_there (chat), done (chat), done_here (group),
    unreachable (chat)."""
    return t(lang, f"moderation.setlog_{key}", **values)


def setlog_probe(lang: str, group_title: str) -> str:
    return t(lang, "moderation.setlog_probe", group=escape(group_title))
