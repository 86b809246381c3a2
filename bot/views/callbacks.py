"""The button protocol: every inline button's callback data, as aiogram `CallbackData` classes.

Views pack them, handlers filter on them (`Offer.filter()`), nothing else builds or parses
callback strings. The wire format is the one buttons already posted in chats carry
(`hearth:offer:-100…`, `ci:a:42`, `rep:7:ban`), so a button sent before an upgrade still works:
the fixed first field of the `hearth`/`ci` families is a `Literal` tag that tells them apart.
Telegram limits callback data to 64 bytes; every class here stays far below that.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Button data can be forged: numbers outside what the columns hold would fail in the database
# (PostgreSQL refuses an integer beyond its column's range) instead of being a stale button.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
"""A row's id (INTEGER columns)."""
TelegramId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
"""A chat's or a person's Telegram id (BIGINT columns)."""
Days = Annotated[int, Field(ge=1, le=3650)]


class Verify(CallbackData, prefix="hearth"):
    """ "I have read the rules" under a welcome: only the newcomer's own press counts."""

    op: Literal["verify"] = "verify"


class AcceptRules(CallbackData, prefix="hearth"):
    """Accept button in the private message that answers a join request."""

    op: Literal["accept"] = "accept"
    chat_id: TelegramId


class BuddyFollowup(CallbackData, prefix="hearth"):
    """The newcomer's answer to "have you connected with your buddy?"."""

    op: Literal["fu"] = "fu"
    chat_id: TelegramId
    answer: Literal["y", "n"]


class Offer(CallbackData, prefix="hearth"):
    """Send me an invoice for this chat (first payment or renewal)."""

    op: Literal["offer"] = "offer"
    chat_id: TelegramId


class CancelSubscription(CallbackData, prefix="hearth"):
    """Turn renewal off for this chat."""

    op: Literal["cancel"] = "cancel"
    chat_id: TelegramId


class ResumeSubscription(CallbackData, prefix="hearth"):
    """Turn renewal back on for this chat."""

    op: Literal["resume"] = "resume"
    chat_id: TelegramId


class RefundChat(CallbackData, prefix="hearth"):
    """/refund in private: list this chat's recent payments (to the admin who asked)."""

    op: Literal["refunds"] = "refunds"
    chat_id: TelegramId


ReportAction = Literal["delete", "warn", "mute", "ban", "dismiss"]


class ReportChoice(CallbackData, prefix="rep"):
    """An admin's decision on a report card."""

    report_id: RowId
    choice: ReportAction


class CheckinBegin(CallbackData, prefix="ci"):
    """Answer (or edit the answers to) a check-in round."""

    op: Literal["a"] = "a"
    round_id: RowId


class CheckinSkip(CallbackData, prefix="ci"):
    """Skip the current check-in question."""

    op: Literal["k"] = "k"
    round_id: RowId


class CheckinShare(CallbackData, prefix="ci"):
    """Whether the win may be shared in the round's digest, and how."""

    op: Literal["s"] = "s"
    round_id: RowId
    choice: str


class CheckinOptIn(CallbackData, prefix="ci"):
    """Yes/no to the check-in offer made after verification."""

    op: Literal["o"] = "o"
    chat_id: TelegramId
    on: bool


class AtRiskChat(CallbackData, prefix="drift"):
    """/atrisk in private: list who is drifting away in this chat (to the admin who asked)."""

    op: Literal["c"] = "c"
    chat_id: TelegramId


class AskBuddy(CallbackData, prefix="drift"):
    """/atrisk: ask this member's buddy to say hi (privately; admins only, checked on press)."""

    op: Literal["b"] = "b"
    chat_id: TelegramId
    user_id: TelegramId


class StatsChat(CallbackData, prefix="st"):
    """/stats in private: this chat's figures (or its CSV) over `days`, to the admin who asked."""

    chat_id: TelegramId
    days: Days
    csv: bool = False


class PrivacyTotals(CallbackData, prefix="pv"):
    """/privacy: count me only in totals (`on`), or show me in lists again."""

    op: Literal["t"] = "t"
    on: bool


class ForgetConfirm(CallbackData, prefix="pv"):
    """/forget asks once more: erase everything (`yes`), or keep it."""

    op: Literal["f"] = "f"
    yes: bool


class IdeaVote(CallbackData, prefix="idea"):
    """👍 (`up`) or 👎 under an idea on the board; the same button again takes the vote back."""

    idea_id: RowId
    up: bool


class KbOpen(CallbackData, prefix="kb"):
    """Open a knowledge-base entry found by /kb or suggested privately."""

    op: Literal["o"] = "o"
    id: RowId


class KbHelped(CallbackData, prefix="kb"):
    """ "This helped" under an opened entry (counted)."""

    op: Literal["h"] = "h"
    id: RowId


class KbConsentAnswer(CallbackData, prefix="kb"):
    """A story's author answers privately: share with the name, anonymously, or not."""

    op: Literal["c"] = "c"
    id: RowId
    choice: Literal["n", "a", "x"]


class KbDecide(CallbackData, prefix="kb"):
    """An admin or a veteran approves (y) or rejects (n) a story awaiting approval."""

    op: Literal["d"] = "d"
    id: RowId
    ok: Literal["y", "n"]


class KbWin(CallbackData, prefix="kb"):
    """A check-in win's author answers whether to keep it as a story (n, a or x)."""

    op: Literal["w"] = "w"
    round: RowId
    choice: Literal["n", "a", "x"]


class CircleToggle(CallbackData, prefix="cc"):
    """Join or leave this circle (the private list of a chat's circles)."""

    op: Literal["t"] = "t"
    circle_id: RowId


class CircleDelivery(CallbackData, prefix="cc"):
    """How calls of my circles in this chat reach me: mention, private, digest or off."""

    op: Literal["d"] = "d"
    chat_id: TelegramId
    how: str


class CircleSupport(CallbackData, prefix="cc"):
    """ "I'm in" under a proposed circle."""

    op: Literal["s"] = "s"
    circle_id: RowId


class CircleClose(CallbackData, prefix="cc"):
    """An admin closes a dormant circle (checked on press)."""

    op: Literal["x"] = "x"
    circle_id: RowId
