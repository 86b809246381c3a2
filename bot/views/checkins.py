"""Check-in texts and buttons: invites, the private answer flow, the digest, opt-in, pauses,
nudges and the admins' commands. Pure: values in, text (and buttons) out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.i18n import format_moment, t
from bot.messages import utf16_length
from bot.notifier import Button, Keyboard
from bot.services.checkins.digest import Fitted, Tally, clip, fit
from bot.services.checkins.questions import Question
from bot.views.callbacks import CheckinBegin, CheckinOptIn, CheckinShare, CheckinSkip

if TYPE_CHECKING:
    from bot.services.checkin_schedule import WeeklySlot

DEEP_LINK = "ci_"  # /start ci_{round}: the group post's link into the private flow
SHARE_CHOICES = ("name", "anon", "no")

Screen = tuple[str, Keyboard | None]

# Chat titles, names, questions and answers come in as raw text and are escaped here.


def default_question_texts(lang: str) -> tuple[str, str, str]:
    """The default questions: what went well, what was hard, and the support question."""
    return (
        t(lang, "checkin.questions.well"),
        t(lang, "checkin.questions.hard"),
        t(lang, "checkin.questions.support"),
    )


def _answer_button(lang: str, round_id: int) -> Keyboard:
    return [[Button(t(lang, "checkin.answer_button"), data=CheckinBegin(round_id=round_id).pack())]]


def invite(lang: str, chat: str, round_id: int, closes: datetime, zone: ZoneInfo) -> Screen:
    text = t(lang, "checkin.invite", chat=escape(chat), until=format_moment(lang, closes, zone))
    return text, _answer_button(lang, round_id)


def reminder(lang: str, chat: str, round_id: int, closes: datetime, zone: ZoneInfo) -> Screen:
    text = t(lang, "checkin.reminder", chat=escape(chat), until=format_moment(lang, closes, zone))
    return text, _answer_button(lang, round_id)


def group_post(
    lang: str, round_id: int, closes: datetime, zone: ZoneInfo, bot_username: str
) -> Screen:
    """The post opening a round in the group; its button links into the private flow."""
    text = t(lang, "checkin.post", until=format_moment(lang, closes, zone))
    if not bot_username:
        return text, None
    link = f"https://t.me/{bot_username}?start={DEEP_LINK}{round_id}"
    return text, [[Button(t(lang, "checkin.post_button"), url=link)]]


def support_request(
    lang: str, *, to_buddy: bool, name: str, chat: str, request: str, fallback: bool = False
) -> str:
    """A support request for the buddy, or for the admins (`fallback`: the person has a buddy
    the bot cannot write to)."""
    if to_buddy:
        key = "checkin.support_buddy"
    else:
        key = "checkin.support_admins_fallback" if fallback else "checkin.support_admins"
    return t(lang, key, name=escape(name), chat=escape(chat), request=escape(request))


def support_unreachable(lang: str, chat: str) -> str:
    """To the person: neither their buddy nor any admin could receive their request."""
    return t(lang, "checkin.support_unreachable", chat=escape(chat))


def _digest_section(lang: str, heading: str, fitted: Fitted) -> list[str]:
    more = [t(lang, "checkin.digest_more", n=fitted.more)] if fitted.more else []
    return ["", t(lang, heading), *fitted.shown, *more]


def digest(lang: str, tally: Tally) -> str:
    """The group digest, within `DIGEST_LIMIT` UTF-16 units: milestones take at most half,
    wins the rest; whatever does not fit is counted as "…and N more"."""
    heading = t(lang, "checkin.digest_title", n=tally.participants)
    milestones = [
        t(lang, "checkin.digest_milestone", name=escape(who), weeks=weeks)
        if who
        else t(lang, "checkin.digest_milestone_anon", weeks=weeks)
        for who, weeks in tally.milestones
    ]
    wins = [
        t(lang, "checkin.digest_win", win=escape(win), name=escape(name))
        if name
        else t(lang, "checkin.digest_win_anon", win=escape(win))
        for win, name in tally.wins
    ]
    shown_milestones, shown_wins = fit(heading, milestones, wins)
    lines = [heading]
    if milestones:
        lines += _digest_section(lang, "checkin.digest_milestones", shown_milestones)
    if wins:
        lines += _digest_section(lang, "checkin.digest_wins", shown_wins)
    if not tally.participants:
        lines.append(t(lang, "checkin.digest_nobody"))
    if tally.thanks:
        lines.append(t(lang, "thanks.digest", n=tally.thanks))
    return "\n".join(lines)


def closed(lang: str) -> str:
    return t(lang, "checkin.closed")


def not_member(lang: str) -> str:
    return t(lang, "checkin.not_member")


def stale(lang: str) -> str:
    return t(lang, "checkin.stale")


def cannot_skip(lang: str) -> str:
    return t(lang, "checkin.cannot_skip")


def taken_as_first(lang: str, chat: str, next_screen: str) -> str:
    """Text typed before pressing Answer was taken as the first answer; then what comes next."""
    return t(lang, "checkin.taken_as_first", chat=escape(chat)) + "\n\n" + next_screen


def which_round(lang: str, rounds: Sequence[tuple[int, str]]) -> Screen:
    """Text typed while several check-ins await the person: which one is it for?"""
    buttons = [
        [
            Button(
                t(lang, "checkin.answer_for", chat=title[:48]), data=CheckinBegin(round_id=r).pack()
            )
        ]
        for r, title in rounds
    ]
    return t(lang, "checkin.which_round"), buttons


def intro(lang: str, chat: str, count: int, *, editing: bool) -> str:
    if editing:
        return t(lang, "checkin.editing", chat=escape(chat))
    return t(lang, "checkin.intro", chat=escape(chat), n=count)


def question(
    lang: str,
    round_id: int,
    questions: Sequence[Question],
    step: int,
    previous: str | None,
    intro: str = "",
) -> Screen:
    """Question `step` (from 0), with the earlier answer when editing; a support question
    can be skipped."""
    asked = questions[step]
    text = t(lang, "checkin.question", n=step + 1, total=len(questions), text=escape(asked.text))
    if previous:
        text += t(lang, "checkin.previous", answer=escape(previous))
    if intro:
        text = f"{intro}\n\n{text}"
    if not asked.support:
        return text, None
    skip = CheckinSkip(round_id=round_id).pack()
    return text, [[Button(t(lang, "checkin.skip_button"), data=skip)]]


def _share_buttons(lang: str, round_id: int) -> Keyboard:
    return [
        [
            Button(
                t(lang, f"checkin.share_{choice}"),
                data=CheckinShare(round_id=round_id, choice=choice).pack(),
            )
        ]
        for choice in SHARE_CHOICES
    ]


def share_question(lang: str, round_id: int) -> Screen:
    return t(lang, "checkin.share_question"), _share_buttons(lang, round_id)


def choose_share(lang: str, round_id: int) -> Screen:
    """Another message after the last question: the share buttons are what comes next."""
    return t(lang, "checkin.choose_share"), _share_buttons(lang, round_id)


def answer_cut(lang: str, limit: int, screen: Screen) -> Screen:
    """`screen` after a note that the answer was cut to `limit` characters."""
    note = t(lang, "checkin.answer_cut", limit=limit)
    return f"{note}\n\n{screen[0]}", screen[1]


def thanks(
    lang: str,
    round_id: int,
    answered: Sequence[tuple[Question, str | None]],
    width: int | None,
    choice: str,
    closes: datetime,
    zone: ZoneInfo,
) -> Screen:
    """The saved answers (each cut to `width` when they would not fit one message), how the
    win is shared, and a button to change them while the round is open."""
    summary = "\n".join(
        t(
            lang,
            "checkin.summary_line",
            question=escape(q.text),
            answer=escape(clip(answer, width) if width else answer) if answer else "—",
        )
        for q, answer in answered
    )
    if width:
        summary += "\n" + t(lang, "checkin.summary_cut")
    text = t(
        lang,
        "checkin.thanks",
        summary=summary,
        share=t(lang, f"checkin.shared_{choice}"),
        until=format_moment(lang, closes, zone),
    )
    edit = CheckinBegin(round_id=round_id).pack()
    return text, [[Button(t(lang, "checkin.edit_button"), data=edit)]]


def offer(lang: str, chat: str, chat_id: int, slot: WeeklySlot) -> Screen:
    """After verification: would the newcomer like to take part?"""
    text = t(
        lang,
        "checkin.offer",
        chat=escape(chat),
        when=t(lang, f"checkin.weekday.{slot.weekday}"),
        at=f"{slot.at:%H:%M}",
    )
    buttons = [
        [
            Button(
                t(lang, "checkin.offer_yes"), data=CheckinOptIn(chat_id=chat_id, on=True).pack()
            ),
            Button(
                t(lang, "checkin.offer_no"), data=CheckinOptIn(chat_id=chat_id, on=False).pack()
            ),
        ]
    ]
    return text, buttons


def offer_answered(lang: str, on: bool) -> str:
    return t(lang, "checkin.offer_accepted" if on else "checkin.offer_declined")


def status(lang: str, chats: Sequence[tuple[str, bool]]) -> list[str]:
    """Whether the person takes part, per chat (raw titles), and how to change it (lines)."""
    lines = [
        t(lang, "checkin.status_on" if on else "checkin.status_off", chat=escape(name))
        for name, on in chats
    ]
    return [*lines, t(lang, "checkin.opt_usage")]


OPTED_CHATS_LIMIT = 3500  # UTF-16 units of chat titles per message: the rest in the next


def opted(lang: str, on: bool, titles: Sequence[str]) -> list[str]:
    """The answer to /checkins on|off: the chats it applied to (raw titles); one message per
    `OPTED_CHATS_LIMIT` of titles, each a whole sentence."""
    if not titles:
        return [t(lang, "checkin.opt_none")]
    groups: list[list[str]] = [[]]
    size = 0
    for title in titles:
        name = f"“{escape(title)}”"
        if groups[-1] and size + utf16_length(name) + 2 > OPTED_CHATS_LIMIT:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += utf16_length(name) + 2
    key = "checkin.opted_in" if on else "checkin.opted_out"
    return [t(lang, key, chats=", ".join(group)) for group in groups]


def private_only(lang: str) -> str:
    """/pause in a group: check-in specific wording of the private-only refusal."""
    return t(lang, "checkin.private_only")


def resumed(lang: str) -> str:
    return t(lang, "checkin.resumed")


def pause_usage(lang: str) -> str:
    return t(lang, "checkin.pause_usage")


def paused(lang: str, until: datetime, zone: ZoneInfo) -> str:
    return t(lang, "checkin.paused", until=format_moment(lang, until, zone))


def started(lang: str, already_open: bool, closes: datetime, zone: ZoneInfo) -> str:
    """The answer to /checkin_now: started, or one was open already (until when)."""
    key = "checkin.now_already" if already_open else "checkin.now_started"
    return t(lang, key, until=format_moment(lang, closes, zone))


def questions_shown(lang: str, questions: Sequence[Question], own: bool) -> str:
    lines = "\n".join(
        t(
            lang,
            "checkin.questions_line",
            n=i + 1,
            text=escape(q.text),
            support=t(lang, "checkin.questions_support") if q.support else "",
        )
        for i, q in enumerate(questions)
    )
    own_text = t(lang, "checkin.questions_own") if own else ""
    return t(lang, "checkin.questions_show", own=own_text, questions=lines)


def questions_saved(lang: str, count: int) -> str:
    return t(lang, "checkin.questions_saved", n=count)


def questions_reset(lang: str) -> str:
    return t(lang, "checkin.questions_reset")


def questions_bad(lang: str) -> str:
    return t(lang, "checkin.questions_bad")


def nudge(lang: str, chat: str) -> str:
    return t(lang, "checkin.nudge", chat=escape(chat))


def nudge_buddy(lang: str, name: str, chat: str) -> str:
    return t(lang, "checkin.nudge_buddy", name=escape(name), chat=escape(chat))
