"""What /atrisk says and which buttons it shows: the admin's private list of members gone
quiet, the buddy's nudge, and what the group is told (never a name). Pure: values in, text
(and buttons) out."""

from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import TYPE_CHECKING

from bot.i18n import format_moment, t
from bot.messages import split_lines
from bot.notifier import Button, Keyboard
from bot.views.callbacks import AskBuddy, AtRiskChat
from bot.views.common import Chats, chat_buttons

if TYPE_CHECKING:  # the service builds the buddy's text here: no import cycle at run time
    from bot.services.drift import AskOutcome, DriftReport


def report(
    lang: str, chat_id: int, title: str, found: DriftReport, zone: tzinfo
) -> list[tuple[str, Keyboard | None]]:
    """The private answer to /atrisk, split into messages that fit; the buttons ("ask
    their buddy to say hi", one per member who has a buddy and accepts nudges) go under
    the last one."""
    chat = escape(title)
    if found.collecting_since is not None:
        since = format_moment(lang, found.collecting_since, zone)
        return [(t(lang, "drift.collecting", chat=chat, since=since), None)]
    if not found.drifters:
        return [(t(lang, "drift.nobody", chat=chat), None)]
    lines = [t(lang, "drift.header", chat=chat, count=len(found.drifters))]
    keyboard: Keyboard = []
    for number, drifter in enumerate(found.drifters, 1):
        days = t(lang, "units.d", n=drifter.days_silent)
        lines.append(t(lang, "drift.line", n=number, name=escape(drifter.name), days=days))
        if drifter.can_ask:
            data = AskBuddy(chat_id=chat_id, user_id=drifter.user_id).pack()
            label = t(lang, "drift.ask_button", n=number, name=drifter.name[:40])
            keyboard.append([Button(label, data=data)])
    if keyboard:
        lines.append(t(lang, "drift.ask_hint"))
    chunks = split_lines(lines)
    answers: list[tuple[str, Keyboard | None]] = [(chunk, None) for chunk in chunks[:-1]]
    answers.append((chunks[-1], keyboard or None))
    return answers


def buddy_nudge(lang: str, name: str, title: str) -> str:
    """Sent privately to the buddy of a member who has gone quiet."""
    return t(lang, "drift.buddy_nudge", name=escape(name), chat=escape(title))


def ask_result(lang: str, outcome: AskOutcome) -> str:
    """The admin's answer to pressing "ask their buddy to say hi"."""
    return t(lang, f"drift.ask_{outcome.value}")


def delivered(lang: str, sent: bool) -> str:
    """Said in the group: the list went privately, or the admin must start the bot first."""
    return t(lang, "drift.sent" if sent else "drift.start_first")


def not_anonymous(lang: str) -> str:
    return t(lang, "drift.not_anonymous")


def no_chats(lang: str) -> str:
    return t(lang, "drift.no_chats")


def not_admin(lang: str) -> str:
    return t(lang, "drift.not_admin")


def choose_chat(lang: str, chats: Chats) -> tuple[str, Keyboard]:
    """/atrisk in private, for an admin of several chats: which one."""
    keyboard = chat_buttons(chats, lambda chat_id: AtRiskChat(chat_id=chat_id))
    return t(lang, "drift.choose_chat"), keyboard
