"""What the ideas board says: the group post with its 👍/👎 buttons, the vote toasts, /ideas,
the admins' decisions and the private notices. Pure: values in, text (and buttons) out."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bot.i18n import t
from bot.notifier import Button, Keyboard
from bot.views.callbacks import IdeaVote
from bot.views.moderation import message_link
from models.ideas import IdeaStatus

if TYPE_CHECKING:  # services build their texts here: no import cycle at run time
    from bot.services.ideas import Board, Refused, Voted
    from bot.services.ideas.cards import IdeaCard

QUOTE = 200  # characters of an idea quoted in a list or a notice


def _author(lang: str, card: IdeaCard) -> str:
    return escape(card.author) if card.author else t(lang, "ideas.former_author")


def _quote(text: str) -> str:
    return escape(text if len(text) <= QUOTE else text[: QUOTE - 1] + "…")


def vote_buttons(lang: str, idea_id: int, up: int, down: int) -> Keyboard:
    return [
        [
            Button(t(lang, "ideas.up", n=up), IdeaVote(idea_id=idea_id, up=True).pack()),
            Button(t(lang, "ideas.down", n=down), IdeaVote(idea_id=idea_id, up=False).pack()),
        ]
    ]


def post(lang: str, card: IdeaCard) -> tuple[str, Keyboard | None]:
    """The idea in the group: open, with the vote buttons; decided, with the decision and
    the final counts instead (voting is over)."""
    text = t(lang, "ideas.post", id=card.id, author=_author(lang, card), text=escape(card.text))
    if card.status == IdeaStatus.OPEN:
        return text, vote_buttons(lang, card.id, card.up, card.down)
    lines = [text, "", t(lang, f"ideas.status.{card.status}")]
    if card.comment:
        lines.append(t(lang, "ideas.comment", comment=escape(card.comment)))
    lines.append(t(lang, "ideas.final", up=card.up, down=card.down))
    return "\n".join(lines), None


def refused(lang: str, reason: Refused, *, limit: int = 0, max_text: int = 0) -> str:
    return t(lang, f"ideas.refused.{reason}", limit=limit, max_text=max_text)


def usage(lang: str) -> str:
    return t(lang, "ideas.usage")


def decide_usage(lang: str) -> str:
    return t(lang, "ideas.decide_usage")


def bad_status(lang: str, word: str) -> str:
    return t(lang, "ideas.bad_status", word=escape(word[:40]))


def admins_only(lang: str) -> str:
    return t(lang, "ideas.admins_only")


def not_anonymous(lang: str) -> str:
    return t(lang, "ideas.not_anonymous")


def voted(lang: str, result: Voted) -> str:
    """The toast under a pressed button: what the press did and the counts now."""
    return t(lang, f"ideas.voted.{result.vote}", up=result.up, down=result.down)


def decided(lang: str, card: IdeaCard, told: int) -> str:
    status = t(lang, f"ideas.status.{card.status}")
    return t(lang, "ideas.decided", id=card.id, status=status, told=told)


def notice(lang: str, card: IdeaCard, chat_title: str, *, author: bool) -> str:
    """The private word to the author (`author`) or to a 👍 voter about a decision."""
    key = "ideas.notice_author" if author else "ideas.notice_supporter"
    lines = [
        t(
            lang,
            key,
            chat=escape(chat_title),
            status=t(lang, f"ideas.status.{card.status}"),
            text=_quote(card.text),
        )
    ]
    if card.comment:
        lines.append(t(lang, "ideas.comment", comment=escape(card.comment)))
    link = message_link(card.chat_id, card.message_id) if card.message_id else None
    if link:
        lines.append(t(lang, "ideas.open_post", link=link))
    return "\n".join(lines)


def board(lang: str, found: Board) -> list[str]:
    """/ideas: the open ideas by score, each with a link to its post where it has one."""
    if not found.ideas:
        return [t(lang, "ideas.board_empty")]
    lines = [t(lang, "ideas.board_title", shown=len(found.ideas), total=found.total)]
    for card in found.ideas:
        link = message_link(card.chat_id, card.message_id) if card.message_id else None
        number = f'<a href="{link}">#{card.id}</a>' if link else f"#{card.id}"
        lines.append(
            t(lang, "ideas.board_line", number=number, up=card.up, down=card.down)
            + " "
            + _quote(card.text)
        )
    lines.append(t(lang, "ideas.board_footer"))
    return lines
