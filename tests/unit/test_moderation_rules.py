"""The per-message rules as a pure decision: no database, no Telegram, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.services.moderation.rules import (
    ALLOW,
    FLOOD_MUTE_CAP,
    Ask,
    AuditEntry,
    Breach,
    Fact,
    Notice,
    NoticeKind,
    Rules,
    Verdict,
    decide,
    flood_mute,
)
from bot.services.moderation.stopwords import compile_phrases, matches, normalise
from bot.services.moderation.values import Action, Incoming
from bot.services.people import Person
from models.members import TrustLevel

CHAT = -1001234567890
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULES = Rules(flood_limit=(5, timedelta(seconds=10)), flood_mute=timedelta(minutes=10))
ANNA = Person(42, "Anna")
CHANNEL = Person(-1009876543210, "Some channel")


def msg(text: str = "", level: str = TrustLevel.MEMBER, **extra: object) -> Incoming:
    values: dict[str, object] = {
        "chat_id": CHAT,
        "message_id": 7,
        "sender": ANNA,
        "level": level,
        "at": NOW,
        "text": text,
    }
    values.update(extra)
    return Incoming(**values)  # type: ignore[arg-type]


def run(
    message: Incoming, rules: Rules = RULES, answers: Mapping[Fact, int] | None = None
) -> tuple[Verdict, list[Ask]]:
    """Decide, answering each question from `answers` (a fact not given is False/0), and
    return the verdict with the questions in the order they were asked."""
    given = dict(answers or {})
    facts: dict[Fact, int] = {}
    asked: list[Ask] = []
    step = decide(message, rules, facts, NOW)
    while isinstance(step, Ask):
        assert step.fact not in facts, f"asked twice for {step.fact}"
        asked.append(step)
        facts[step.fact] = given.get(step.fact, 0)
        step = decide(message, rules, facts, NOW)
    return step, asked


def facts_asked(asked: list[Ask]) -> list[Fact]:
    return [ask.fact for ask in asked]


def test_an_ordinary_message_is_counted_and_allowed() -> None:
    verdict, asked = run(msg("hello"), answers={"flood_count": 5})
    assert verdict is ALLOW
    assert asked == [
        Ask("held", f"e:{CHAT}:42"),
        Ask("stop_word"),
        Ask("flood_count", f"f:{CHAT}:42", 10.0),
    ]


def test_a_pending_member_is_left_to_the_verification_gate() -> None:
    assert run(msg("spam", level=TrustLevel.PENDING)) == (ALLOW, [])


def test_flood_deletes_mutes_tells_and_records() -> None:
    verdict, asked = run(
        msg("hi"), answers={"flood_count": 6, "recent_floods": 0, "episode_new": 1}
    )
    until = NOW + timedelta(minutes=10)
    assert verdict == Verdict(
        allow=False,
        breach=Breach.FLOOD,
        delete=True,
        mute_until=until,
        notice=Notice(NoticeKind.FLOOD, timedelta(minutes=10)),
        audit=AuditEntry(Action.FLOOD, "flood", until),
    )
    assert asked[-1] == Ask("episode_new", f"e:{CHAT}:42", 600.0)
    assert facts_asked(asked)[-3:] == ["admin", "recent_floods", "episode_new"]


def test_the_rest_of_a_burst_is_only_deleted() -> None:
    verdict, _ = run(msg("hi"), answers={"flood_count": 7, "episode_new": 0})
    assert verdict == Verdict(allow=False, breach=Breach.FLOOD, delete=True)


def test_while_a_flood_episode_runs_every_message_is_deleted_without_counting() -> None:
    verdict, asked = run(msg("hi"), answers={"held": 1})
    assert verdict == Verdict(allow=False, breach=Breach.HELD, delete=True)
    assert facts_asked(asked) == ["held"]


def test_newcomers_have_their_own_flood_limit() -> None:
    rules = replace(RULES, newcomer_flood_limit=(2, timedelta(minutes=1)))
    newcomer, asked = run(msg(level=TrustLevel.NEWCOMER), rules, {"flood_count": 3})
    assert newcomer.breach is Breach.FLOOD
    assert Ask("flood_count", f"f:{CHAT}:42", 60.0) in asked
    member, _ = run(msg(level=TrustLevel.MEMBER), rules, {"flood_count": 3})
    assert member is ALLOW


def test_flood_limit_off_counts_nothing() -> None:
    verdict, asked = run(msg("hi"), replace(RULES, flood_limit=None))
    assert verdict is ALLOW
    assert "flood_count" not in facts_asked(asked)


@pytest.mark.parametrize(
    ("recent", "minutes"), [(0, 10), (1, 20), (2, 40), (3, 80), (7, 1280), (8, 1440), (50, 1440)]
)
def test_the_flood_mute_doubles_within_24_hours_up_to_a_day(recent: int, minutes: int) -> None:
    assert flood_mute(timedelta(minutes=10), recent) == timedelta(minutes=minutes)
    verdict, asked = run(
        msg("hi"), answers={"flood_count": 6, "recent_floods": recent, "episode_new": 1}
    )
    assert verdict.mute_until == NOW + timedelta(minutes=minutes)
    assert asked[-1].seconds == minutes * 60  # the episode lasts as long as the mute


def test_the_cap_is_a_day() -> None:
    assert timedelta(days=1) == FLOOD_MUTE_CAP
    assert flood_mute(timedelta(seconds=1), 10_000) == timedelta(days=1)


def test_slow_mode_allows_one_message_per_interval() -> None:
    rules = replace(RULES, slowmode=timedelta(minutes=1))
    free, asked = run(msg("hi"), rules, {"slot_free": 1})
    assert free is ALLOW
    assert asked[-1] == Ask("slot_free", f"s:{CHAT}:42", 60.0)
    taken, asked = run(msg("hi"), rules, {"slow_notice_due": 1})
    assert taken == Verdict(
        allow=False,
        breach=Breach.SLOWMODE,
        delete=True,
        notice=Notice(NoticeKind.SLOWMODE, timedelta(minutes=1)),
        audit=AuditEntry(Action.DELETE, "slow mode", post=False),
    )
    assert asked[-1] == Ask("slow_notice_due", f"sn:{CHAT}:42", 60.0)
    again, _ = run(msg("hi"), rules, {"slow_notice_due": 0})
    assert again == Verdict(allow=False, breach=Breach.SLOWMODE, delete=True)


def test_slow_mode_lets_commands_through() -> None:
    rules = replace(RULES, slowmode=timedelta(minutes=1))
    verdict, asked = run(msg("/warns", command=True), rules)
    assert verdict is ALLOW
    assert "slot_free" not in facts_asked(asked)


NEWCOMER_RULES = replace(RULES, newcomer_links=True, newcomer_forwards=True)


@pytest.mark.parametrize(
    "extra", [{"has_link": True}, {"from_channel": True}], ids=["link", "forward"]
)
def test_newcomers_may_not_post_links_or_forwards(extra: dict[str, object]) -> None:
    message = msg("look", level=TrustLevel.NEWCOMER, **extra)
    verdict, asked = run(message, NEWCOMER_RULES, {"explain_due": 1})
    assert verdict == Verdict(
        allow=False,
        breach=Breach.NEWCOMER,
        delete=True,
        notice=Notice(NoticeKind.NEWCOMER),
        audit=AuditEntry(Action.DELETE, "newcomer limits", post=False),
    )
    assert asked[-1] == Ask("explain_due", f"x:{CHAT}:42", 600.0)
    assert "flood_count" not in facts_asked(asked)  # removed, so not counted
    quiet, _ = run(message, NEWCOMER_RULES, {"explain_due": 0})
    assert quiet == Verdict(allow=False, breach=Breach.NEWCOMER, delete=True)
    member, _ = run(replace(message, level=TrustLevel.MEMBER), NEWCOMER_RULES)
    assert member is ALLOW
    off, _ = run(message, RULES)
    assert off is ALLOW


def test_a_newcomers_mention_of_a_channel_counts_as_a_link() -> None:
    message = msg("see @somechannel", level=TrustLevel.NEWCOMER, mentions=("somechannel",))
    channel, asked = run(message, NEWCOMER_RULES, {"channel_mention": 1})
    assert channel.breach is Breach.NEWCOMER
    assert "channel_mention" in facts_asked(asked)
    person, _ = run(message, NEWCOMER_RULES, {"channel_mention": 0})
    assert person is ALLOW
    _, asked = run(msg("no mentions", level=TrustLevel.NEWCOMER), NEWCOMER_RULES)
    assert "channel_mention" not in facts_asked(asked)


def test_a_stop_word_removes_warns_and_tells() -> None:
    verdict, asked = run(msg("casino"), answers={"stop_word": 1})
    assert verdict == Verdict(
        allow=False,
        breach=Breach.STOP_WORD,
        delete=True,
        warn=True,
        notice=Notice(NoticeKind.STOP_WORD),
    )
    assert facts_asked(asked) == ["held", "stop_word", "admin"]


def test_a_message_without_text_is_not_searched_for_stop_words() -> None:
    _, asked = run(msg(""))
    assert "stop_word" not in facts_asked(asked)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Play CASINO now", True),
        ("casinos", False),
        ("суперказино", False),
        ("ЕЩЁ РАЗ", True),
        ("еще   раз!", True),
        ("ещё разок", False),
    ],
)
def test_stop_words_are_whole_words_in_any_case_with_yo_as_ye(text: str, expected: bool) -> None:
    pattern = compile_phrases([normalise(p) for p in ("casino", "ещё раз")])
    assert matches(pattern, text) is expected
    assert matches(None, text) is False


@pytest.mark.parametrize(
    ("message", "rules", "answers"),
    [
        (msg("casino"), RULES, {"stop_word": 1}),
        (msg("hi"), RULES, {"flood_count": 9}),
        (msg("hi"), replace(RULES, slowmode=timedelta(minutes=1)), {}),
        (msg("x", level=TrustLevel.NEWCOMER, has_link=True), NEWCOMER_RULES, {}),
    ],
    ids=["stop word", "flood", "slow mode", "newcomer link"],
)
def test_admins_are_exempt(message: Incoming, rules: Rules, answers: dict[Fact, int]) -> None:
    verdict, asked = run(message, rules, {**answers, "admin": 1})
    assert verdict is ALLOW
    assert asked[-1].fact == "admin"  # asked once a rule fired, and nothing after
    not_admin, _ = run(message, rules, answers)
    assert not not_admin.allow


def test_the_admin_list_is_not_consulted_while_nothing_fires() -> None:
    _, asked = run(msg("hello"), replace(RULES, slowmode=timedelta(minutes=1)), {"slot_free": 1})
    assert "admin" not in facts_asked(asked)


def test_a_channel_posting_in_the_group_is_held_to_the_rules() -> None:
    post = msg("hi", sender=CHANNEL)
    verdict, asked = run(post, answers={"flood_count": 6, "episode_new": 1})
    assert verdict.breach is Breach.FLOOD
    assert asked[0] == Ask("held", f"e:{CHAT}:{CHANNEL.id}")
    stop, _ = run(post, answers={"stop_word": 1})
    assert stop.breach is Breach.STOP_WORD


def test_edits_are_checked_for_content_but_not_counted() -> None:
    edit = msg("casino", edited=True)
    verdict, asked = run(edit, answers={"stop_word": 1, "held": 1})
    assert verdict.breach is Breach.STOP_WORD
    assert "held" not in facts_asked(asked)  # an edit of an older message stays
    link = msg("x", level=TrustLevel.NEWCOMER, has_link=True, edited=True)
    assert run(link, NEWCOMER_RULES)[0].breach is Breach.NEWCOMER
    rules = replace(RULES, slowmode=timedelta(minutes=1))
    clean, asked = run(msg("fine", edited=True), rules, {"flood_count": 99})
    assert clean is ALLOW
    assert facts_asked(asked) == ["stop_word"]


def test_a_newcomer_with_too_many_mentions_is_removed_even_in_an_edit() -> None:
    rules = replace(RULES, mention_limit=5)
    for edited in (False, True):
        message = msg("hi all", TrustLevel.NEWCOMER, mention_count=6, edited=edited)
        verdict, asked = run(message, rules)
        assert verdict.breach is Breach.MENTIONS and verdict.delete
        assert verdict.notice == Notice(NoticeKind.MENTIONS)
        assert "admin" in facts_asked(asked)
    within, _ = run(msg("hi all", TrustLevel.NEWCOMER, mention_count=5), rules)
    assert within is ALLOW
    member, _ = run(msg("hi all", mention_count=20), rules)
    assert member is ALLOW
    off, _ = run(
        msg("hi", TrustLevel.NEWCOMER, mention_count=50), replace(rules, mention_limit=None)
    )
    assert off is ALLOW
