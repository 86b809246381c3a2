"""Replies anyone may get: /start, /help, /me, /rules, and trust levels by name."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from bot.i18n import format_moment, t
from bot.notifier import utf16_length
from bot.services.trust import Standing
from models.members import TrustLevel

RULES_WITH_HEADER_LIMIT = 3800
"""Longer rules are sent without the header, which would push them past 4096 characters."""


def level_name(language: str, level: TrustLevel) -> str:
    return t(language, f"level.{level.value}")


def start(language: str, standings: list[Standing]) -> list[str]:
    """/start in private: what the bot does, and the person's chats with their levels (lines,
    so that someone in many chats gets them over several messages)."""
    text = t(language, "start.text")
    chats = [f"• {escape(s.chat_title)} — {level_name(language, s.level)}" for s in standings]
    if not chats:
        return [text]
    return [text + t(language, "start.chats", chats=chats[0]), *chats[1:]]


def help_text(language: str, *, in_group: bool, admin: bool) -> str:
    if not in_group:
        help_private = t(language, "help.private") + t(language, "billing.help_private")
        return help_private + t(language, "circles.help_private")
    areas = ("ideas", "thanks", "kb", "circles")
    text = t(language, "help.member") + "".join(t(language, f"{a}.help_member") for a in areas)
    if admin:
        text += t(language, "help.admin") + t(language, "billing.help_admin")
        text += "".join(t(language, f"{a}.help_admin") for a in areas)
    return text


def me_none(language: str) -> str:
    return t(language, "me.none")


def me_header(language: str) -> str:
    return t(language, "me.header")


def me_standing(language: str, standing: Standing, zone: tzinfo) -> list[str]:
    """/me for one chat: the level since when, and what comes next."""
    since = format_moment(language, standing.since, zone)
    level = level_name(language, standing.level)
    lines = [t(language, "me.chat", chat=escape(standing.chat_title), level=level, since=since)]
    if standing.level == TrustLevel.PENDING:
        lines.append(t(language, "me.pending"))
    elif standing.pinned:
        lines.append(t(language, "me.pinned"))
    elif standing.next_level is not None and standing.next_at is not None:
        when = format_moment(language, standing.next_at, zone)
        lines.append(
            t(language, "me.next", level=level_name(language, standing.next_level), when=when)
        )
    return lines


def me_days_active(language: str, days: int, of: int) -> str:
    """/me for one chat: on how many of the last `of` days the person was active there."""
    return t(language, "me.days_active", days=days, of=of)


def me_streak(language: str, current: int, best: int) -> str:
    return t(language, "checkin.me_streak", streak=current, best=best)


def me_paused(language: str, until: datetime, zone: tzinfo) -> str:
    return t(language, "checkin.me_paused", until=format_moment(language, until, zone))


def rules_unknown_chat(language: str) -> str:
    return t(language, "rules.unknown_chat")


def rules(language: str, title: str, text: str | None) -> str:
    """/rules: the chat's rules under a header (bare when too long for one)."""
    if not text:
        return t(language, "rules.none")
    if utf16_length(text) > RULES_WITH_HEADER_LIMIT:
        return escape(text)
    return t(language, "rules.show", chat=escape(title), rules=escape(text))
