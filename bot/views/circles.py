"""What circles say and which buttons they show: lists, the private toggle list, proposal
posts, calls (mentions by `tg://user?id=` links, at most five a message) and the weekly
messages. Pure: values in, text (and buttons) out."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape
from typing import TYPE_CHECKING

from bot.i18n import format_moment, t
from bot.messages import MESSAGE_LIMIT, utf16_length
from bot.notifier import Button, Keyboard
from bot.services.circles.rules import LIST_DESCRIPTION, MAX_CALL_TEXT, defuse_mentions
from bot.views.callbacks import CircleClose, CircleDelivery, CircleSupport, CircleToggle
from models.circles import Delivery

if TYPE_CHECKING:  # the services build their texts here: no import cycle at run time
    from bot.services.circles.book import CircleInfo, Menu

MENU_LIMIT = MESSAGE_LIMIT - 96  # the HTML's tags count here, not in Telegram's count
DIGEST_LINES = 40  # ~100 characters a line at most: 40 fit one message
DELIVERIES = (Delivery.MENTION, Delivery.PRIVATE, Delivery.DIGEST, Delivery.OFF)


def say(lang: str, key: str, **values: object) -> str:
    """A plain circles text; names in `values` are escaped."""
    return t(lang, f"circles.{key}", **{k: escape(str(v)) for k, v in values.items()})


def _short(text: str) -> str:
    """A description as lists show it: the first LIST_DESCRIPTION characters."""
    return text if len(text) <= LIST_DESCRIPTION else text[: LIST_DESCRIPTION - 1] + "…"


def _line(lang: str, circle: CircleInfo) -> str:
    about = f" — {escape(_short(circle.description))}" if circle.description else ""
    return t(lang, "circles.line", name=escape(circle.name), n=circle.members, about=about)


def listing(lang: str, circles: list[CircleInfo]) -> list[str]:
    """/circles in the group, and the answer to an unknown name: lines for
    `reply_lines`, which splits them into messages Telegram accepts."""
    if not circles:
        return [t(lang, "circles.none")]
    return [t(lang, "circles.header"), *(_line(lang, c) for c in circles)]


def unknown(lang: str, name: str, circles: list[CircleInfo]) -> list[str]:
    return [say(lang, "unknown", name=name), "", *listing(lang, circles)]


def _fitted(lang: str, head: str, lines: list[str], tail: str) -> str:
    """One message (it carries the buttons): the circles' lines that fit, then how many
    more there are (each still has its button)."""
    room = MENU_LIMIT - utf16_length(head) - utf16_length(tail) - 2
    if sum(utf16_length(line) + 1 for line in lines) <= room:
        return "\n".join([head, *lines, tail])
    room -= utf16_length(t(lang, "circles.more", n=len(lines))) + 1
    shown: list[str] = []
    for line in lines:
        room -= utf16_length(line) + 1
        if room < 0:
            break
        shown.append(line)
    more = t(lang, "circles.more", n=len(lines) - len(shown))
    return "\n".join([head, *shown, more, tail])


def menu(lang: str, menu: Menu, offer: bool = False) -> tuple[str, Keyboard]:
    """The private toggle list of one chat's circles, and how calls reach the person."""
    head = say(lang, "offer" if offer else "menu", chat=menu.title)
    tail = t(lang, "circles.delivery_now", how=t(lang, f"circles.how.{menu.delivery}"))
    text = _fitted(lang, head, [_line(lang, c) for c in menu.circles], tail)
    keyboard: Keyboard = []
    for circle in menu.circles:
        mark = "✅ " if circle.id in menu.mine else ""
        data = CircleToggle(circle_id=circle.id).pack()
        keyboard.append([Button(f"{mark}{circle.name}", data)])
    row = []
    for how in DELIVERIES:
        mark = "• " if menu.delivery == how else ""
        data = CircleDelivery(chat_id=menu.chat_id, how=how.value).pack()
        row.append(Button(mark + t(lang, f"circles.how.{how}"), data))
    keyboard.append(row)
    return text, keyboard


def proposal(lang: str, name: str, circle_id: int, count: int, quorum: int) -> tuple[str, Keyboard]:
    text = say(lang, "proposal", name=name, n=count, quorum=quorum)
    button = Button(t(lang, "circles.im_in"), CircleSupport(circle_id=circle_id).pack())
    return text, [[button]]


def proposal_opened(lang: str, name: str, count: int) -> str:
    return say(lang, "proposal_opened", name=name, n=count)


def _mention(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{escape(name)}</a>'


def call_mentions(
    lang: str, name: str, link: str, text: str | None, people: list[tuple[int, str]]
) -> str:
    """One group message of a call: at most five people are ever passed in (rules.chunks)."""
    assert len(people) <= 5, "never more than five mentions in one message"
    said = f"\n{escape(defuse_mentions(text))}" if text else ""
    mentions = ", ".join(_mention(user_id, person) for user_id, person in people)
    return t(lang, "circles.call", name=escape(name), link=link, text=said, people=mentions)


def call_too_long(lang: str) -> str:
    return t(lang, "circles.call_too_long", n=MAX_CALL_TEXT)


def call_private(lang: str, name: str, link: str, text: str | None) -> str:
    said = f"\n{escape(defuse_mentions(text))}" if text else ""
    return t(lang, "circles.call_private", name=escape(name), link=link, text=said)


def too_soon(lang: str, name: str, until: datetime, zone: tzinfo) -> str:
    return t(lang, "circles.too_soon", name=escape(name), when=format_moment(lang, until, zone))


def digest(lang: str, calls: list[tuple[str, str]]) -> str:
    """The week's calls, the latest DIGEST_LINES of them: one private message, always
    under Telegram's limit (several busy circles call up to 168 times a week each)."""
    lines = [t(lang, "circles.digest")]
    shown = calls[-DIGEST_LINES:]
    if len(calls) > len(shown):
        lines.append(t(lang, "circles.digest_more", n=len(calls) - len(shown)))
    lines += [t(lang, "circles.digest_line", name=escape(n), link=link) for n, link in shown]
    return "\n".join(lines)


def dormant(lang: str, title: str, circles: list[tuple[int, str]]) -> tuple[str, Keyboard]:
    lines = [say(lang, "dormant", chat=title), *(f"• {escape(name)}" for _, name in circles)]
    keyboard: Keyboard = [
        [Button(t(lang, "circles.close", name=name), CircleClose(circle_id=cid).pack())]
        for cid, name in circles
    ]
    return "\n".join(lines), keyboard
