"""Pure rules for circles: names and their keys, hashtags in a message, call limits and who
is reached how."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.circles import Delivery

MAX_NAME = 32
MAX_DESCRIPTION = 200
LIST_DESCRIPTION = 60  # descriptions are cut to this in lists, so ~30 circles fit a message
MAX_CALL_TEXT = 500  # a /call's text, refused above this before the call's slot is taken
PROPOSAL_TTL = timedelta(days=7)  # an unanswered proposal lapses and frees its name
MENTIONS_PER_MESSAGE = 5  # never more people mentioned in one message
MENTION_MAX_MEMBERS = 10  # bigger circles are reached privately or in the digest only
CIRCLE_COOLDOWN = timedelta(hours=1)  # one call per circle per hour
CALLER_WINDOW = timedelta(days=1)
CALLS_PER_CALLER = 3  # three calls per caller per day
DORMANT_AFTER = timedelta(days=30)

_NAME = re.compile(r"^\w{1,32}$")
# a `#` right after a letter, digit, `/` or a link's punctuation is part of a link
# (`…/setup#rules`), not a hashtag; the tag ends where its word does
_HASHTAG = re.compile(r"(?<![\w/#&=?])#(\w{1,32})(?!\w)")
_LINK = re.compile(r"\S+://\S*")  # anything with a scheme is a link, whatever follows a `#`
_AT = re.compile(r"@(?=\w)")


def circle_key(name: str) -> str:
    """The name as compared: NFKC, case folded, ё = е (`Йога` and `ЙОГА` are one circle)."""
    return unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")


def valid_name(name: str) -> bool:
    """One word of letters, digits or `_`, up to 32 characters, so `#name` can call it.
    What is stored counts: the name as typed (combining marks make it longer than it
    looks) and its key (case folding makes `ß` two letters) both fit their columns."""
    return (
        bool(_NAME.match(unicodedata.normalize("NFKC", name)))
        and len(name) <= MAX_NAME
        and len(circle_key(name)) <= MAX_NAME
    )


def hashtag_keys(text: str) -> list[str]:
    """The keys of the hashtags in a message, in order, without repeats; a `#` inside a
    link (`https://docs.example.com/setup#rules`) is no hashtag."""
    if "#" not in text:  # the per-message path: most messages stop here
        return []
    if "://" in text:
        text = _LINK.sub(" ", text)
    return list(dict.fromkeys(circle_key(tag) for tag in _HASHTAG.findall(text)))


def defuse_mentions(text: str) -> str:
    """A caller's text posted by the bot mentions nobody: a word joiner after each `@`
    keeps `@name` readable but no longer a mention (the five-a-message rule holds)."""
    return _AT.sub("@\u2060", text)


def message_link(chat_id: int, message_id: int) -> str:
    """A link to a message of a supergroup (members open it; t.me/c needs no username)."""
    internal = str(chat_id).removeprefix("-100") if chat_id < 0 else str(chat_id)
    return f"https://t.me/c/{internal.lstrip('-')}/{message_id}"


@dataclass(frozen=True)
class Refusal:
    """A call over its limit: when the caller may call again."""

    until: datetime
    circle_limit: bool  # the circle's hour (else the caller's three a day)


def call_refusal(
    now: datetime, circle_calls: Sequence[datetime], caller_calls: Sequence[datetime]
) -> Refusal | None:
    """None when the call may go out; given the circle's calls within the last hour and
    the caller's within the last day (oldest first)."""
    if circle_calls:
        return Refusal(circle_calls[-1] + CIRCLE_COOLDOWN, True)
    if len(caller_calls) >= CALLS_PER_CALLER:
        return Refusal(caller_calls[-CALLS_PER_CALLER] + CALLER_WINDOW, False)
    return None


@dataclass(frozen=True)
class Recipient:
    user_id: int
    delivery: str
    reachable: bool


@dataclass(frozen=True)
class Routes:
    """Who a call reaches how."""

    mention: list[int]
    private: list[int]
    digest: list[int]


def route(recipients: Iterable[Recipient], caller_id: int) -> Routes:
    """Each member's choice, except: a big circle mentions nobody (private instead), and
    someone the bot cannot write to privately gets the call in the digest."""
    people = [r for r in recipients if r.user_id != caller_id and r.delivery != Delivery.OFF]
    big = len(people) > MENTION_MAX_MEMBERS
    routes = Routes([], [], [])
    for person in people:
        how = person.delivery
        if how == Delivery.MENTION and big:
            how = Delivery.PRIVATE
        if how == Delivery.PRIVATE and not person.reachable:
            how = Delivery.DIGEST
        {Delivery.MENTION: routes.mention, Delivery.PRIVATE: routes.private}.get(
            Delivery(how), routes.digest
        ).append(person.user_id)
    return routes


def chunks(items: Sequence[int], size: int = MENTIONS_PER_MESSAGE) -> list[list[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
