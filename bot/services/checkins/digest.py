"""What a closed round adds up to, and how much of it fits one Telegram message.

Pure: no database, no I/O. `rounds` feeds it each entry, the check-in views turn the tally
into text and ask `fit` which of their lines fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.notifier import MESSAGE_LIMIT, utf16_length
from bot.services.checkins.questions import Question

MILESTONES = (4, 12, 26, 52)
DIGEST_LIMIT = 3500  # UTF-16 code units, as Telegram counts (its limit is 4096)
DIGEST_SLACK = 200  # headings, "…and N more" lines
SUMMARY_LIMIT = MESSAGE_LIMIT - 400  # the "Saved" summary, leaving room for its frame
SHARED = ("name", "anon")


@dataclass
class Tally:
    """A closed round: how many took part, who reached a milestone (the name only of those
    who chose to share with their name, else None), the wins they shared (the win, and the
    name or None for an anonymous one). Names and wins are raw text."""

    participants: int = 0
    milestones: list[tuple[str | None, int]] = field(default_factory=list)
    wins: list[tuple[str, str | None]] = field(default_factory=list)
    thanks: int = 0  # thanks given in the chat this week (a count, no names)


@dataclass(frozen=True)
class StreakCount:
    current: int
    best: int


def next_streak(streak: StreakCount, *, done: bool, paused: bool) -> StreakCount:
    """The streak after a round: one more for an answer, kept over a paused week, else 0."""
    if not done:
        return streak if paused else StreakCount(0, streak.best)
    current = streak.current + 1
    return StreakCount(current, max(streak.best, current))


def is_milestone(weeks: int) -> bool:
    return weeks in MILESTONES


def win_of(questions: Sequence[Question], answers: Sequence[str | None]) -> str | None:
    """The answer to the first question that is not a support request: the shareable win."""
    index = next((i for i, q in enumerate(questions) if not q.support), None)
    return answers[index] if index is not None and index < len(answers) else None


def shared_win(
    questions: Sequence[Question], answers: Sequence[str | None], share: str | None, name: str
) -> tuple[str, str | None] | None:
    """The win as it goes into the digest (with the name, or anonymous), if shared at all."""
    win = win_of(questions, answers)
    if not win or share not in SHARED:
        return None
    return win, name if share == "name" else None


def milestone_name(share: str | None, name: str) -> str | None:
    """The name a milestone is shown with: only theirs who chose to share with their name."""
    return name if share == "name" else None


def support_requests(
    questions: Sequence[Question], answers: Sequence[str | None]
) -> list[tuple[int, str]]:
    """(question index, request) for each support question answered."""
    return [
        (index, answers[index])  # type: ignore[misc]  # checked just below
        for index, q in enumerate(questions)
        if q.support and index < len(answers) and answers[index]
    ]


def capped(lines: Sequence[str], budget: int) -> tuple[list[str], int]:
    """As many of `lines` as fit in `budget` UTF-16 units; and how many were left out."""
    kept: list[str] = []
    used = 0
    for line in lines:
        size = utf16_length(line) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return kept, len(lines) - len(kept)


@dataclass(frozen=True)
class Fitted:
    """The lines of one digest section that fit, and how many more there were."""

    shown: list[str]
    more: int


def fit(title: str, milestones: Sequence[str], wins: Sequence[str]) -> tuple[Fitted, Fitted]:
    """Which milestone and win lines fit the digest under `title`, within `DIGEST_LIMIT`:
    milestones take at most half when there are wins, the wins the rest."""
    budget = DIGEST_LIMIT - utf16_length(title) - DIGEST_SLACK
    shown, more = capped(milestones, budget // 2 if wins else budget)
    first = Fitted(shown, more)
    budget -= sum(utf16_length(x) + 1 for x in shown)
    shown, more = capped(wins, budget)
    return first, Fitted(shown, more)


def clip(text: str, units: int) -> str:
    """`text` cut to at most `units` UTF-16 code units (an ellipsis marks the cut)."""
    if utf16_length(text) <= units:
        return text
    out, size = [], 1
    for char in text:
        size += utf16_length(char)
        if size > units:
            break
        out.append(char)
    return "".join(out).rstrip() + "…"


def summary_width(questions: Sequence[Question], answers: Sequence[str | None]) -> int | None:
    """How long each answer may be in the "Saved" summary so it fits one message; None when
    every answer fits as it is."""
    room = SUMMARY_LIMIT - sum(utf16_length(q.text) + 10 for q in questions)
    each = max(40, room // max(1, len(questions)))
    shortened = any(a and utf16_length(a) > each for a in answers[: len(questions)])
    return each if shortened else None
