"""What /privacy, /mydata and /forget say and which buttons they show. Pure: values in,
texts (and buttons) out. /privacy is written from the registry, so it lists every kind of
data Hearth keeps, in the person's language."""

from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import Any

from bot.i18n import format_moment, t
from bot.messages import split_lines
from bot.notifier import Button, Keyboard
from bot.services.privacy.export import SECTIONS
from bot.services.privacy.registry import FEATURES, REGISTRY
from bot.views.callbacks import ForgetConfirm, PrivacyTotals


def overview(lang: str, totals_only: bool) -> list[tuple[str, Keyboard | None]]:
    """/privacy: every kind of data, feature by feature (purpose, retention, what /forget
    does), the "count me only in totals" state and its switch under the last message."""
    lines = [t(lang, "privacy.title")]
    for feature in FEATURES:
        lines.append("\n<b>" + t(lang, f"privacy.feature.{feature}") + "</b>")
        for kind in REGISTRY:
            if kind.feature != feature:
                continue
            base = f"privacy.kind.{kind.key}"
            lines.append(
                t(
                    lang,
                    "privacy.line",
                    title=t(lang, f"{base}.title"),
                    why=t(lang, f"{base}.why"),
                    kept=t(lang, f"{base}.kept"),
                    forget=t(lang, f"{base}.forget"),
                )
            )
    lines.append("\n" + t(lang, "privacy.totals_on" if totals_only else "privacy.totals_off"))
    lines.append(t(lang, "privacy.footer"))
    label = t(lang, "privacy.totals_button_off" if totals_only else "privacy.totals_button_on")
    keyboard: Keyboard = [[Button(label, data=PrivacyTotals(on=not totals_only).pack())]]
    chunks = split_lines(lines)
    answers: list[tuple[str, Keyboard | None]] = [(chunk, None) for chunk in chunks[:-1]]
    answers.append((chunks[-1], keyboard))
    return answers


def totals_done(lang: str, on: bool) -> str:
    return t(lang, "privacy.totals_done_on" if on else "privacy.totals_done_off")


def mydata_summary(lang: str, document: dict[str, Any]) -> list[str]:
    """/mydata's readable summary of the document sent as a file."""
    profile = document["profile"]
    name = escape(" ".join(p for p in (profile["first_name"], profile["last_name"]) if p))
    username = f" (@{escape(profile['username'])})" if profile["username"] else ""
    lines = [
        t(lang, "privacy.mydata_title"),
        t(
            lang,
            "privacy.mydata_profile",
            name=name,
            username=username,
            language=escape(profile["language"] or "—"),
        ),
    ]
    if profile["interests"]:
        lines.append(t(lang, "privacy.mydata_interests", interests=escape(profile["interests"])))
    for section in SECTIONS:
        if section == "activity":
            continue  # per chat and kind, below
        found = document[section]
        if found:
            title = t(lang, f"privacy.section.{section}")
            lines.append(t(lang, "privacy.mydata_count", section=title, count=len(found)))
        if section == "chats":
            lines += [_chat_line(lang, chat) for chat in found]
    for chat in document["activity"]:
        counts = ", ".join(
            f"{t(lang, f'privacy.activity.{kind}')}: {n}" for kind, n in chat["counts"].items()
        )
        lines.append(t(lang, "privacy.mydata_activity", chat=escape(chat["chat"]), counts=counts))
    return lines


def _chat_line(lang: str, chat: dict[str, Any]) -> str:
    return t(
        lang,
        "privacy.mydata_chat",
        chat=escape(chat["chat"]),
        trust=t(lang, f"level.{chat['trust']}"),
        status=t(lang, f"privacy.status.{chat['status']}"),
    )


def mydata_caption(lang: str) -> str:
    return t(lang, "privacy.mydata_caption")


def mydata_nothing(lang: str) -> str:
    return t(lang, "privacy.mydata_nothing")


def mydata_too_soon(lang: str, when: Any, zone: tzinfo) -> str:
    return t(lang, "privacy.mydata_too_soon", when=format_moment(lang, when, zone))


def forget_ask(lang: str) -> tuple[str, Keyboard]:
    """/forget asks once more, with a button to go ahead and one to keep everything."""
    keyboard: Keyboard = [
        [
            Button(t(lang, "privacy.forget_yes"), data=ForgetConfirm(yes=True).pack()),
            Button(t(lang, "privacy.forget_no"), data=ForgetConfirm(yes=False).pack()),
        ]
    ]
    return t(lang, "privacy.forget_ask"), keyboard


def forget_cancelled(lang: str) -> str:
    return t(lang, "privacy.forget_cancelled")


def forget_done(lang: str, chats: int, kept: dict[str, int]) -> str:
    """What was erased, and what was kept on purpose and why."""
    lines = [t(lang, "privacy.forget_done", chats=chats)]
    shown = [(name, n) for name, n in kept.items() if n]
    if shown:
        lines.append(t(lang, "privacy.forget_kept"))
        lines += [t(lang, f"privacy.forget_kept_{name}", n=n) for name, n in shown]
    return "\n".join(lines)


def former_member(lang: str) -> str:
    """Stands for a person who used /forget, in others' records (the audit log)."""
    return t(lang, "privacy.former_member")
