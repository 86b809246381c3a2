"""Texts and buttons of verification: the welcome, join requests, missing rights."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from bot.i18n import human_duration, t, template
from bot.notifier import Button, Keyboard
from bot.services.people import mention
from bot.views.callbacks import AcceptRules, Verify

RULES_PAYLOAD = "rules_"
"""`/start rules_<chat id>`: the deep link behind the "Rules" button of long rules."""
RULES_INLINE_LIMIT = 2500
"""Longer rules are not quoted in a message but opened with a button (a deep link)."""


@dataclass(frozen=True)
class WelcomeChat:
    """What a welcome needs to know about the chat."""

    id: int
    title: str
    rules: str | None
    custom: str | None
    language: str
    verify_timeout: timedelta


def _rules_link(bot_username: str, chat_id: int) -> str:
    return f"https://t.me/{bot_username}?start={RULES_PAYLOAD}{chat_id}"


def _names(people: list[tuple[int, str]]) -> str:
    return ", ".join(mention(user_id, name) for user_id, name in people)


_PLACEHOLDER = re.compile(r"\{(name|chat|rules)\}")


def _fill(text: str, values: dict[str, str]) -> str:
    """Substitute every placeholder in one pass: what is put in is never read again, so a
    newcomer named `{rules}` is shown as such instead of pulling the rules in."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def welcome(
    chat: WelcomeChat,
    people: list[tuple[int, str]],
    bot_username: str,
    *,
    inline_rules: bool = True,
) -> tuple[str, Keyboard]:
    """One welcome naming `people` (id, full name), with the confirm button."""
    language, rules, custom = chat.language, chat.rules, chat.custom
    inline = inline_rules and bool(rules) and len(rules or "") <= RULES_INLINE_LIMIT
    if not rules:
        rules_block = t(language, "welcome.no_rules")
    elif inline:
        rules_block = escape(rules)
    else:
        rules_block = t(language, "welcome.rules_too_long")
    names = _names(people)
    body = escape(custom) if custom else template(language, "welcome.default")
    body = _fill(body, {"name": names, "chat": escape(chat.title), "rules": rules_block})
    if custom and "{name}" not in custom:
        body = f"{names}\n{body}"
    timeout = human_duration(language, chat.verify_timeout)
    footer = t(language, "welcome.instruction", timeout=timeout)
    buttons: Keyboard = [[Button(t(language, "welcome.button"), data=Verify().pack())]]
    if rules and not inline and bot_username:
        link = _rules_link(bot_username, chat.id)
        buttons.append([Button(t(language, "welcome.rules_button"), url=link)])
    return f"{body}\n\n{footer}", buttons


def welcome_done(language: str, confirmed: list[tuple[int, str]]) -> str:
    """What a finished welcome is shortened to: a greeting of those who stayed."""
    return t(language, "welcome.done", names=_names(confirmed))


def join_request(
    language: str,
    chat_id: int,
    chat_title: str,
    rules: str | None,
    timeout: timedelta,
    bot_username: str,
) -> tuple[str, Keyboard]:
    """The private answer to a join request: the rules and an Accept button."""
    if not rules:
        rules_block = t(language, "welcome.no_rules")
    elif len(rules) > RULES_INLINE_LIMIT:
        rules_block = t(language, "welcome.rules_too_long")
    else:
        rules_block = escape(rules)
    text = t(
        language,
        "request.intro",
        chat=escape(chat_title),
        rules=rules_block,
        timeout=human_duration(language, timeout),
    )
    accept = AcceptRules(chat_id=chat_id).pack()
    buttons: Keyboard = [[Button(t(language, "request.button"), data=accept)]]
    if rules and len(rules) > RULES_INLINE_LIMIT and bot_username:
        link = _rules_link(bot_username, chat_id)
        buttons.append([Button(t(language, "welcome.rules_button"), url=link)])
    return text, buttons


def request_declined_expired(language: str, chat_title: str) -> str:
    return t(language, "request.declined_expired", chat=escape(chat_title))


def request_answer(language: str, outcome: str, chat_title: str) -> tuple[str, str]:
    """After Accept was pressed: (the plain-text popup, the HTML edit of the message)."""
    key = f"request.{outcome}"
    return t(language, key, chat=chat_title), t(language, key, chat=escape(chat_title))


def verify_answer(language: str, outcome: str) -> tuple[str, bool]:
    """The popup after "I have read the rules": (text, shown as an alert)."""
    if outcome == "confirmed":
        return t(language, "verify.done"), False
    if outcome == "already":
        return t(language, "verify.already"), False
    if outcome == "expired":
        return t(language, "verify.expired"), True
    return t(language, "verify.not_yours"), True


def _rights_list(language: str, rights: list[str]) -> str:
    return "\n".join(f"• {t(language, 'rights.' + name)}" for name in rights)


def rights_missing(language: str, missing: list[str]) -> str:
    return t(language, "rights.missing", rights=_rights_list(language, missing))


def rights_ok(language: str) -> str:
    return t(language, "rights.ok")


def rights_not_admin(language: str, needed: list[str]) -> str:
    return t(language, "rights.not_admin", rights=_rights_list(language, needed))
