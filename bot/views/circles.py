"""What circles say and which buttons they show: lists, the private toggle list, proposal
posts, calls (mentions by `tg://user?id=` links, at most five a message) and the weekly
messages. Pure: values in, text (and buttons) out."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape
from typing import TYPE_CHECKING

from bot.i18n import format_moment, t
from bot.notifier import Button, Keyboard
from bot.views.callbacks import CircleClose, CircleDelivery, CircleSupport, CircleToggle
from models.circles import Delivery

if TYPE_CHECKING:  # the services build their texts here: no import cycle at run time
    from bot.services.circles.book import CircleInfo, Menu

DELIVERIES = (Delivery.MENTION, Delivery.PRIVATE, Delivery.DIGEST, Delivery.OFF)


def say(lang: str, key: str, **values: object) -> str:
    """A plain circles text; names in `values` are escaped."""
    return t(lang, f"circles.{key}", **{k: escape(str(v)) for k, v in values.items()})


def _line(lang: str, circle: CircleInfo) -> str:
    about = f" — {escape(circle.description)}" if circle.description else ""
    return t(lang, "circles.line", name=escape(circle.name), n=circle.members, about=about)


def listing(lang: str, circles: list[CircleInfo]) -> str:
    """/circles in the group, and the answer to an unknown name."""
    if not circles:
        return t(lang, "circles.none")
    return "\n".join([t(lang, "circles.header"), *(_line(lang, c) for c in circles)])


def unknown(lang: str, name: str, circles: list[CircleInfo]) -> str:
    return "\n\n".join([say(lang, "unknown", name=name), listing(lang, circles)])


def menu(lang: str, menu: Menu, offer: bool = False) -> tuple[str, Keyboard]:
    """The private toggle list of one chat's circles, and how calls reach the person."""
    head = "offer" if offer else "menu"
    lines = [say(lang, head, chat=menu.title), *(_line(lang, c) for c in menu.circles)]
    lines.append(t(lang, "circles.delivery_now", how=t(lang, f"circles.how.{menu.delivery}")))
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
    return "\n".join(lines), keyboard


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
    said = f"\n{escape(text)}" if text else ""
    mentions = ", ".join(_mention(user_id, person) for user_id, person in people)
    return t(lang, "circles.call", name=escape(name), link=link, text=said, people=mentions)


def call_private(lang: str, name: str, link: str, text: str | None) -> str:
    said = f"\n{escape(text)}" if text else ""
    return t(lang, "circles.call_private", name=escape(name), link=link, text=said)


def too_soon(lang: str, name: str, until: datetime, zone: tzinfo) -> str:
    return t(lang, "circles.too_soon", name=escape(name), when=format_moment(lang, until, zone))


def digest(lang: str, calls: list[tuple[str, str]]) -> str:
    lines = [t(lang, "circles.digest")]
    lines += [t(lang, "circles.digest_line", name=escape(n), link=link) for n, link in calls]
    return "\n".join(lines)


def dormant(lang: str, title: str, circles: list[tuple[int, str]]) -> tuple[str, Keyboard]:
    lines = [say(lang, "dormant", chat=title), *(f"• {escape(name)}" for _, name in circles)]
    keyboard: Keyboard = [
        [Button(t(lang, "circles.close", name=name), CircleClose(circle_id=cid).pack())]
        for cid, name in circles
    ]
    return "\n".join(lines), keyboard
