"""Texts and buttons of the buddy system: introductions, private notes, follow-ups, /buddy."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape
from typing import Literal

from bot.i18n import format_moment, t
from bot.notifier import Button, Keyboard
from bot.services.buddies.outcomes import Change, Followup, Volunteer
from bot.services.buddies.readouts import BuddyView
from bot.services.people import Person, mention
from bot.views.callbacks import BuddyFollowup

Note = Literal[
    "intro_newcomer",
    "intro_buddy",
    "waiting",
    "changed_old",
    "graduated_newcomer",
    "graduated_buddy",
    "nudge",
]


def who(user_id: int, name: str) -> str:
    """A person as named in buddy messages (a mention that works without a username)."""
    return mention(user_id, name)


def note(language: str, kind: Note, chat_title: str, **values: str) -> str:
    """A private message to a newcomer or a buddy about their pair in `chat_title`."""
    return t(language, f"buddy.{kind}", chat=escape(chat_title), **values)


def interest_list(tags: list[str]) -> str:
    """A newcomer's interests for their buddy's introduction (escaped: they are free text)."""
    return escape(", ".join(tags)) or "—"


def intro_group(language: str, newcomer: str, buddy: str) -> str:
    return t(language, "buddy.intro_group", newcomer=newcomer, buddy=buddy)


def waiting_admins(language: str) -> str:
    return t(language, "buddy.waiting_admins")


def followup(language: str, chat_id: int, chat_title: str, buddy: str) -> tuple[str, Keyboard]:
    """Asked some days after pairing: have you connected with your buddy?"""
    buttons: Keyboard = [
        [
            Button(
                t(language, "buddy.followup_yes"),
                data=BuddyFollowup(chat_id=chat_id, answer="y").pack(),
            ),
            Button(
                t(language, "buddy.followup_no"),
                data=BuddyFollowup(chat_id=chat_id, answer="n").pack(),
            ),
        ]
    ]
    return t(language, "buddy.followup", buddy=buddy, chat=escape(chat_title)), buttons


def followup_answer(language: str, answer: Followup) -> str:
    key = {
        Followup.NO_BUDDY: "buddy.none",
        Followup.CONNECTED: "buddy.followup_glad",
        Followup.NUDGED: "buddy.followup_nudged",
    }
    return t(language, key[answer])


def volunteer_result(
    language: str, outcome: Volunteer, name: str, eligible: str | None = None
) -> str:
    if outcome == Volunteer.NOT_YET and eligible is not None:
        return t(language, "buddy.volunteer_not_yet", when=eligible)
    key = {
        Volunteer.ADDED: "buddy.volunteer_added",
        Volunteer.ALREADY: "buddy.volunteer_already",
        Volunteer.NOT_IN_CHAT: "buddy.volunteer_not_in_chat",
        Volunteer.NOT_YET: "buddy.volunteer_not_in_chat",
    }
    return t(language, key[outcome], name=name)


def volunteer_off(language: str, left: bool) -> str:
    return t(language, "buddy.volunteer_off" if left else "buddy.volunteer_off_not")


def change_result(language: str, outcome: Change) -> str:
    key = {
        Change.CHANGED: "buddy.changed",
        Change.NO_BUDDY: "buddy.none",
        Change.LIMIT: "buddy.change_limit",
    }
    return t(language, key[outcome])


def interests_usage(language: str, current: list[str]) -> str:
    usage = t(language, "buddy.interests_usage")
    if not current:
        return usage
    return interests_saved(language, current) + "\n\n" + usage


def interests_saved(language: str, tags: list[str]) -> str:
    return t(language, "buddy.interests_saved", tags=escape(", ".join(tags)))


def interests_cleared(language: str) -> str:
    return t(language, "buddy.interests_cleared")


def buddy_view(
    language: str,
    buddy: Person | None,
    newcomers: list[Person],
    waiting: bool,
    volunteer: bool,
) -> str:
    """/buddy: your buddy (or your place in the queue), and your newcomers."""
    lines = _view_lines(language, buddy, newcomers, waiting, volunteer)
    return "\n".join(lines) or t(language, "buddy.show_nothing")


def buddy_everywhere(language: str, chats: list[tuple[str, BuddyView]]) -> list[str]:
    """/buddy in private: for each chat (raw title) with something to show, its title and
    what /buddy shows there; lines, so that many chats are split over messages."""
    lines: list[str] = []
    for title, view in chats:
        shown = _view_lines(language, view.buddy, view.newcomers, view.waiting, view.volunteer)
        if shown:
            lines += [*([""] if lines else []), f"<b>{escape(title)}</b>", *shown]
    return lines or [t(language, "buddy.show_nothing_anywhere")]


def change_in_group(language: str) -> str:
    return t(language, "buddy.change_in_group")


def _view_lines(
    language: str,
    buddy: Person | None,
    newcomers: list[Person],
    waiting: bool,
    volunteer: bool,
) -> list[str]:
    lines = []
    if buddy is not None:
        lines.append(t(language, "buddy.show_buddy", buddy=buddy.mention))
    elif waiting:
        lines.append(t(language, "buddy.show_waiting"))
    if newcomers:
        names = ", ".join(p.mention for p in newcomers)
        lines.append(t(language, "buddy.show_newcomers", newcomers=names))
    elif volunteer:
        lines.append(t(language, "buddy.show_volunteer_idle"))
    return lines


def setbuddy_usage(language: str) -> str:
    return t(language, "buddy.setbuddy_usage")


def setbuddy_failed(language: str) -> str:
    return t(language, "buddy.setbuddy_failed")


def setbuddy_done(language: str, buddy: Person, newcomer: Person) -> str:
    return t(language, "buddy.setbuddy_done", buddy=buddy.mention, newcomer=newcomer.mention)


def overview(
    language: str,
    zone: tzinfo,
    pairs: list[tuple[Person, Person, datetime]],
    loads: list[tuple[Person, int]],
    waiting: list[tuple[Person, datetime]],
) -> list[str]:
    """/buddies for admins: pairs, each buddy's load, the waiting list (lines: a long list is
    split between them, never inside a mention)."""

    def moment(when: datetime) -> str:
        return format_moment(language, when, zone)

    empty = t(language, "buddy.overview_empty")
    lines = [t(language, "buddy.overview_pairs")]
    lines += [
        t(language, "buddy.overview_pair", newcomer=n.mention, buddy=b.mention, since=moment(s))
        for n, b, s in pairs
    ] or [empty]
    lines += ["", t(language, "buddy.overview_loads")]
    lines += [t(language, "buddy.overview_load", buddy=b.mention, load=n) for b, n in loads] or [
        empty
    ]
    lines += ["", t(language, "buddy.overview_waiting")]
    lines += [
        t(language, "buddy.overview_wait", newcomer=n.mention, since=moment(s)) for n, s in waiting
    ] or [empty]
    return lines
