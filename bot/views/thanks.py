"""What thanks say: the thanks words of every language, the receiver's note, tops, the board,
the farming note, /me's line and the check-in digest's line. Names are plain text, never
mentions: no message about thanks pings anyone."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from html import escape
from typing import TYPE_CHECKING

from bot.i18n import SUPPORTED, t

if TYPE_CHECKING:
    from bot.services.thanks import Named
    from bot.services.thanks.notes import Farmed

MAX_LINKS = 5  # per chat in one note
FARMED = 20  # pairs in the farming note
NAME = 32  # characters of a name in the farming note (Telegram allows 129)


@cache
def thanks_words() -> tuple[str, ...]:
    """Every language's thanks words and phrases, lower case, longest first."""
    words = {
        word.strip().lower()
        for language in SUPPORTED
        for word in t(language, "thanks.words").split(",")
        if word.strip()
    }
    return tuple(sorted(words, key=len, reverse=True))


def starts_with_thanks(text: str) -> bool:
    """The text's first word (or phrase) is a thanks word: "спасибо!", "Thank you, Anna"."""
    head = text[:40].lstrip().lower()
    for word in thanks_words():
        if head.startswith(word):
            rest = head[len(word) : len(word) + 1]
            if not rest or not rest.isalnum():
                return True
    return False


def note(lang: str, chats: Sequence[tuple[str, int, list[str]]]) -> str:
    """The receiver's daily note: per chat, how many thanks and links to the messages."""
    lines = [t(lang, "thanks.note_title")]
    for title, count, links in chats:
        shown = [
            t(lang, "thanks.note_link", url=escape(url), n=i + 1)
            for i, url in enumerate(links[:MAX_LINKS])
        ]
        lines.append(t(lang, "thanks.note_chat", chat=escape(title), n=count))
        if shown:
            lines.append(t(lang, "thanks.note_for", links=", ".join(shown)))
    lines.append(t(lang, "thanks.note_footer"))
    return "\n".join(lines)


def _ranked(lang: str, named: Sequence[Named]) -> list[str]:
    return [
        t(lang, "thanks.rank", n=i + 1, name=escape(p.name), people=p.people)
        for i, p in enumerate(named)
    ]


def top(lang: str, title: str, named: Sequence[Named]) -> str:
    """/thanks top, for an admin privately."""
    if not named:
        return t(lang, "thanks.top_empty", chat=escape(title))
    return "\n".join([t(lang, "thanks.top_title", chat=escape(title)), *_ranked(lang, named)])


def board(lang: str, named: Sequence[Named] | None) -> str:
    """The public board (only people who allowed it), or why there is none."""
    if named is None:
        return t(lang, "thanks.board_off")
    if not named:
        return t(lang, "thanks.board_empty")
    return "\n".join([t(lang, "thanks.board_title"), *_ranked(lang, named)])


def board_choice(lang: str, on: bool) -> str:
    return t(lang, "thanks.board_on" if on else "thanks.board_hidden")


def _clip(name: str, limit: int = NAME) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def farming(lang: str, title: str, farmed: Sequence[Farmed]) -> str:
    """The weekly note to admins: receivers most of whose thanks came from one person. At
    most `FARMED` lines with names cut to `NAME` characters, so however many pairs and
    however long the names, it fits one message (else the outbox could never send it)."""
    lines = [t(lang, "thanks.farm_title", chat=escape(_clip(title, 2 * NAME)))]
    lines += [
        t(
            lang,
            "thanks.farm_line",
            receiver=escape(_clip(f.receiver)),
            giver=escape(_clip(f.giver)),
            n=f.from_giver,
            total=f.total,
        )
        for f in farmed[:FARMED]
    ]
    if len(farmed) > FARMED:
        lines.append(t(lang, "thanks.farm_more", n=len(farmed) - FARMED))
    lines.append(t(lang, "thanks.farm_footer"))
    return "\n".join(lines)


def me_line(lang: str, people: int) -> str:
    return t(lang, "thanks.me", n=people)


def digest_line(lang: str, count: int) -> str:
    return t(lang, "thanks.digest", n=count)


def usage(lang: str) -> str:
    return t(lang, "thanks.usage")


def delivered(lang: str, sent: bool) -> str:
    return t(lang, "thanks.sent_privately" if sent else "thanks.start_first")


def not_admin(lang: str) -> str:
    return t(lang, "thanks.not_admin")


def no_chats(lang: str) -> str:
    return t(lang, "thanks.no_chats")
