"""What a closed round adds up to, and the digest that says it within Telegram's limit."""

from __future__ import annotations

from bot.notifier import utf16_length
from bot.services.checkins import digest
from bot.services.checkins.digest import StreakCount, Tally
from bot.services.checkins.questions import Question
from bot.views import checkins as views

QUESTIONS = [Question("Well?"), Question("Help?", support=True), Question("Hard?")]


def test_the_digest_fits_telegram_with_many_milestones_and_emoji_wins() -> None:
    tally = Tally(
        participants=300,
        milestones=[(f"Person with a long name number {i}", 4) for i in range(150)],
        wins=[("🎉🌟💪" * 60, f"Winner {i}") for i in range(100)],
    )
    text = views.digest("en", tally)
    assert utf16_length(text) <= 4096
    assert text.count("more.") == 2  # milestones and wins are both capped, and say so
    assert "Person with a long name number 0" in text and "Winner 0" in text


def test_the_digest_escapes_names_and_wins_and_says_when_nobody_came() -> None:
    text = views.digest("en", Tally(1, [("<b>Ann</b>", 4)], [("1 < 2", None)]))
    assert "&lt;b&gt;Ann&lt;/b&gt; — 4 weeks" in text and "1 &lt; 2 — (anonymously)" in text
    assert "Nobody" not in text
    assert "Nobody checked in" in views.digest("en", Tally())


def test_milestones_take_half_when_there_are_wins_else_everything() -> None:
    line = "x" * 99  # 100 units with its newline
    milestones, wins = [line] * 40, [line] * 40
    budget = digest.DIGEST_LIMIT - utf16_length("T") - digest.DIGEST_SLACK
    first, second = digest.fit("T", milestones, wins)
    assert len(first.shown) == (budget // 2) // 100 and first.more == 40 - len(first.shown)
    assert len(first.shown) + len(second.shown) == budget // 100
    alone, none = digest.fit("T", milestones, [])
    assert len(alone.shown) == min(40, budget // 100) and none == digest.Fitted([], 0)


def test_capped_counts_utf16_units_like_telegram() -> None:
    assert digest.capped(["🎉" * 5, "ab"], 11) == (["🎉" * 5], 1)  # 10 units and a newline
    assert digest.capped(["🎉" * 5, "ab"], 14) == (["🎉" * 5, "ab"], 0)
    assert digest.capped([], 0) == ([], 0)


def test_streaks_grow_keep_over_a_paused_week_and_reset() -> None:
    run = StreakCount(3, 5)
    assert digest.next_streak(run, done=True, paused=False) == StreakCount(4, 5)
    assert digest.next_streak(StreakCount(5, 5), done=True, paused=False) == StreakCount(6, 6)
    assert digest.next_streak(run, done=False, paused=True) == run
    assert digest.next_streak(run, done=False, paused=False) == StreakCount(0, 5)
    assert digest.next_streak(run, done=True, paused=True) == StreakCount(4, 5)
    assert [w for w in range(60) if digest.is_milestone(w)] == [4, 12, 26, 52]


def test_the_win_is_the_first_question_that_is_not_support() -> None:
    support_first = [Question("Help?", support=True), Question("Well?")]
    assert digest.win_of(support_first, ["please", "fine"]) == "fine"
    assert digest.win_of(support_first, ["please"]) is None
    assert digest.shared_win(QUESTIONS, ["fine"], "name", "Ann") == ("fine", "Ann")
    assert digest.shared_win(QUESTIONS, ["fine"], "anon", "Ann") == ("fine", None)
    assert digest.shared_win(QUESTIONS, ["fine"], "no", "Ann") is None
    assert digest.shared_win(QUESTIONS, [None], "name", "Ann") is None


def test_support_requests_are_the_answered_support_questions() -> None:
    two = [*QUESTIONS, Question("More?", support=True)]
    assert digest.support_requests(two, ["a", "call me", "b", "and me"]) == [
        (1, "call me"),
        (3, "and me"),
    ]
    assert digest.support_requests(two, ["a", None, "b"]) == []


def test_clip_and_the_summary_width() -> None:
    assert digest.clip("short", 10) == "short"
    assert digest.clip("🎉🎉🎉🎉", 5) == "🎉🎉…"
    assert digest.summary_width(QUESTIONS, ["a", None, "b"]) is None
    long = "x" * 2000
    width = digest.summary_width(QUESTIONS, [long, long, long])
    assert width is not None and 3 * width < digest.SUMMARY_LIMIT
